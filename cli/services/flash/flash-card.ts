import { fileBlockIo } from '../../adapters/block-file.js';
import { openImage, readImageHead } from '../../adapters/image-source.js';
import { discardForZeroSkip, dropCache, type OpenTarget } from '../../adapters/flash-target.js';
import type { CommandRunner } from '../../adapters/process.js';
import type { CardSettings } from '../../core/card-settings.js';
import type { FirstBootFormat } from '../../core/first-boot.js';
import { bootPartition } from '../../core/mbr.js';
import { PiswarmError } from '../../errors.js';
import { checkPersonalisation, personaliseCard } from './personalise-card.js';
import { verifyImage } from './verify-image.js';
import { MBR_SIZE, writeImage } from './write-image.js';

export type FlashPhase = 'write' | 'verify' | 'personalise';

export interface FlashProgress {
  phase(phase: FlashPhase, done: number, total?: number): void;
  note(message: string): void;
}

export interface FlashCardResult {
  hostname: string;
  target: string;
  image: string;
  sha256: string;
  size: number;
  bytesWritten: number;
  bytesRead: number;
  zeroBlocksSkipped: boolean;
  format: FirstBootFormat;
  files: string[];
  seconds: number;
}

export interface FlashCardOptions {
  imagePath: string;
  target: OpenTarget;
  settings: CardSettings;
  /** Read back the skipped zero ranges too, not just what was written. */
  verifyAll: boolean;
  progress: FlashProgress;
  signal?: AbortSignal;
}

/**
 * Flashes one card: wipe its MBR, stream the image on (zero blocks skipped where that is safe),
 * read it back from the card, personalise the boot partition and read that back, and only then
 * write the MBR. Anything that fails before the end leaves a card that does not boot.
 */
export async function flashCard(runner: CommandRunner, options: FlashCardOptions): Promise<FlashCardResult> {
  const started = Date.now();
  const { target, progress, signal } = options;
  const { handle } = target;
  // Checked before the card is touched at all (discard included): is this a Pi image?
  bootPartition(await readImageHead(options.imagePath, MBR_SIZE));
  // An image known to be too large was refused with the drive; one whose size was only a guess stops while writing.
  const image = await openImage(options.imagePath);
  let skipZeros = target.kind === 'file';
  if (target.kind === 'device' && image.size !== undefined) {
    skipZeros = await discardForZeroSkip(runner, target, image.size);
    progress.note(skipZeros ? 'Card discarded: zero blocks will be skipped' : 'Card cannot discard: every block will be written');
  }

  const written = await writeImage(image.stream, handle, target.path, {
    skipZeros,
    capacity: target.capacity,
    signal,
    onProgress: (bytes) => progress.phase('write', bytes, image.size),
  });
  if (target.kind === 'file') await handle.truncate(written.size);
  await dropCache(runner, target);

  const { bytesRead } = await verifyImage(handle, target.path, written, {
    readSkipped: options.verifyAll,
    signal,
    onProgress: (bytes) => progress.phase('verify', bytes, written.size),
  });

  progress.phase('personalise', 0);
  const personalised = await personaliseCard(handle, written.mbr, options.settings);
  await dropCache(runner, target);
  await checkPersonalisation(handle, written.mbr, personalised.files, target.path);

  await handle.write(written.mbr, 0, MBR_SIZE, 0);
  await dropCache(runner, target);
  if (!(await fileBlockIo(handle).read(0, MBR_SIZE)).equals(written.mbr)) {
    throw new PiswarmError(`The partition table on ${target.path} does not read back as written.`, { hint: 'The card is failing; use another one.' });
  }
  progress.phase('personalise', 1, 1);
  return {
    hostname: options.settings.hostname,
    target: target.path,
    image: options.imagePath,
    sha256: written.sha256,
    size: written.size,
    bytesWritten: written.bytesWritten + MBR_SIZE,
    bytesRead,
    zeroBlocksSkipped: skipZeros,
    format: personalised.format,
    files: personalised.files.map((f) => f.name),
    seconds: (Date.now() - started) / 1000,
  };
}
