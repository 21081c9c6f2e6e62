import type { FileHandle } from 'node:fs/promises';
import { fileBlockIo } from '../../adapters/block-file.js';
import type { CardSettings } from '../../core/card-settings.js';
import { FatFilesystem } from '../../core/fat.js';
import { detectFirstBootFormat, renderFirstBoot, type FirstBootFormat } from '../../core/first-boot.js';
import { bootPartition } from '../../core/mbr.js';
import { PiswarmError } from '../../errors.js';

/** The boot-partition files piswarm reads to learn the image's first-boot format. */
const READ = ['user-data', 'meta-data', 'network-config', 'cmdline.txt', 'issue.txt'];

export async function openBootPartition(handle: FileHandle, mbr: Buffer): Promise<FatFilesystem> {
  return FatFilesystem.open(fileBlockIo(handle, bootPartition(mbr).offset));
}

/** Reads what the OS on the card would read at first boot. */
export async function readBootFiles(fs: FatFilesystem): Promise<{ names: string[]; text: (name: string) => string | undefined }> {
  const names = await fs.list();
  const texts = new Map<string, string>();
  for (const name of names) if (READ.includes(name.toLowerCase())) texts.set(name.toLowerCase(), (await fs.readText(name))!);
  return { names, text: (name) => texts.get(name.toLowerCase()) };
}

/** Writes the first-boot files for `settings` without mounting anything; returns what it wrote. */
export async function personaliseCard(handle: FileHandle, mbr: Buffer, settings: CardSettings): Promise<{ format: FirstBootFormat; files: Array<{ name: string; content: string }> }> {
  const fs = await openBootPartition(handle, mbr);
  const boot = await readBootFiles(fs);
  const format = detectFirstBootFormat(boot);
  const files = renderFirstBoot(format, settings, boot);
  for (const file of files) await fs.writeFile(file.name, file.content);
  return { format, files };
}

/** Reads the files back (the caller has dropped the cache) and compares them with what was written. */
export async function checkPersonalisation(handle: FileHandle, mbr: Buffer, files: Array<{ name: string; content: string }>, target: string): Promise<void> {
  const fs = await openBootPartition(handle, mbr);
  for (const file of files) {
    if ((await fs.readText(file.name)) !== file.content) {
      throw new PiswarmError(`${file.name} on ${target} does not read back as written.`, { hint: 'The card may be failing; flash it again or use another card. It will not boot.' });
    }
  }
}
