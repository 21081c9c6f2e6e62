import type { FileHandle } from 'node:fs/promises';
import type { BlockIo } from '../core/fat.js';

/** BlockIo over an open file or block device, shifted to start at `base` (a partition's offset). */
export function fileBlockIo(handle: FileHandle, base = 0): BlockIo {
  return {
    async read(offset, length) {
      const buffer = Buffer.alloc(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(buffer, done, length - done, base + offset + done);
        if (bytesRead === 0) throw new Error(`Unexpected end of device at byte ${base + offset + done}.`);
        done += bytesRead;
      }
      return buffer;
    },
    async write(offset, data) {
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await handle.write(data, done, data.length - done, base + offset + done);
        done += bytesWritten;
      }
    },
  };
}
