import { networkInterfaces } from 'node:os';
import type { InterfaceNetwork } from '../core/sweep-plan.js';

/** The machine's IPv4 interfaces, loopback included and marked internal (the plan decides what to sweep). */
export function localNetworks(): InterfaceNetwork[] {
  const found: InterfaceNetwork[] = [];
  for (const [name, addresses] of Object.entries(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && address.cidr) found.push({ interface: name, cidr: address.cidr, internal: address.internal });
    }
  }
  return found;
}
