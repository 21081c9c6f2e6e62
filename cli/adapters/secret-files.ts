import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';

/** Writes a random secret to `file` unless it exists (mode 600, never through a link); true when it wrote one. */
export async function ensureSecretFile(file: string): Promise<boolean> {
  try {
    await writeFile(file, randomBytes(24).toString('base64url'), { mode: 0o600, flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}
