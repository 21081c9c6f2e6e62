import { open } from 'node:fs/promises';
import { fileBlockIo } from '../../adapters/block-file.js';
import { bootConfigFromUserData } from '../../core/card-boot-config.js';
import type { BootConfig } from '../../core/boot-config.js';
import { PiswarmError } from '../../errors.js';
import { openBootPartition } from '../flash/personalise-card.js';

/**
 * "Boots" a flashed card the way first boot would: reads the cloud-init user-data from its boot
 * partition (an image file or a block device, opened read-only) and returns what the node applies.
 */
export async function readCardBootConfig(path: string): Promise<BootConfig> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new PiswarmError(`Can't read the card ${path} (${(error as NodeJS.ErrnoException).code}).`, { hint: 'Give a card flashed with `piswarm flash` (an --output file or a device).', cause: error });
  }
  try {
    const fs = await openBootPartition(handle, await fileBlockIo(handle).read(0, 512));
    const userData = await fs.readText('user-data');
    if (userData === undefined) {
      throw new PiswarmError(`${path} has no cloud-init user-data on its boot partition.`, { hint: 'The lab boots cloud-init cards (HypriotOS, Ubuntu, Raspberry Pi OS Trixie) flashed by piswarm.' });
    }
    const cardFiles: Record<string, string> = { 'user-data': userData };
    for (const name of ['meta-data', 'network-config']) {
      const text = await fs.readText(name);
      if (text !== undefined) cardFiles[name] = text;
    }
    return bootConfigFromUserData(userData, path, cardFiles);
  } finally {
    await handle.close();
  }
}
