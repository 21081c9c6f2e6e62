import { readFile } from 'node:fs/promises';
import { normaliseMac } from '../core/mac-address.js';
import type { CommandRunner } from './process.js';

/** ATF_COM: the kernel has a resolved hardware address for the entry. */
const COMPLETE = 0x2;

/**
 * The kernel's IPv4 neighbour (ARP) table: IP → MAC, resolved entries only. A TCP sweep of a local
 * subnet fills it as a side effect, so it is read after the sweep.
 */
export async function readNeighbours(path = '/proc/net/arp'): Promise<Map<string, string>> {
  const table = new Map<string, string>();
  const text = await readFile(path, 'utf8').catch(() => '');
  for (const line of text.split('\n').slice(1)) {
    const [ip, , flags, hwAddress] = line.trim().split(/\s+/);
    const mac = normaliseMac(hwAddress ?? '');
    if (ip && mac && (Number(flags) & COMPLETE) !== 0 && mac !== '00:00:00:00:00:00') table.set(ip, mac);
  }
  return table;
}

/**
 * Drops neighbour entries still waiting for an ARP answer (left by a sweep moments ago). The kernel
 * would queue new packets behind such an entry until its next retry, up to a second later, so a
 * Pi that just took one of those addresses would miss a sweep with a shorter timeout. Entries that
 * carry an answer are kept. Needs root (CAP_NET_ADMIN); without it this does nothing.
 */
export async function forgetPendingLookups(runner: CommandRunner, cidr: string): Promise<void> {
  await runner.run('ip', ['-4', 'neigh', 'flush', 'to', cidr, 'nud', 'incomplete'], { allowFailure: true });
}
