import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileBlockIo } from '../../cli/adapters/block-file.js';
import { FatFilesystem } from '../../cli/core/fat.js';

/** A real FAT filesystem made by mkfs.fat, with files put there by mtools. */
function makeFat(sizeMiB: number, fatBits: 16 | 32, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'piswarm-fat-'));
  const image = join(dir, 'boot.vfat');
  execFileSync('mkfs.fat', ['-C', '-F', String(fatBits), '-n', 'HypriotOS', image, String(sizeMiB * 1024)], { stdio: 'ignore' });
  for (const [name, content] of Object.entries(files)) {
    const src = join(dir, name);
    execFileSync('sh', ['-c', 'printf "%s" "$1" > "$2"', 'sh', content, src]);
    execFileSync('mcopy', ['-i', image, src, `::${name}`]);
  }
  return image;
}

async function withFs<T>(image: string, work: (fs: FatFilesystem) => Promise<T>): Promise<T> {
  const handle = await open(image, 'r+');
  try {
    return await work(await FatFilesystem.open(fileBlockIo(handle)));
  } finally {
    await handle.close();
  }
}

const mtype = (image: string, name: string) => execFileSync('mtype', ['-i', image, `::${name}`], { encoding: 'utf8' });
/** fsck.fat exits non-zero (and execFileSync throws) on any error; remarks must be absent too. */
const fsck = (image: string) => execFileSync('fsck.fat', ['-n', image], { encoding: 'utf8' });
const clean = /should be|differ|lost|invalid|bad|uninitialized/i;

describe.each([
  [32, 64],
  [16, 32],
] as const)('FAT%i boot partition (%i MiB)', (bits, size) => {
  it('reads files written by mtools, long names included', async () => {
    const image = makeFat(size, bits, { 'config.txt': 'hdmi_force_hotplug=1\n', 'user-data': '#cloud-config\nhostname: black-pearl\n' });
    await withFs(image, async (fs) => {
      expect(fs.geometry.type).toBe(`FAT${bits}`);
      expect((await fs.list()).sort()).toEqual(['config.txt', 'user-data']);
      expect(await fs.readText('user-data')).toBe('#cloud-config\nhostname: black-pearl\n');
      expect(await fs.readText('CONFIG.TXT')).toBe('hdmi_force_hotplug=1\n');
      expect(await fs.readText('missing')).toBeUndefined();
    });
  });

  it('replaces a file and creates new ones that mtools and fsck.fat accept', async () => {
    const image = makeFat(size, bits, { 'user-data': 'old', 'cmdline.txt': 'console=tty1' });
    const big = 'x'.repeat(70_000) + 'end';
    await withFs(image, async (fs) => {
      await fs.writeFile('user-data', '#cloud-config\nhostname: manager-01\n');
      await fs.writeFile('meta-data', 'instance-id: piswarm-1\n');
      await fs.writeFile('network-config', big);
      await fs.writeFile('a-very-long-file-name-for-lfn.yaml', 'ok');
      await fs.writeFile('empty', '');
    });
    expect(mtype(image, 'user-data')).toBe('#cloud-config\nhostname: manager-01\n');
    expect(mtype(image, 'meta-data')).toBe('instance-id: piswarm-1\n');
    expect(mtype(image, 'network-config')).toBe(big);
    expect(mtype(image, 'a-very-long-file-name-for-lfn.yaml')).toBe('ok');
    expect(mtype(image, 'cmdline.txt')).toBe('console=tty1');
    expect(fsck(image)).not.toMatch(clean);
    await withFs(image, async (fs) => {
      expect(await fs.readText('network-config')).toBe(big);
      expect((await fs.list()).length).toBe(6);
    });
  });

  it('frees the old clusters when a file shrinks, so rewriting never fills the partition', async () => {
    const image = makeFat(size, bits, {});
    await withFs(image, async (fs) => {
      for (let i = 0; i < 200; i++) await fs.writeFile('user-data', `${i}:${'y'.repeat(100_000)}`);
    });
    expect(mtype(image, 'user-data').startsWith('199:')).toBe(true);
    expect(fsck(image)).not.toMatch(clean);
  });
});

describe('FAT errors', () => {
  it('refuses something that is not FAT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'piswarm-fat-'));
    const image = join(dir, 'ext4.img');
    execFileSync('truncate', ['-s', '8M', image]);
    execFileSync('mkfs.ext4', ['-q', image]);
    await expect(withFs(image, async () => undefined)).rejects.toThrow('does not hold a FAT filesystem');
  });

  it('fills a root directory with many files, growing it on FAT32', async () => {
    const image = makeFat(64, 32, {});
    await withFs(image, async (fs) => {
      for (let i = 0; i < 300; i++) await fs.writeFile(`file-number-${i}.txt`, String(i));
    });
    expect(mtype(image, 'file-number-299.txt')).toBe('299');
    expect(fsck(image)).not.toMatch(clean);
  });
});
