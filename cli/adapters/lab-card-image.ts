import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hypriotUserData } from '../core/boot-config.js';
import { hashFile } from './image-source.js';
import type { CommandRunner } from './process.js';

const BOOT_MIB = 40;
const ROOT_MIB = 8;

/**
 * The image `init --lab` flashes when the plan names none: a HypriotOS-shaped card (MBR, FAT32
 * boot partition with config.txt, cmdline.txt, user-data and meta-data as HypriotOS ships them,
 * a small ext4 root), with its .sha256 beside it as HypriotOS publishes one. Lab nodes take only
 * the boot partition; the rest is there so flash checks it as it would a real image. Made once
 * in `dir`, the image cache (mkfs.fat, mcopy, sfdisk, mkfs.ext4; nothing mounted), sparse, about 50 MB.
 */
export async function labCardImage(runner: CommandRunner, dir: string): Promise<string> {
  const img = join(dir, 'hypriotos-lab-card.img');
  if (await stat(`${img}.sha256`).catch(() => undefined)) return img;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const work = join(dir, 'making-card');
  await rm(work, { recursive: true, force: true });
  await mkdir(join(work, 'root', 'etc'), { recursive: true });
  try {
    const partial = join(work, 'card.img');
    const boot = join(work, 'boot.vfat');
    const root = join(work, 'root.ext4');
    await runner.run('truncate', ['-s', String((1 + BOOT_MIB + ROOT_MIB) * 1024 * 1024), partial]);
    await runner.run('sfdisk', ['-q', partial], { input: `label: dos\nstart=2048, size=${BOOT_MIB * 2048}, type=c, bootable\nstart=${(1 + BOOT_MIB) * 2048}, type=83\n` });
    await runner.run('mkfs.fat', ['-C', '-F', '32', '-s', '1', '-n', 'HypriotOS', boot, String(BOOT_MIB * 1024)]);
    const files: Record<string, string> = {
      'config.txt': 'hdmi_force_hotplug=1\nenable_uart=0\n',
      'cmdline.txt': 'dwc_otg.lpm_enable=0 console=tty1 root=/dev/mmcblk0p2 rootfstype=ext4 cgroup_enable=memory elevator=deadline fsck.repair=yes rootwait\n',
      'user-data': hypriotUserData('black-pearl'),
      'meta-data': 'instance-id: iid-black-pearl\n',
    };
    for (const [name, content] of Object.entries(files)) {
      await writeFile(join(work, name), content);
      await runner.run('mcopy', ['-o', '-i', boot, join(work, name), `::${name}`]);
    }
    await writeFile(join(work, 'root', 'etc', 'os-release'), 'PRETTY_NAME="HypriotOS (piswarm lab card)"\nID=raspbian\n');
    await runner.run('mkfs.ext4', ['-q', '-F', '-d', join(work, 'root'), root, `${ROOT_MIB}M`]);
    await runner.run('dd', [`if=${boot}`, `of=${partial}`, 'bs=1M', 'seek=1', 'conv=notrunc,sparse', 'status=none']);
    await runner.run('dd', [`if=${root}`, `of=${partial}`, 'bs=1M', `seek=${1 + BOOT_MIB}`, 'conv=notrunc,sparse', 'status=none']);
    await rename(partial, img);
    // The checksum last: its presence says the image is whole.
    await writeFile(`${img}.sha256`, `${await hashFile(img)}  hypriotos-lab-card.img\n`, { mode: 0o644 });
    return img;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
