import type { FileHandle } from 'node:fs/promises';
import type { BlockIo } from '../core/fat.js';
import { PiswarmError } from '../errors.js';

/** BlockIo over an open file or block device, shifted to start at `base` (a partition's offset). */
export function fileBlockIo(handle: FileHandle, base = 0): BlockIo {
  return {
    async read(offset, length, into) {
      const buffer = into ? into.subarray(0, length) : Buffer.alloc(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(buffer, done, length - done, base + offset + done);
        if (bytesRead === 0) {
          throw new PiswarmError(`The card ended at byte ${base + offset + done}, before the data did.`, { hint: 'The card is smaller than it claims: it may be fake.' });
        }
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
