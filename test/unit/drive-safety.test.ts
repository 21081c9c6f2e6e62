import { describe, expect, it } from 'vitest';
import type { Drive } from '../../cli/adapters/drives.js';
import { findSha256, checksumCandidates } from '../../cli/core/checksum.js';
import { judgeDrive } from '../../cli/core/drive-safety.js';

const card = (extra: Partial<Drive> = {}): Drive => ({
  path: '/dev/sdb',
  name: 'sdb',
  size: 32e9,
  model: 'SD Card Reader',
  transport: 'usb',
  removable: true,
  readOnly: false,
  type: 'disk',
  devices: ['8:16', '8:17'],
  mountpoints: [],
  swap: false,
  partitions: [{ path: '/dev/sdb1', size: 268435456, fstype: 'vfat', mountpoints: [] }],
  ...extra,
});

describe('judgeDrive', () => {
  it('accepts a removable, unmounted card the image fits on', () => {
    expect(judgeDrive(card(), { imageDevices: ['254:0'], imageSize: 1e9 })).toEqual({ refusals: [], needsForce: [], toUnmount: [] });
  });

  it.each([
    ['/', { mountpoints: ['/'] }, 'holds this system (/ mounted from it)'],
    ['/boot/firmware', { mountpoints: ['/boot/firmware'] }, 'holds this system'],
    ['/home', { mountpoints: ['/home'] }, 'holds this system'],
    ['swap', { swap: true }, "holds this system's swap"],
    ['read-only', { readOnly: true }, 'is read-only'],
    ['the image', { devices: ['8:16', '8:17'] }, 'holds the image file itself'],
  ])('always refuses a drive with %s', (_name, extra, reason) => {
    const verdict = judgeDrive(card(extra), { imageDevices: ['8:17'].filter(() => _name === 'the image') });
    expect(verdict.refusals.join()).toContain(reason);
    expect(verdict.toUnmount).toEqual([]);
  });

  it('refuses an image larger than the card', () => {
    expect(judgeDrive(card({ size: 4e9 }), { imageDevices: [], imageSize: 8e9 }).refusals.join()).toContain('is larger than /dev/sdb');
  });

  it('needs --force for a drive that is not removable (a loop device, an internal disk)', () => {
    expect(judgeDrive(card({ removable: false }), { imageDevices: [] }).needsForce).toEqual(['/dev/sdb is not a removable drive']);
  });

  it('lists mounted card partitions to unmount after confirmation', () => {
    const mounted = card({ mountpoints: ['/media/pi/boot'], partitions: [{ path: '/dev/sdb1', size: 1, fstype: 'vfat', mountpoints: ['/media/pi/boot'] }] });
    expect(judgeDrive(mounted, { imageDevices: [] })).toEqual({ refusals: [], needsForce: [], toUnmount: ['/dev/sdb1'] });
  });
});

describe('checksums', () => {
  const hex = 'ab'.repeat(32);
  it.each([
    [`${hex}  hypriotos-rpi-v1.12.3.img.zip\n`, hex],
    [`${hex.toUpperCase()} *hypriotos-rpi-v1.12.3.img.zip\n`, hex],
    [`${'cd'.repeat(32)}  other.img.zip\n${hex}  ./images/hypriotos-rpi-v1.12.3.img.zip\n`, hex],
    [`${hex}\n`, hex],
    [`${'cd'.repeat(32)}  other.img.zip\n`, undefined],
    ['not a checksum\n', undefined],
  ])('finds the hash for the file in %j', (listing, expected) => {
    expect(findSha256(listing, 'hypriotos-rpi-v1.12.3.img.zip')).toBe(expected);
  });

  it('looks beside the image and in its folder, for files and URLs', () => {
    expect(checksumCandidates('/images/a.img.zip')).toEqual(['/images/a.img.zip.sha256', '/images/SHA256SUMS']);
    expect(checksumCandidates('https://x.org/v1/a.img.xz')).toEqual(['https://x.org/v1/a.img.xz.sha256', 'https://x.org/v1/SHA256SUMS']);
    expect(checksumCandidates('a.img')).toEqual(['a.img.sha256', 'SHA256SUMS']);
  });
});
