/** IPv4 addresses as unsigned 32-bit numbers, and networks as base + prefix length. */
export interface Ipv4Network {
  base: number;
  prefixLength: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIpv4(text: string): number | undefined {
  const octets = IPV4.exec(text)?.slice(1, 5).map(Number);
  if (!octets || octets.some((o) => o > 255)) return undefined;
  return (((octets[0]! << 24) >>> 0) + (octets[1]! << 16) + (octets[2]! << 8) + octets[3]!) >>> 0;
}

export function formatIpv4(address: number): string {
  return [address >>> 24, (address >>> 16) & 0xff, (address >>> 8) & 0xff, address & 0xff].join('.');
}

function mask(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (~0 << (32 - prefixLength)) >>> 0;
}

/** "192.168.1.7/24" → the network 192.168.1.0/24; a bare address is a /32. Undefined if malformed. */
export function parseCidr(text: string): Ipv4Network | undefined {
  const [address, prefix, ...rest] = text.trim().split('/');
  const ip = parseIpv4(address ?? '');
  const prefixLength = prefix === undefined ? 32 : /^\d{1,2}$/.test(prefix) ? Number(prefix) : NaN;
  if (ip === undefined || rest.length > 0 || !(prefixLength >= 0 && prefixLength <= 32)) return undefined;
  return networkOf(ip, prefixLength);
}

export function networkOf(address: number, prefixLength: number): Ipv4Network {
  return { base: (address & mask(prefixLength)) >>> 0, prefixLength };
}

export function formatCidr(network: Ipv4Network): string {
  return `${formatIpv4(network.base)}/${network.prefixLength}`;
}

export function networkSize(network: Ipv4Network): number {
  return 2 ** (32 - network.prefixLength);
}

export function contains(network: Ipv4Network, address: number): boolean {
  return ((address & mask(network.prefixLength)) >>> 0) === network.base;
}

export function networksOverlap(a: Ipv4Network, b: Ipv4Network): boolean {
  const prefix = Math.min(a.prefixLength, b.prefixLength);
  return ((a.base & mask(prefix)) >>> 0) === ((b.base & mask(prefix)) >>> 0);
}

/** The addresses a host can have: without the network and broadcast addresses, except in a /31 or /32. */
export function hostAddresses(network: Ipv4Network): number[] {
  const size = networkSize(network);
  if (size <= 2) return Array.from({ length: size }, (_, i) => network.base + i);
  return Array.from({ length: size - 2 }, (_, i) => network.base + 1 + i);
}
