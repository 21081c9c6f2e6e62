import { readFile } from 'node:fs/promises';
import type { CommandRunner } from './process.js';

/** A whole disk as lsblk and /proc/swaps describe it, with what is mounted from it. */
export interface Drive {
  path: string;
  name: string;
  size: number;
  model: string;
  transport: string;
  removable: boolean;
  readOnly: boolean;
  type: string;
  /** MAJ:MIN of the disk and each of its partitions. */
  devices: string[];
  mountpoints: string[];
  swap: boolean;
  partitions: Array<{ path: string; size: number; fstype: string; mountpoints: string[] }>;
}

interface LsblkDevice {
  name: string;
  path: string;
  size: number | string;
  model?: string | null;
  tran?: string | null;
  rm: boolean | string;
  ro: boolean | string;
  type: string;
  'maj:min': string;
  fstype?: string | null;
  mountpoints?: Array<string | null>;
  children?: LsblkDevice[];
}

export async function listDrives(runner: CommandRunner): Promise<Drive[]> {
  const { stdout } = await runner.run('lsblk', ['--json', '--bytes', '--output', 'NAME,PATH,SIZE,MODEL,TRAN,RM,RO,TYPE,MAJ:MIN,FSTYPE,MOUNTPOINTS']);
  const swaps = (await readFile('/proc/swaps', 'utf8').catch(() => '')).split('\n').slice(1).map((l) => l.split(/\s+/)[0]).filter(Boolean);
  const flag = (v: boolean | string) => v === true || v === '1';
  const all = (d: LsblkDevice): LsblkDevice[] => [d, ...(d.children ?? []).flatMap(all)];
  return (JSON.parse(stdout).blockdevices as LsblkDevice[])
    .filter((d) => d.type === 'disk' || d.type === 'loop')
    .map((disk) => {
      const members = all(disk);
      return {
        path: disk.path,
        name: disk.name,
        size: Number(disk.size),
        model: (disk.model ?? '').trim(),
        transport: disk.tran ?? (disk.type === 'loop' ? 'loop' : ''),
        removable: flag(disk.rm),
        readOnly: flag(disk.ro),
        type: disk.type,
        devices: members.map((m) => m['maj:min']),
        mountpoints: members.flatMap((m) => (m.mountpoints ?? []).filter((p): p is string => Boolean(p))),
        swap: members.some((m) => swaps.includes(m.path)),
        partitions: (disk.children ?? []).map((p) => ({ path: p.path, size: Number(p.size), fstype: p.fstype ?? '', mountpoints: (p.mountpoints ?? []).filter((x): x is string => Boolean(x)) })),
      };
    });
}

/** MAJ:MIN of the device holding a file (to refuse flashing the drive the image is on). */
export function deviceNumber(dev: number): string {
  const major = Math.floor(dev / 256) & 0xfff;
  const minor = (dev & 0xff) | (Math.floor(dev / 4096) & ~0xff);
  return `${major}:${minor}`;
}
