import { UsageError } from '../errors.js';
import { formatCidr, networkSize, parseCidr, type Ipv4Network } from './ipv4.js';

/** A /20: a sweep of it takes a few seconds; anything larger is almost surely a mistake. */
export const MAX_SWEEP_ADDRESSES = 4096;

/** Interfaces that are not the LAN the Pis sit on: container bridges, veths, tunnels and VPNs. */
const NOT_A_LAN = /^(docker\d*|docker_gwbridge|br-[0-9a-f]{12}|veth.*|cni\d*|flannel.*|cali.*|weave|virbr\d*|lxcbr\d*|lxdbr\d*|podman\d*|kube-.*|vxlan.*|tailscale\d*|wg\d*|tun\d*|tap\d*|zt.*)$/;

export interface InterfaceNetwork {
  interface: string;
  /** As the interface has it: "192.168.1.23/24". */
  cidr: string;
  internal?: boolean;
}

export interface SweepPlan {
  networks: Array<{ network: Ipv4Network; cidr: string; interface?: string }>;
  /** Interfaces left out by default, and why (said to the user so nothing is skipped silently). */
  skipped: Array<{ interface: string; cidr: string; reason: string }>;
}

const SIZE_HINT = 'Give the subnet your Pis are on, e.g. --cidr 192.168.1.0/24 (`ip -4 addr` shows yours).';

export function planSweep(options: { cidrs: readonly string[]; interface?: string; local: readonly InterfaceNetwork[] }): SweepPlan {
  const plan: SweepPlan = { networks: [], skipped: [] };
  const add = (network: Ipv4Network, via?: string) => {
    const cidr = formatCidr(network);
    if (!plan.networks.some((n) => n.cidr === cidr)) plan.networks.push({ network, cidr, ...(via ? { interface: via } : {}) });
  };
  for (const text of options.cidrs) {
    const network = parseCidr(text);
    if (!network || !text.includes('/')) throw new UsageError(`--cidr ${text} is not an IPv4 network.`, 'Write it like 192.168.1.0/24.');
    if (networkSize(network) > MAX_SWEEP_ADDRESSES) throw tooLarge(`--cidr ${text}`, network);
    add(network);
  }
  if (options.interface !== undefined) {
    const mine = options.local.filter((n) => n.interface === options.interface);
    if (mine.length === 0) {
      const names = [...new Set(options.local.filter((n) => !n.internal).map((n) => n.interface))];
      throw new UsageError(`Interface ${options.interface} has no IPv4 address.`, `Interfaces with one: ${names.join(', ') || 'none'}.`);
    }
    for (const local of mine) {
      const network = parseCidr(local.cidr)!;
      if (networkSize(network) > MAX_SWEEP_ADDRESSES) throw tooLarge(`${local.interface} (${local.cidr})`, network);
      add(network, local.interface);
    }
  }
  if (options.cidrs.length > 0 || options.interface !== undefined) return plan;

  for (const local of options.local) {
    const network = parseCidr(local.cidr);
    if (local.internal || !network) continue;
    const skip = (reason: string) => plan.skipped.push({ interface: local.interface, cidr: local.cidr, reason });
    if (NOT_A_LAN.test(local.interface)) skip('a container bridge or tunnel; name it with --interface to sweep it');
    else if (network.prefixLength >= 31) skip('a point-to-point address');
    else if (networkSize(network) > MAX_SWEEP_ADDRESSES) skip(`too large to sweep (${networkSize(network)} addresses); give --cidr`);
    else add(network, local.interface);
  }
  return plan;
}

function tooLarge(what: string, network: Ipv4Network): UsageError {
  return new UsageError(`${what} has ${networkSize(network)} addresses; piswarm sweeps at most ${MAX_SWEEP_ADDRESSES} (a /20) at a time.`, SIZE_HINT);
}
