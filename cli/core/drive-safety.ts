import type { Drive } from '../adapters/drives.js';

/** Where a running system lives: a drive with any of these mounted is never a card. */
const SYSTEM_MOUNTS = ['/', '/boot', '/boot/firmware', '/boot/efi', '/usr', '/var', '/home'];

export interface DriveVerdict {
  /** Reasons the drive must not be written at all. */
  refusals: string[];
  /** Reasons that --force overrides. */
  needsForce: string[];
  /** Mounted partitions to unmount first, after confirmation. */
  toUnmount: string[];
}

/** Decides whether a drive may be flashed; pure, so every rule has a table test. */
export function judgeDrive(drive: Drive, context: { imageDevices: string[]; imageSize?: number }): DriveVerdict {
  const refusals: string[] = [];
  const system = drive.mountpoints.filter((m) => SYSTEM_MOUNTS.includes(m));
  if (system.length > 0) refusals.push(`${drive.path} holds this system (${system.join(', ')} mounted from it)`);
  if (drive.swap) refusals.push(`${drive.path} holds this system's swap`);
  if (drive.devices.some((d) => context.imageDevices.includes(d))) refusals.push(`${drive.path} holds the image file itself`);
  if (drive.readOnly) refusals.push(`${drive.path} is read-only (is the SD card's lock switch on?)`);
  if (context.imageSize !== undefined && context.imageSize > drive.size) {
    refusals.push(`the image (${formatBytes(context.imageSize)}) is larger than ${drive.path} (${formatBytes(drive.size)})`);
  }
  const needsForce = drive.removable ? [] : [`${drive.path} is not a removable drive`];
  const toUnmount = refusals.length > 0 ? [] : drive.partitions.filter((p) => p.mountpoints.length > 0).map((p) => p.path).concat(drive.mountpoints.length > 0 && drive.partitions.length === 0 ? [drive.path] : []);
  return { refusals, needsForce, toUnmount };
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
