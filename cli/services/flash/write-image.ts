import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { fileBlockIo } from '../../adapters/block-file.js';
import { PiswarmError } from '../../errors.js';

/** Writes are issued in blocks this big; zero detection and verification work per segment. */
export const BLOCK = 4 * 1024 * 1024;
export const SEGMENT = 64 * 1024;
/** The MBR is held back and written last, so a card that was not finished does not boot. */
export const MBR_SIZE = 512;
const MAX_IN_FLIGHT = 8;
/**
 * Left alone, the kernel lets GBs of dirty pages pile up before it starts writing them, so the
 * card idles for seconds at the start. A flush every this many bytes keeps the card busy from
 * the first block and bounds the dirty memory (flushes count as writes in flight).
 */
const FLUSH_EVERY = 8 * 1024 * 1024;
/** Card readers report these once in a while and then carry on; a removed card (ENXIO, ENODEV) is not retried. */
const TRANSIENT = new Set(['EIO', 'EAGAIN', 'EINTR', 'EBUSY', 'ETIMEDOUT']);
const WRITE_ATTEMPTS = 3;
const RETRY_DELAY_MS = 200;
const ZERO_SEGMENT = Buffer.alloc(SEGMENT);

export interface WrittenImage {
  size: number;
  sha256: string;
  /** The image's first 512 bytes: not on the card until the very end. */
  mbr: Buffer;
  /** Per segment: its SHA-256 when written, undefined when skipped as all zeros. */
  segmentHashes: Array<Buffer | undefined>;
  bytesWritten: number;
}

export class CardWriteError extends PiswarmError {}

export interface WriteOptions {
  /** Only true when skipped ranges are known to read back as zeros (fresh file, discarded device). */
  skipZeros: boolean;
  /** The card's size; an image that turns out larger stops with a clear error. */
  capacity?: number;
  onProgress?: (bytes: number) => void;
  signal?: AbortSignal;
}

/**
 * Streams the image onto the card: hashing, zero detection and writing overlap with
 * decompression (up to eight writes and flushes in flight). Blocks are reused once their writes
 * are done, so memory stays flat whatever the image size.
 */
export async function writeImage(stream: Readable, handle: FileHandle, target: string, options: WriteOptions): Promise<WrittenImage> {
  const imageHash = createHash('sha256');
  const segmentHashes: Array<Buffer | undefined> = [];
  const inFlight = new Set<Promise<void>>();
  let mbr = Buffer.alloc(0);
  let offset = 0;
  let bytesWritten = 0;
  let unflushed = 0;
  const spareBlocks: Buffer[] = [];
  let block: Buffer = Buffer.allocUnsafe(BLOCK);
  let fill = 0;

  const card = fileBlockIo(handle);
  const write = async (data: Buffer, at: number) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await card.write(at, data);
        bytesWritten += data.length;
        return;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? '';
        if (!TRANSIENT.has(code) || attempt === WRITE_ATTEMPTS) throw describeWriteError(error, target, at, attempt);
        await delay(RETRY_DELAY_MS * attempt);
      }
    }
  };
  const flush = async (at: number) => {
    try {
      await handle.datasync();
    } catch (error) {
      throw describeWriteError(error, target, at);
    }
  };
  const track = async (operation: () => Promise<void>, record?: Array<Promise<void>>) => {
    while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
    const pending = operation().finally(() => inFlight.delete(pending));
    // Attach a handler now; the error is re-thrown when the writes are awaited below.
    pending.catch(() => undefined);
    inFlight.add(pending);
    record?.push(pending);
  };
  /** Queues one write, recorded in `writes` so its block can be reused after. */
  const issue = async (data: Buffer, at: number, writes: Array<Promise<void>>) => {
    await track(() => write(data, at), writes);
    unflushed += data.length;
    if (unflushed >= FLUSH_EVERY) {
      unflushed = 0;
      await track(() => flush(at));
    }
  };

  /** Issues the block's non-zero runs; resolves with their writes, once all are in flight. */
  const flushBlock = async (data: Buffer): Promise<Array<Promise<void>>> => {
    if (options.capacity !== undefined && offset + data.length > options.capacity) {
      throw new CardWriteError(`The image is larger than ${target} (${options.capacity} bytes); it was stopped at byte ${offset}.`, {
        hint: 'Use a larger card. The card is incomplete and will not boot.',
      });
    }
    if (offset === 0) {
      mbr = Buffer.from(data.subarray(0, MBR_SIZE));
      // The first write of all: without an MBR, an interrupted card cannot boot a half-written system.
      await write(Buffer.alloc(MBR_SIZE), 0);
      await handle.datasync();
    }
    imageHash.update(data);
    const writes: Array<Promise<void>> = [];
    let runStart = -1;
    for (let s = 0; s < data.length; s += SEGMENT) {
      const segment = data.subarray(s, s + SEGMENT);
      const skip = options.skipZeros && segment.equals(ZERO_SEGMENT.subarray(0, segment.length));
      segmentHashes.push(skip ? undefined : createHash('sha256').update(segment).digest());
      if (!skip && runStart < 0) runStart = s;
      if (skip && runStart >= 0) {
        await issueRun(data, runStart, s, writes);
        runStart = -1;
      }
    }
    if (runStart >= 0) await issueRun(data, runStart, data.length, writes);
    offset += data.length;
    options.onProgress?.(offset);
    return writes;
  };
  const issueRun = async (data: Buffer, from: number, to: number, writes: Array<Promise<void>>) => {
    const start = offset === 0 && from === 0 ? MBR_SIZE : from;
    if (start < to) await issue(data.subarray(start, to), offset + start, writes);
  };

  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      options.signal?.throwIfAborted();
      let used = 0;
      while (used < chunk.length) {
        const take = Math.min(BLOCK - fill, chunk.length - used);
        chunk.copy(block, fill, used, used + take);
        fill += take;
        used += take;
        if (fill === BLOCK) {
          const full = block;
          // The block goes back to the spares once its writes are done (or failed: then we stop anyway).
          void Promise.allSettled(await flushBlock(full)).then(() => spareBlocks.push(full));
          block = spareBlocks.pop() ?? Buffer.allocUnsafe(BLOCK);
          fill = 0;
        }
      }
    }
    if (fill > 0) await flushBlock(block.subarray(0, fill));
    await Promise.all(inFlight);
  } catch (error) {
    await Promise.allSettled(inFlight);
    stream.destroy();
    throw error;
  }
  if (offset < MBR_SIZE) throw new CardWriteError(`The image is only ${offset} bytes: not a disk image.`);
  return { size: offset, sha256: imageHash.digest('hex'), mbr, segmentHashes, bytesWritten };
}

function describeWriteError(error: unknown, target: string, at: number, attempts = 1): PiswarmError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC') {
    return new CardWriteError(`${target} is full at byte ${at}: the image is larger than the card.`, { hint: 'Use a larger card. The card is incomplete and will not boot.', cause: error });
  }
  if (code === 'EIO' || code === 'ENXIO' || code === 'ENODEV') {
    const tries = attempts > 1 ? `, ${attempts} tries` : '';
    return new CardWriteError(`Writing ${target} failed at byte ${at} (${code}${tries}): the card was removed or cannot be written.`, {
      hint: 'Check the card and reader, then flash it again. The card is incomplete and will not boot.',
      cause: error,
    });
  }
  return new CardWriteError(`Writing ${target} failed at byte ${at} (${code ?? (error as Error).message}).`, { hint: 'Flash the card again; it is incomplete and will not boot.', cause: error });
}
