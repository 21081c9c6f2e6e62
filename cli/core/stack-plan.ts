import { shortDigest } from './image-ref.js';

/**
 * What a deploy would change in a running stack, service by service: compared from the compose
 * file (as piswarm sends it) and the services' specs (as the swarm holds them). Environment values
 * are compared but never shown: they may be secrets.
 */
export interface ServiceFacts {
  image: string;
  /** The digest the image is pinned to (running), or its tag names now (file); unknown when absent. */
  digest?: string;
  mode: string;
  replicas?: number;
  /** KEY=value (or KEY) entries. */
  env: string[];
  /** "PUBLISHED:TARGET/PROTOCOL MODE" */
  ports: string[];
  constraints: string[];
  limits: { nanoCpus: number; memoryBytes: number };
  reservations: { nanoCpus: number; memoryBytes: number };
}

export type ServiceAction = 'create' | 'update' | 'unchanged' | 'remove' | 'keep';

export interface ServicePlan {
  name: string;
  action: ServiceAction;
  changes: string[];
}

type Json = Record<string, unknown>;

/** The facts of a service of the (merged, normalised) compose file, as `docker stack deploy` would create it. */
export function composeFacts(raw: Json, digests: ReadonlyMap<string, string> = new Map()): ServiceFacts {
  const deploy = (raw.deploy ?? {}) as Json;
  const resources = (deploy.resources ?? {}) as Record<string, Json | undefined>;
  const mode = (deploy.mode as string | undefined) ?? 'replicated';
  const env = Object.entries((raw.environment ?? {}) as Record<string, string | null>).map(([k, v]) => (v === null ? k : `${k}=${v}`));
  const ports = ((raw.ports ?? []) as Json[]).map((p) => portText(Number(p.published ?? 0), Number(p.target), String(p.protocol ?? 'tcp'), String(p.mode ?? 'ingress')));
  const digest = digests.get(String(raw.image));
  return {
    image: String(raw.image),
    ...(digest ? { digest } : {}),
    mode,
    ...(mode === 'replicated' || mode === 'replicated-job' ? { replicas: (deploy.replicas as number | undefined) ?? 1 } : {}),
    env: env.sort(),
    ports: ports.sort(),
    constraints: (((deploy.placement as Json | undefined)?.constraints ?? []) as string[]).map((c) => c.trim()).sort(),
    limits: resourceOf(resources.limits),
    reservations: resourceOf(resources.reservations),
  };
}

/** The same facts of a service the swarm runs (`docker service inspect`), beside what parseServiceSpec read of it. */
export function specFacts(s: any, read: Pick<ServiceFacts, 'image' | 'mode' | 'replicas' | 'constraints' | 'reservations'>): ServiceFacts {
  const spec = s.Spec ?? {};
  const task = spec.TaskTemplate ?? {};
  const limits = task.Resources?.Limits;
  const digest = /@(sha256:[0-9a-f]{64})$/.exec(String(task.ContainerSpec?.Image ?? ''))?.[1];
  return {
    ...read,
    ...(digest ? { digest } : {}),
    constraints: [...read.constraints].sort(),
    env: [...((task.ContainerSpec?.Env as string[] | undefined) ?? [])].sort(),
    ports: ((spec.EndpointSpec?.Ports ?? []) as any[]).map((p) => portText(p.PublishedPort ?? 0, p.TargetPort, p.Protocol ?? 'tcp', p.PublishMode ?? 'ingress')).sort(),
    limits: { nanoCpus: limits?.NanoCPUs ?? 0, memoryBytes: limits?.MemoryBytes ?? 0 },
  };
}

/** Each service of the file against the running one of the same name; with `prune`, running ones the file no longer has are removed. */
export function planStack(desired: ReadonlyMap<string, ServiceFacts>, current: ReadonlyMap<string, ServiceFacts>, prune: boolean): ServicePlan[] {
  const plans: ServicePlan[] = [];
  for (const [name, want] of desired) {
    const have = current.get(name);
    if (!have) plans.push({ name, action: 'create', changes: [] });
    else {
      const changes = diffFacts(have, want);
      plans.push({ name, action: changes.length > 0 ? 'update' : 'unchanged', changes });
    }
  }
  for (const name of current.keys()) if (!desired.has(name)) plans.push({ name, action: prune ? 'remove' : 'keep', changes: [] });
  return plans.sort((a, b) => a.name.localeCompare(b.name));
}

function diffFacts(have: ServiceFacts, want: ServiceFacts): string[] {
  const changes: string[] = [];
  if (have.image !== want.image) changes.push(`image ${have.image} → ${want.image}`);
  else if (have.digest && want.digest && have.digest !== want.digest) changes.push(`image ${want.image} pushed again: ${shortDigest(have.digest)} → ${shortDigest(want.digest)}`);
  if (have.mode !== want.mode) changes.push(`mode ${have.mode} → ${want.mode}`);
  else if (have.replicas !== want.replicas) changes.push(`replicas ${have.replicas} → ${want.replicas}`);
  const keyOf = (e: string) => e.split('=')[0]!;
  const before = new Map(have.env.map((e) => [keyOf(e), e]));
  const after = new Map(want.env.map((e) => [keyOf(e), e]));
  const envChanges = [
    ...[...after.keys()].filter((k) => !before.has(k)).map((k) => `${k} added`),
    ...[...after.keys()].filter((k) => before.has(k) && before.get(k) !== after.get(k)).map((k) => `${k} changed`),
    ...[...before.keys()].filter((k) => !after.has(k)).map((k) => `${k} removed`),
  ];
  if (envChanges.length > 0) changes.push(`environment: ${envChanges.join(', ')} (values not shown)`);
  listChange('ports', have.ports, want.ports, changes);
  listChange('constraints', have.constraints, want.constraints, changes);
  for (const kind of ['limits', 'reservations'] as const) {
    if (have[kind].nanoCpus !== want[kind].nanoCpus) changes.push(`${kind}: cpus ${have[kind].nanoCpus / 1e9} → ${want[kind].nanoCpus / 1e9}`);
    if (have[kind].memoryBytes !== want[kind].memoryBytes) changes.push(`${kind}: memory ${mib(have[kind].memoryBytes)} → ${mib(want[kind].memoryBytes)}`);
  }
  return changes;
}

function listChange(what: string, before: string[], after: string[], changes: string[]): void {
  const added = after.filter((x) => !before.includes(x)).map((x) => `+${x}`);
  const removed = before.filter((x) => !after.includes(x)).map((x) => `-${x}`);
  if (added.length + removed.length > 0) changes.push(`${what}: ${[...added, ...removed].join(', ')}`);
}

function portText(published: number, target: number, protocol: string, mode: string): string {
  return `${published || '-'}:${target}/${protocol} ${mode}`;
}

function mib(bytes: number): string {
  return bytes === 0 ? 'none' : `${Math.round((bytes / 2 ** 20) * 10) / 10} MiB`;
}

/** Docker's cpus ("0.5") and memory ("64M", "1g", bytes) in the units the engine keeps. */
function resourceOf(resource: Json | undefined): { nanoCpus: number; memoryBytes: number } {
  return { nanoCpus: resource?.cpus !== undefined ? Math.round(Number(resource.cpus) * 1e9) : 0, memoryBytes: resource?.memory !== undefined ? memoryBytes(String(resource.memory)) : 0 };
}

function memoryBytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([bkmgtp]?)b?$/i.exec(text.trim());
  if (!match) return 0;
  const power = 'bkmgtp'.indexOf((match[2] || 'b').toLowerCase());
  return Math.round(Number(match[1]) * 1024 ** power);
}
