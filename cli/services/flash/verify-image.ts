import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { fileBlockIo } from '../../adapters/block-file.js';
import { PiswarmError } from '../../errors.js';
import { MBR_SIZE, SEGMENT, type WrittenImage } from './write-image.js';

export class VerificationError extends PiswarmError {
  constructor(
    readonly target: string,
    readonly firstBadOffset: number,
  ) {
    super(`Verification failed: ${target} does not hold the image from byte ${firstBadOffset} (the ${SEGMENT / 1024} KiB range ${firstBadOffset}–${firstBadOffset + SEGMENT - 1} differs).`, {
      hint: 'The card is bad or fake, or something else wrote to it. It was not personalised and will not boot; try another card.',
    });
  }
}

/** Large reads keep the card streaming; two buffers alternate (one read, one compared). */
const READ_BLOCK = 4 * 1024 * 1024;

export interface VerifyOptions {
  /** Also read back the ranges skipped as zeros (slower; proves them on any device). */
  readSkipped: boolean;
  onProgress?: (bytes: number) => void;
  signal?: AbortSignal;
}

/**
 * Reads the written ranges back from the card (the caller has flushed the cache, so this is
 * the card, not memory) and compares them segment by segment, then recomputes the image's
 * SHA-256 from what was read. The MBR is not on the card yet; its bytes come from memory.
 */
export async function verifyImage(handle: FileHandle, target: string, image: WrittenImage, options: VerifyOptions): Promise<{ bytesRead: number }> {
  const hash = createHash('sha256');
  const zeros = Buffer.alloc(SEGMENT);
  const card = fileBlockIo(handle);
  const wanted = (s: number) => image.segmentHashes[s] !== undefined || options.readSkipped;
  const blocks = planReads(image.size, wanted);
  const buffers = [Buffer.allocUnsafe(READ_BLOCK), Buffer.allocUnsafe(READ_BLOCK)];
  const read = ({ from, to }: BlockRead, index: number) => card.read(from, to - from, buffers[index % 2]);
  let bytesRead = 0;
  // The next block is read while this one is compared, so the card never waits for the hashing.
  let next = blocks.length > 0 ? read(blocks[0]!, 0) : undefined;
  for (const [index, block] of blocks.entries()) {
    options.signal?.throwIfAborted();
    const data = await next!;
    next = index + 1 < blocks.length ? read(blocks[index + 1]!, index + 1) : undefined;
    next?.catch(() => undefined);
    bytesRead += data.length;
    const { from, to, start: blockStart, end: blockEnd } = block;
    if (from === 0 && data.length >= MBR_SIZE) image.mbr.copy(data, 0);
    for (let s = blockStart / SEGMENT; s < Math.ceil(blockEnd / SEGMENT); s++) {
      const start = s * SEGMENT;
      const length = Math.min(SEGMENT, image.size - start);
      const expected = image.segmentHashes[s];
      const segment = start >= from && start < to ? data.subarray(start - from, start - from + length) : zeros.subarray(0, length);
      const ok = expected ? createHash('sha256').update(segment).digest().equals(expected) : segment.equals(zeros.subarray(0, length));
      if (!ok) throw new VerificationError(target, start);
      hash.update(segment);
    }
    options.onProgress?.(blockEnd);
  }
  if (hash.digest('hex') !== image.sha256) throw new VerificationError(target, 0);
  return { bytesRead };
}

interface BlockRead {
  /** The image block [start, end). */
  start: number;
  end: number;
  /** The span read from the card: from the block's first to its last segment that must be read. */
  from: number;
  to: number;
}

function planReads(size: number, wanted: (segment: number) => boolean): BlockRead[] {
  const plan: BlockRead[] = [];
  for (let start = 0; start < size; start += READ_BLOCK) {
    const end = Math.min(start + READ_BLOCK, size);
    let lo = start / SEGMENT;
    let hi = Math.ceil(end / SEGMENT);
    while (lo < hi && !wanted(lo)) lo++;
    while (hi > lo && !wanted(hi - 1)) hi--;
    plan.push({ start, end, from: lo * SEGMENT, to: Math.min(hi * SEGMENT, end) });
  }
  return plan;
}
