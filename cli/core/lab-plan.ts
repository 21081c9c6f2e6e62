import { UsageError } from '../errors.js';
import { formatCidr, formatIpv4, networksOverlap, parseCidr } from './ipv4.js';

export const MAX_LAB_NODES = 64;
export const DEFAULT_LAB_NAME = 'pilab';
export const DEFAULT_LAB_SUBNET = '10.77.0.0/24';
/** B8:27:EB is the Raspberry Pi Foundation's first OUI, so discovery sees these nodes as Pis. */
export const LAB_OUI = 'b8:27:eb';
const FIRST_HOST = 11;
export const REGISTRY_PORT = 5000;

export interface LabNodePlan {
  index: number;
  hostname: string;
  netns: string;
  hostVeth: string;
  ip: string;
  mac: string;
}

export interface LabPlan {
  name: string;
  subnet: string;
  prefixLength: number;
  bridge: string;
  gateway: string;
  registry: string;
  nodes: LabNodePlan[];
}

/** Lab names become part of interface names, which Linux caps at 15 characters. */
const LAB_NAME_PATTERN = /^[a-z][a-z0-9]{0,7}$/;
/**
 * A hostname is one DNS label: it becomes a folder, a network namespace and a cgroup of this
 * machine, so a card's `hostname: x/..` must never get that far (its cgroup would be the root one).
 */
export const HOSTNAME_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export function planLab(options: { name: string; subnet: string; nodes: number; hostnames?: string[] }): LabPlan {
  const { name } = options;
  if (!LAB_NAME_PATTERN.test(name)) {
    throw new UsageError(`Lab name "${name}" is not allowed.`, 'Use 1 to 8 lower-case letters and digits, starting with a letter (e.g. pilab).');
  }
  if (!Number.isInteger(options.nodes) || options.nodes < 1 || options.nodes > MAX_LAB_NODES) {
    throw new UsageError(
      `--nodes must be a whole number from 1 to ${MAX_LAB_NODES}, got ${options.nodes}.`,
      'A home lab has a handful of Pis; 3 (one manager, two workers) is a good start.',
    );
  }
  const { base, prefixLength } = parseSubnet(options.subnet);
  const size = 2 ** (32 - prefixLength);
  if (FIRST_HOST + options.nodes >= size - 1) {
    throw new UsageError(`Subnet ${options.subnet} is too small for ${options.nodes} nodes.`, 'Use a /24, e.g. --subnet 10.77.0.0/24.');
  }
  for (const hostname of options.hostnames ?? []) {
    if (!HOSTNAME_PATTERN.test(hostname)) throw new UsageError(`"${hostname}" is not a hostname a lab node can have.`, 'Use letters, digits and "-" (at most 63, not starting or ending with "-"), e.g. worker-01: flash the card again with piswarm flash --hostname.');
  }
  if (options.hostnames && new Set(options.hostnames).size !== options.hostnames.length) {
    throw new UsageError(`Two lab nodes would have the same hostname (${options.hostnames.join(', ')}).`, 'Flash each card with its own --hostname.');
  }
  const octets = formatIpv4(base).split('.').map(Number);
  const nodes = Array.from({ length: options.nodes }, (_, i) => {
    const index = i + 1;
    const hostname = options.hostnames?.[i] ?? `pi-${String(index).padStart(2, '0')}`;
    const ip = formatIpv4(base + FIRST_HOST + i);
    return {
      index,
      hostname,
      netns: `${name}-${hostname}`,
      hostVeth: `${name}-v${index}`,
      ip,
      // Derived from the address, so two labs on different subnets never share a MAC.
      mac: [LAB_OUI, hex(octets[1]!), hex(octets[2]!), hex((FIRST_HOST + i) & 0xff)].join(':'),
    };
  });
  const gateway = formatIpv4(base + 1);
  return {
    name,
    subnet: formatCidr({ base, prefixLength }),
    prefixLength,
    bridge: `${name}br0`,
    gateway,
    registry: `${gateway}:${REGISTRY_PORT}`,
    nodes,
  };
}

export function parseSubnet(cidr: string): { base: number; prefixLength: number } {
  const network = /\/\d{1,2}$/.test(cidr) ? parseCidr(cidr) : undefined;
  if (!network || network.prefixLength < 8 || network.prefixLength > 28) {
    throw new UsageError(`"${cidr}" is not an IPv4 subnet piswarm can use for a lab.`, 'Give one like 10.77.0.0/24 (prefix length 8 to 28).');
  }
  return network;
}

/** True when the two CIDR ranges share any address. */
export function subnetsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  return x !== undefined && y !== undefined && networksOverlap(x, y);
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}
