import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const HYPRIOT_USER_DATA = readFileSync(new URL('../fixtures/hypriot-user-data.yaml', import.meta.url), 'utf8');

export interface PiImageOptions {
  dir: string;
  name?: string;
  bootMiB?: number;
  rootMiB?: number;
  /** Files for the boot partition; HypriotOS defaults when absent. */
  bootFiles?: Record<string, string>;
  /** Fill the root filesystem with about this many MiB of random files. */
  rootDataMiB?: number;
  /** Partition type of partition 1 ('c' FAT32 LBA; '83' to make a broken image). */
  firstType?: string;
}

export interface PiImage {
  img: string;
  size: number;
  bootOffset: number;
  rootOffset: number;
}

const run = (cmd: string, args: string[], input?: string) => execFileSync(cmd, args, { input, stdio: ['pipe', 'pipe', 'pipe'] });

/** A HypriotOS-shaped image: MBR, FAT32 boot (config.txt, cmdline.txt, user-data, meta-data), ext4 root. */
export function buildPiImage(options: PiImageOptions): PiImage {
  const { dir, name = 'hypriotos-rpi-v1.12.3', bootMiB = 40, rootMiB = 24, rootDataMiB = 4, firstType = 'c' } = options;
  mkdirSync(dir, { recursive: true });
  const img = join(dir, `${name}.img`);
  const size = (1 + bootMiB + rootMiB) * 1024 * 1024;
  run('truncate', ['-s', '0', img]);
  run('truncate', ['-s', String(size), img]);
  run('sfdisk', ['-q', img], `label: dos\nstart=2048, size=${bootMiB * 2048}, type=${firstType}, bootable\nstart=${(1 + bootMiB) * 2048}, type=83\n`);

  const boot = join(dir, `${name}.boot.vfat`);
  run('rm', ['-f', boot]);
  run('mkfs.fat', ['-C', '-F', '32', '-s', '1', '-n', 'HypriotOS', boot, String(bootMiB * 1024)]);
  const files = options.bootFiles ?? {
    'config.txt': 'hdmi_force_hotplug=1\nenable_uart=0\n',
    'cmdline.txt': 'dwc_otg.lpm_enable=0 console=tty1 root=/dev/mmcblk0p2 rootfstype=ext4 cgroup_enable=memory elevator=deadline fsck.repair=yes rootwait\n',
    'user-data': HYPRIOT_USER_DATA,
    'meta-data': 'instance-id: iid-black-pearl\n',
  };
  const staging = join(dir, `${name}.bootfiles`);
  mkdirSync(staging, { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    writeFileSync(join(staging, file), content);
    run('mcopy', ['-o', '-i', boot, join(staging, file), `::${file}`]);
  }
  run('dd', [`if=${boot}`, `of=${img}`, 'bs=1M', 'seek=1', 'conv=notrunc,sparse', 'status=none']);

  const rootDir = join(dir, `${name}.rootfs`);
  mkdirSync(join(rootDir, 'etc'), { recursive: true });
  mkdirSync(join(rootDir, 'usr', 'lib'), { recursive: true });
  writeFileSync(join(rootDir, 'etc', 'os-release'), 'PRETTY_NAME="HypriotOS (test image)"\nID=raspbian\n');
  for (let i = 0; i < rootDataMiB; i++) {
    // Random data: incompressible, like binaries, so the root is not all zeros.
    run('dd', ['if=/dev/urandom', `of=${join(rootDir, 'usr', 'lib', `lib${i}.so`)}`, 'bs=1M', 'count=1', 'status=none']);
  }
  const root = join(dir, `${name}.root.ext4`);
  run('rm', ['-f', root]);
  run('mkfs.ext4', ['-q', '-F', '-d', rootDir, root, `${rootMiB}M`]);
  run('dd', [`if=${root}`, `of=${img}`, 'bs=1M', `seek=${1 + bootMiB}`, 'conv=notrunc,sparse', 'status=none']);
  run('rm', ['-rf', boot, root, rootDir, staging]);
  return { img, size, bootOffset: 1024 * 1024, rootOffset: (1 + bootMiB) * 1024 * 1024 };
}

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Writes FILE.sha256 in the format hypriot publishes ("HEX  FILENAME"). */
export function writeSha256(file: string): string {
  const hex = sha256File(file);
  writeFileSync(`${file}.sha256`, `${hex}  ${basename(file)}\n`);
  return hex;
}

export function compress(img: string, kind: 'zip' | 'xz' | 'gz'): string {
  const dir = dirname(img);
  if (kind === 'zip') run('sh', ['-c', `cd "${dir}" && rm -f "${basename(img)}.zip" && zip -q -1 "${basename(img)}.zip" "${basename(img)}"`]);
  if (kind === 'xz') run('sh', ['-c', `xz -T1 -1 -k -c "${img}" > "${img}.xz"`]);
  if (kind === 'gz') run('sh', ['-c', `gzip -1 -k -c "${img}" > "${img}.gz"`]);
  return `${img}.${kind}`;
}
