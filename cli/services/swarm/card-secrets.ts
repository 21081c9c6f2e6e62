import { createHash } from 'node:crypto';
import { CARD_SECRET_FILES, scrubCardFile } from '../../core/card-secrets.js';
import { CARD_BOOT_DIRS, FIND_CARD_BOOT_DIR_SCRIPT, readCardFileScript, replaceCardFileScript } from '../../core/swarm-scripts.js';
import { PiswarmError } from '../../errors.js';
import type { NodeSession } from './node-session.js';

/**
 * Takes the secrets out of the card's first-boot files on the running node (see core/card-secrets):
 * each file read as root, scrubbed here, and written back only if it did not change meanwhile.
 * Returns what it removed, as one change line; none when the card holds no secrets (or no user-data).
 */
export async function clearCardSecrets(session: NodeSession, passwordLoginOff: boolean): Promise<string[]> {
  const dir = (await session.run("find the card's boot partition", FIND_CARD_BOOT_DIR_SCRIPT)).stdout.trim();
  if (!dir) return [];
  if (!(CARD_BOOT_DIRS as readonly string[]).includes(dir)) {
    throw new PiswarmError(`${session.node.hostname}: the boot partition search answered ${JSON.stringify(dir)}, which is not one of ${CARD_BOOT_DIRS.join(', ')}.`);
  }
  const removed = new Set<string>();
  for (const name of CARD_SECRET_FILES) {
    const path = `${dir}/${name}`;
    const text = (await session.run(`read ${path}`, readCardFileScript(path))).stdout;
    if (!text) continue;
    const scrubbed = scrubCardFile(name, text, passwordLoginOff);
    if (scrubbed.removed.length === 0) continue;
    const sha256 = createHash('sha256').update(text, 'utf8').digest('hex');
    await session.change(`remove the secrets from ${path}`, replaceCardFileScript(path, sha256), scrubbed.text);
    for (const what of scrubbed.removed) removed.add(what);
  }
  return removed.size > 0 ? [`card cleared of ${[...removed].join(', ')}`] : [];
}
