/** A swarm node as the scheduler sees it (from `docker node inspect`). */
export interface SwarmNodeView {
  id: string;
  hostname: string;
  role: 'manager' | 'worker';
  /** As the engine reports it: x86_64, aarch64, armv7l, armv6l. */
  arch: string;
  os: string;
  labels: Record<string, string>;
  engineLabels: Record<string, string>;
  state: string;
  availability: string;
  /** For managers: whether it leads Raft, is reachable in it, and the address it advertises. */
  leader?: boolean;
  reachable?: boolean;
  managerAddr?: string;
  engine?: string;
  /** What the node offers the scheduler for reservations (0 when unknown). */
  nanoCpus?: number;
  memoryBytes?: number;
}

/** An image variant's platform, as a registry's manifest list names it. */
export interface ImagePlatform {
  os: string;
  architecture: string;
  variant?: string;
}

/** The OCI platform a node runs natively: what Docker pulls for it. */
/** What a registry says of an image without pulling it. */
export interface ImageFacts {
  platforms: ImagePlatform[];
  /** The digest of the manifest (list) the tag names now: what a deploy pins the service to. */
  digest: string;
}

export function nodePlatform(arch: string): ImagePlatform {
  switch (arch) {
    case 'x86_64':
    case 'amd64':
      return { os: 'linux', architecture: 'amd64' };
    case 'aarch64':
    case 'arm64':
      return { os: 'linux', architecture: 'arm64' };
    case 'armv7l':
      return { os: 'linux', architecture: 'arm', variant: 'v7' };
    case 'armv6l':
      return { os: 'linux', architecture: 'arm', variant: 'v6' };
    default:
      return { os: 'linux', architecture: arch };
  }
}

export function describePlatform(p: ImagePlatform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/**
 * Whether one of the image's variants runs on the node: the same architecture, and for 32-bit
 * ARM a variant no newer than the node's (a v7 Pi runs v6 images, a v6 Pi Zero cannot run v7).
 */
export function nodeCanRun(nodeArch: string, variants: readonly ImagePlatform[]): boolean {
  const node = nodePlatform(nodeArch);
  return variants.some((v) => {
    if (v.os !== node.os || v.architecture !== node.architecture) return false;
    if (node.architecture !== 'arm') return true;
    return armLevel(v.variant) <= armLevel(node.variant);
  });
}

function armLevel(variant: string | undefined): number {
  return Number(variant?.replace(/^v/, '') ?? 7);
}

/** The nodes a service may be scheduled on: ready, active, and matching every constraint. */
export function eligibleNodes(nodes: readonly SwarmNodeView[], constraints: readonly string[]): SwarmNodeView[] {
  return nodes.filter((node) => node.state === 'ready' && node.availability === 'active' && meetsConstraints(node, constraints));
}

export function meetsConstraints(node: SwarmNodeView, constraints: readonly string[]): boolean {
  return constraints.every((c) => matches(node, c));
}

function matches(node: SwarmNodeView, constraint: string): boolean {
  const match = /^(.+?)\s*(==|!=)\s*(.+)$/.exec(constraint);
  if (!match) return true;
  const [, key, op, wanted] = match as unknown as [string, string, '==' | '!=', string];
  const actual = valueOf(node, key.trim());
  const equal = actual !== undefined && actual.toLowerCase() === wanted.trim().toLowerCase();
  return op === '==' ? equal : !equal;
}

function valueOf(node: SwarmNodeView, key: string): string | undefined {
  if (key === 'node.id') return node.id;
  if (key === 'node.hostname') return node.hostname;
  if (key === 'node.role') return node.role;
  if (key === 'node.platform.os') return node.os;
  if (key === 'node.platform.arch') return node.arch;
  if (key.startsWith('node.labels.')) return node.labels[key.slice('node.labels.'.length)];
  if (key.startsWith('engine.labels.')) return node.engineLabels[key.slice('engine.labels.'.length)];
  return undefined;
}

/**
 * Why an image cannot run where the service may be placed: one sentence per missing platform,
 * e.g. "nginx:x has no linux/arm/v7 variant, and worker-02 is armv7l".
 */
export function architectureProblems(image: string, variants: readonly ImagePlatform[], nodes: readonly SwarmNodeView[]): string[] {
  const missing = new Map<string, string[]>();
  for (const node of nodes) {
    if (nodeCanRun(node.arch, variants)) continue;
    const platform = describePlatform(nodePlatform(node.arch));
    missing.set(platform, [...(missing.get(platform) ?? []), node.hostname]);
  }
  return [...missing].map(([platform, hosts]) => {
    const arch = nodes.find((n) => n.hostname === hosts[0])!.arch;
    return `${image} has no ${platform} variant, and ${hosts.join(', ')} ${hosts.length > 1 ? 'are' : 'is'} ${arch}`;
  });
}
