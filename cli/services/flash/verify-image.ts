import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { fileBlockIo } from '../../adapters/block-file.js';
import { PiswarmError } from '../../errors.js';
import { BLOCK, MBR_SIZE, SEGMENT, type WrittenImage } from './write-image.js';

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
  let bytesRead = 0;
  for (let blockStart = 0; blockStart < image.size; blockStart += BLOCK) {
    options.signal?.throwIfAborted();
    const blockEnd = Math.min(blockStart + BLOCK, image.size);
    const first = blockStart / SEGMENT;
    const last = Math.ceil(blockEnd / SEGMENT);
    const wanted = (s: number) => image.segmentHashes[s] !== undefined || options.readSkipped;
    // Read the span from the first to the last segment of this block that must be read.
    let lo = first;
    while (lo < last && !wanted(lo)) lo++;
    let hi = last;
    while (hi > lo && !wanted(hi - 1)) hi--;
    const from = lo * SEGMENT;
    const to = Math.min(hi * SEGMENT, blockEnd);
    const data = to > from ? await card.read(from, to - from) : Buffer.alloc(0);
    bytesRead += data.length;
    if (from === 0 && data.length >= MBR_SIZE) image.mbr.copy(data, 0);
    for (let s = first; s < last; s++) {
      const start = s * SEGMENT;
      const length = Math.min(SEGMENT, image.size - start);
      const expected = image.segmentHashes[s];
      const segment = s >= lo && s < hi ? data.subarray(start - from, start - from + length) : zeros.subarray(0, length);
      const ok = expected ? createHash('sha256').update(segment).digest().equals(expected) : segment.equals(zeros.subarray(0, length));
      if (!ok) throw new VerificationError(target, start);
      hash.update(segment);
    }
    options.onProgress?.(blockEnd);
  }
  if (hash.digest('hex') !== image.sha256) throw new VerificationError(target, 0);
  return { bytesRead };
}
