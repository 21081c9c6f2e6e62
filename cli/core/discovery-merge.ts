import { HOSTNAME_PATTERN } from './inventory-schema.js';
import type { Inventory } from './inventory.js';

export interface FoundPi {
  ip: string;
  mac: string;
  /** From logging in, or from the flash record its host key matches. */
  hostname?: string;
  hostKey?: string;
  /** Who logs in to it (its card's user, or --user), recorded for every later command. */
  user?: string;
}

export interface MergeReport {
  added: Array<{ hostname: string; mac: string; ip: string }>;
  moved: Array<{ hostname: string; mac: string; from?: string; to: string }>;
  /** A new Pi whose hostname another node already has: filed under a name made unique with its MAC. */
  duplicates: Array<{ hostname: string; mac: string; savedAs: string }>;
}

/**
 * Files what a sweep found into the inventory, keyed by MAC: known nodes keep their name and get
 * their new address; new Pis are added; nothing is ever removed. A host key is pinned only where
 * none was (a changed one is for `--accept-new-host-key`, not for discovery).
 */
export function mergeDiscovered(inventory: Inventory, found: readonly FoundPi[]): MergeReport {
  const report: MergeReport = { added: [], moved: [], duplicates: [] };
  for (const pi of found) {
    const known = inventory.nodes().find((n) => n.mac === pi.mac);
    if (known) {
      if (known.ip !== pi.ip) report.moved.push({ hostname: known.hostname, mac: pi.mac, ...(known.ip ? { from: known.ip } : {}), to: pi.ip });
      inventory.upsertNode(pi.mac, { ip: pi.ip, hostKey: known.hostKey ? undefined : pi.hostKey, user: known.user ? undefined : pi.user });
      continue;
    }
    const suffix = pi.mac.split(':').slice(3).join('');
    const wanted = pi.hostname && HOSTNAME_PATTERN.test(pi.hostname) ? pi.hostname : `pi-${suffix}`;
    const taken = inventory.nodes().some((n) => n.hostname.toLowerCase() === wanted.toLowerCase());
    const hostname = taken ? `${wanted}-${suffix}`.slice(0, 63) : wanted;
    if (taken) report.duplicates.push({ hostname: wanted, mac: pi.mac, savedAs: hostname });
    inventory.upsertNode(pi.mac, { hostname, ip: pi.ip, hostKey: pi.hostKey, user: pi.user });
    report.added.push({ hostname, mac: pi.mac, ip: pi.ip });
  }
  return report;
}
