import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Inventory } from '../core/inventory.js';
import { PiswarmError } from '../errors.js';

/** Reads the inventory; a missing file is an empty inventory (created on first save). */
export async function loadInventory(file: string): Promise<Inventory> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return Inventory.empty(file);
    throw new PiswarmError(`Can't read ${file} (${code}).`, {
      hint: code === 'EACCES' ? 'Check the file permissions, or run as its owner.' : undefined,
      cause: error,
    });
  }
  return Inventory.parse(file, text);
}

/** Saves the inventory atomically: a crash mid-write leaves the old file, never half a file. */
export async function saveInventory(inventory: Inventory): Promise<void> {
  await writeFileAtomic(inventory.file, inventory.toString());
}

export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const dir = dirname(file);
  const temp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o644);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  // Persist the rename itself; some filesystems refuse to fsync a directory, which is harmless.
  const dirHandle = await open(dir, 'r');
  await dirHandle.sync().catch(() => undefined);
  await dirHandle.close();
}
