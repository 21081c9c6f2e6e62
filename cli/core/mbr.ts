import { PiswarmError } from '../errors.js';

/** MBR partition types of FAT filesystems (FAT16, FAT32, with and without LBA). */
const FAT_TYPES = new Set([0x01, 0x04, 0x06, 0x0b, 0x0c, 0x0e]);

export interface Partition {
  type: number;
  offset: number;
  size: number;
}

/** The first partition of an MBR: where a Raspberry Pi keeps its FAT boot partition. */
export function bootPartition(mbr: Buffer): Partition {
  if (mbr.length < 512 || mbr.readUInt16LE(510) !== 0xaa55) {
    throw new PiswarmError('The image has no MBR partition table.', { hint: 'piswarm flashes Raspberry Pi disk images (.img), not filesystem or ISO images.' });
  }
  const entry = mbr.subarray(446, 462);
  const partition = { type: entry[4]!, offset: entry.readUInt32LE(8) * 512, size: entry.readUInt32LE(12) * 512 };
  if (partition.type === 0xee) throw new PiswarmError('The image uses a GPT partition table; Raspberry Pi images use MBR.', { hint: 'Check this is a Raspberry Pi image.' });
  if (!FAT_TYPES.has(partition.type)) {
    throw new PiswarmError(`The image's first partition is not FAT (type 0x${partition.type.toString(16).padStart(2, '0')}), so it has no boot partition piswarm can personalise.`, {
      hint: 'Check this is a Raspberry Pi image. The card was written and verified but not personalised; it does not boot.',
    });
  }
  return partition;
}
