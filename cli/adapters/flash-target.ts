import { constants } from 'node:fs';
import { lstat, open, readFile, realpath, stat, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { PiswarmError } from '../errors.js';
import type { CommandRunner } from './process.js';

export interface OpenTarget {
  path: string;
  kind: 'device' | 'file';
  handle: FileHandle;
  /** Bytes the target can hold; undefined for a file (it grows). */
  capacity?: number;
}

export class TargetError extends PiswarmError {}

/**
 * A new output file, created or emptied: unwritten ranges read back as zeros (sparse holes). The
 * image holds the card's SSH host key and password hash, so it is only the user's to read (0600),
 * and a symbolic link is refused rather than followed (it would truncate whatever it points at).
 */
export async function openOutputFile(path: string): Promise<OpenTarget> {
  const existing = await lstat(path).catch(() => undefined);
  if (existing?.isSymbolicLink()) throw new TargetError(`${path} is a symbolic link; piswarm does not write through one.`, { hint: 'Give the path of the file itself, or remove the link.' });
  if (existing?.isBlockDevice()) throw new TargetError(`${path} is a block device.`, { hint: `Use --device ${path} to flash a card.` });
  if (existing?.isDirectory()) throw new TargetError(`${path} is a directory.`, { hint: 'Give a file name for the card image, e.g. --output manager-01.img.' });
  if (existing && !existing.isFile()) throw new TargetError(`${path} is not a regular file.`, { hint: 'Give a file name for the card image, e.g. --output manager-01.img.' });
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw new TargetError(`${path} is a symbolic link; piswarm does not write through one.`, { hint: 'Give the path of the file itself.' });
    throw openError(path, error);
  }
  await handle.chmod(0o600); // an existing file keeps its mode through O_TRUNC
  return { path, kind: 'file', handle };
}

/** Opens a card exclusively: the kernel refuses while any partition of it is mounted. */
async function openDevice(path: string): Promise<OpenTarget> {
  const info = await stat(path).catch((error) => {
    throw openError(path, error);
  });
  if (!info.isBlockDevice()) throw new TargetError(`${path} is not a block device.`, { hint: 'Use --output FILE to write an image file, or --list to see the cards.' });
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDWR | constants.O_EXCL);
  } catch (error) {
    throw openError(path, error);
  }
  return { path, kind: 'device', handle, capacity: await deviceSize(path) };
}

/**
 * Opens the very device that was approved: by its resolved path (a name can be re-pointed after
 * the check), then compares the opened file's device number with the approved one.
 */
export async function openApprovedDevice(resolvedPath: string, approvedRdev: number, shownAs: string): Promise<OpenTarget> {
  const target = await openDevice(resolvedPath);
  try {
    await assertSameDevice(target.handle, approvedRdev, shownAs);
  } catch (error) {
    await target.handle.close();
    throw error;
  }
  return { ...target, path: resolvedPath };
}

export async function assertSameDevice(handle: FileHandle, approvedRdev: number, shownAs: string): Promise<void> {
  const { rdev } = await handle.stat();
  if (rdev !== approvedRdev) {
    throw new TargetError(`${shownAs} is no longer the drive that was checked (device ${rdev}, checked ${approvedRdev}); nothing was written.`, { hint: 'Run piswarm flash again, with the card in place.' });
  }
}

function openError(path: string, error: unknown): TargetError {
  const code = (error as NodeJS.ErrnoException).code;
  const messages: Record<string, [string, string]> = {
    ENOENT: [`${path} does not exist.`, 'Run `piswarm flash --list` to see the cards.'],
    EACCES: [`No permission to write ${path}.`, 'Run piswarm with sudo to write cards.'],
    EPERM: [`No permission to write ${path}.`, 'Run piswarm with sudo to write cards.'],
    EROFS: [`${path} is read-only.`, 'Slide the lock switch on the SD card (or adapter) to unlocked, and try again.'],
    EBUSY: [`${path} is in use (a partition is mounted or another program has it open).`, 'Unmount its partitions, or confirm with --yes to let piswarm unmount them.'],
  };
  const [message, hint] = messages[code ?? ''] ?? [`Can't open ${path} (${code}).`, 'Check the device and try again.'];
  return new TargetError(message, { hint, cause: error });
}

export async function deviceSize(path: string): Promise<number> {
  const name = basename(await realpath(path));
  const sectors = Number((await readFile(`/sys/class/block/${name}/size`, 'utf8')).trim());
  return sectors * 512;
}

/** Empties the kernel's cache of the target, so what is read next comes from the card itself. */
export async function dropCache(runner: CommandRunner, target: OpenTarget): Promise<void> {
  await target.handle.datasync();
  if (target.kind === 'device') await runner.run('blockdev', ['--flushbufs', target.path]);
  // GNU dd's nocache flag asks the kernel (posix_fadvise DONTNEED) to drop the file's cached pages.
  else await runner.run('dd', [`if=${target.path}`, 'iflag=nocache', 'count=0', 'status=none']);
}

/**
 * Discards the device range (TRIM), then reads samples of it back. Only when the device says it
 * discards and the samples read as zeros may zero blocks be skipped; verification proves the rest.
 */
export async function discardForZeroSkip(runner: CommandRunner, target: OpenTarget, length: number): Promise<boolean> {
  const name = basename(await realpath(target.path));
  const max = Number((await readFile(`/sys/class/block/${name}/queue/discard_max_bytes`, 'utf8').catch(() => '0')).trim());
  if (!(max > 0)) return false;
  const span = Math.ceil(length / 4096) * 4096;
  const result = await runner.run('blkdiscard', ['-f', '-o', '0', '-l', String(span), target.path], { allowFailure: true });
  if (result.code !== 0) return false;
  await dropCache(runner, target);
  const sample = Buffer.alloc(4096);
  for (let i = 1; i <= 16; i++) {
    const at = Math.floor((span / 17) * i / 4096) * 4096;
    await target.handle.read(sample, 0, sample.length, at);
    if (!sample.equals(Buffer.alloc(4096))) return false;
  }
  return true;
}
