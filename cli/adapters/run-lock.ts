import { readFileSync, unlinkSync } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { PiswarmError } from '../errors.js';
import { isProcessAlive } from './process.js';

/** Who holds the lock: written into it, named by a run that finds it taken. */
export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  since: string;
}

export interface RunLockOptions {
  /** How long a second run waits for the first to finish before it refuses. */
  waitMs: number;
  pollMs: number;
}

/**
 * One changing run per inventory at a time: `FILE.lock`, created exclusively, names its holder.
 * A second run waits a little for it, then refuses, naming the other run; a lock left by a
 * process of this machine that is gone is taken over. Released on return or exit, crash aside
 * (which is what the take-over is for). Returns the release.
 */
export async function acquireRunLock(inventoryFile: string, command: string, options: RunLockOptions = { waitMs: 5000, pollMs: 200 }): Promise<() => Promise<void>> {
  const file = `${inventoryFile}.lock`;
  const me: LockHolder = { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    if (await tryCreate(file, me)) break;
    const holder = await readHolder(file);
    if (holder && isGoneHere(holder)) {
      // Only the stale lock as it was read: never one another run just made.
      if ((await readFile(file, 'utf8').catch(() => '')) === JSON.stringify(holder)) await unlink(file).catch(() => undefined);
      continue;
    }
    if (Date.now() >= deadline) {
      const who = holder ? `another piswarm ${holder.command} (pid ${holder.pid}${holder.host === me.host ? '' : ` on ${holder.host}`}, since ${holder.since})` : 'another piswarm run';
      throw new PiswarmError(`${who} is changing the cluster of ${inventoryFile}.`, {
        hint: `Wait for it to finish and try again. If it is gone for good, remove ${file}.`,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs));
  }
  const releaseOnExit = () => releaseIfMine(file);
  process.once('exit', releaseOnExit);
  return async () => {
    process.off('exit', releaseOnExit);
    releaseIfMine(file);
  };
}

async function tryCreate(file: string, holder: LockHolder): Promise<boolean> {
  try {
    const handle = await open(file, 'wx', 0o644);
    await handle.writeFile(JSON.stringify(holder));
    await handle.close();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new PiswarmError(`Can't create the lock ${file} (${(error as NodeJS.ErrnoException).code}).`, { hint: 'Check that the folder of the inventory is writable.', cause: error });
  }
}

async function readHolder(file: string): Promise<LockHolder | undefined> {
  try {
    const holder = JSON.parse(await readFile(file, 'utf8')) as LockHolder;
    return Number.isInteger(holder.pid) ? holder : undefined;
  } catch {
    // Being written this very moment, or already gone: look again.
    return undefined;
  }
}

/** A holder on this machine whose process has ended; one on another machine cannot be checked, so it stands. */
export function isGoneHere(holder: { host: string; pid: number }): boolean {
  return holder.host === hostname() && !isProcessAlive(holder.pid);
}

function releaseIfMine(file: string): void {
  try {
    if ((JSON.parse(readFileSync(file, 'utf8')) as LockHolder).pid === process.pid) unlinkSync(file);
  } catch {
    // Not there, or not readable: nothing of ours to remove.
  }
}
