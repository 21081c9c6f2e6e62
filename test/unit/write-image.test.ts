import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CardWriteError, writeImage } from '../../cli/services/flash/write-image.js';

const dir = mkdtempSync(join(tmpdir(), 'piswarm-write-'));

/** 9 MiB: random, a zero stretch, random; spans several 4 MiB blocks. */
function sampleImage(): Buffer {
  return Buffer.concat([randomBytes(3 << 20), Buffer.alloc(3 << 20), randomBytes(3 << 20)]);
}

/** A real file whose writes fail with `code` for the first `failures` calls (every call when Infinity). */
async function flakyCard(name: string, code: string, failures: number): Promise<{ handle: FileHandle; path: string; calls: () => number }> {
  const path = join(dir, name);
  const real = await open(path, 'w+');
  let calls = 0;
  const handle = new Proxy(real, {
    get(target, property, receiver) {
      if (property === 'write') {
        return (...args: Parameters<FileHandle['write']>) => {
          calls++;
          if (calls <= failures) return Promise.reject(Object.assign(new Error(`${code}: injected`), { code }));
          return (target.write as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { handle, path, calls: () => calls };
}

describe('writeImage', () => {
  it('writes the image with zero stretches skipped on a fresh file, hashing every written segment', async () => {
    const image = sampleImage();
    const { handle, path } = await flakyCard('plain.img', 'EIO', 0);
    const written = await writeImage(Readable.from([image]), handle, path, { skipZeros: true });
    await handle.truncate(written.size);
    await handle.close();
    // The zeroed MBR (512 bytes) plus every non-zero byte after it.
    expect(written.bytesWritten).toBe(6 << 20);
    expect(written.mbr.equals(image.subarray(0, 512))).toBe(true);
    expect(written.segmentHashes.filter((h) => h === undefined)).toHaveLength((3 << 20) / 65536);
    const onCard = readFileSync(path);
    expect(onCard.subarray(512).equals(image.subarray(512))).toBe(true);
    expect(onCard.subarray(0, 512).every((b) => b === 0)).toBe(true);
  });

  it('retries a transient I/O error and carries on', async () => {
    const image = sampleImage();
    const { handle, path, calls } = await flakyCard('flaky.img', 'EIO', 2);
    const written = await writeImage(Readable.from([image]), handle, path, { skipZeros: false });
    await handle.close();
    expect(calls()).toBeGreaterThan(2);
    expect(readFileSync(path).subarray(512).equals(image.subarray(512))).toBe(true);
    expect(written.size).toBe(image.length);
  });

  it('gives up after three tries on a card that keeps failing, saying it cannot be written', async () => {
    const { handle, path, calls } = await flakyCard('dead.img', 'EIO', Infinity);
    const failure = await writeImage(Readable.from([sampleImage()]), handle, path, { skipZeros: false }).catch((error: unknown) => error);
    await handle.close();
    expect(failure).toBeInstanceOf(CardWriteError);
    expect((failure as CardWriteError).message).toBe(`Writing ${path} failed at byte 0 (EIO, 3 tries): the card was removed or cannot be written.`);
    expect((failure as CardWriteError).hint).toContain('will not boot');
    expect(calls()).toBe(3);
  });

  it('does not retry a card that was removed', async () => {
    const { handle, path, calls } = await flakyCard('removed.img', 'ENODEV', Infinity);
    const failure = await writeImage(Readable.from([sampleImage()]), handle, path, { skipZeros: false }).catch((error: unknown) => error);
    await handle.close();
    expect((failure as CardWriteError).message).toBe(`Writing ${path} failed at byte 0 (ENODEV): the card was removed or cannot be written.`);
    expect(calls()).toBe(1);
  });
});
