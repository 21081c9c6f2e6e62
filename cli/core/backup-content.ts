import { createHash } from 'node:crypto';
import type { EngineJson } from './swarm-api.js';

/** What a backup holds: everything that rebuilds the cluster's workloads, in the engine's own words. */
export interface BackupContent {
  format: 'piswarm-backup';
  version: 1;
  createdAt: string;
  swarmId: string;
  inventory?: { file: string; text: string };
  nodes: Array<{ hostname: string; role: string; availability: string; labels: Record<string, string> }>;
  /** Swarm-scoped networks the user made (stacks' included), as specs to create. */
  networks: Array<{ name: string; spec: EngineJson }>;
  configs: Array<{ name: string; labels: Record<string, string>; data: string }>;
  /** `data` (base64) when piswarm could read the content from the file it was made from; else `missing` says why. */
  secrets: Array<{ name: string; labels: Record<string, string>; source?: string; data?: string; missing?: string }>;
  /** Service specs with networks, secrets and configs referred to by name (IDs differ in another swarm). */
  services: Array<{ name: string; stack?: string; spec: EngineJson }>;
}

/** The label piswarm puts on a secret or config it made from a file: the file's absolute path. */
export const SOURCE_LABEL = 'io.piswarm.source';
/** piswarm's own bookkeeping (the swarm lock, an upgrade record): not part of the cluster's workloads. */
const OWN_CONFIGS = new Set(['piswarm-lock', 'piswarm-upgrade']);

export interface SwarmSnapshot {
  swarmId: string;
  nodes: EngineJson[];
  services: EngineJson[];
  networks: EngineJson[];
  configs: EngineJson[];
  secrets: EngineJson[];
}

/**
 * The backup of a swarm as its manager lists it. `readSource` reads a secret's source file
 * (undefined when it cannot); its content is kept only when it is still what the secret was made
 * from (the hash in the secret's name).
 */
export async function buildBackup(swarm: SwarmSnapshot, readSource: (path: string) => Promise<string | undefined>, inventory?: { file: string; text: string }): Promise<BackupContent> {
  const networks = swarm.networks.filter((n) => n.Scope === 'swarm' && !n.Ingress && n.Name !== 'ingress' && !n.Labels?.['com.docker.network.ingress']);
  const networkNames = new Map(networks.map((n) => [String(n.Id), String(n.Name)]));
  const secrets = await Promise.all(
    swarm.secrets.map(async (s) => {
      const name = String(s.Spec.Name);
      const labels = { ...s.Spec.Labels } as Record<string, string>;
      const source = labels[SOURCE_LABEL];
      if (!source) return { name, labels, missing: 'made outside piswarm: the swarm never gives a secret back' };
      const content = await readSource(source);
      if (content === undefined) return { name, labels, source, missing: `its file ${source} is not readable here` };
      if (!matchesName(name, content)) return { name, labels, source, missing: `its file ${source} changed since the secret was made` };
      return { name, labels, source, data: Buffer.from(content, 'utf8').toString('base64') };
    }),
  );
  return {
    format: 'piswarm-backup',
    version: 1,
    createdAt: new Date().toISOString(),
    swarmId: swarm.swarmId,
    ...(inventory ? { inventory } : {}),
    nodes: swarm.nodes.map((n) => ({ hostname: String(n.Description?.Hostname ?? n.ID), role: String(n.Spec?.Role), availability: String(n.Spec?.Availability), labels: { ...n.Spec?.Labels } })),
    networks: networks.map((n) => ({ name: String(n.Name), spec: networkSpec(n) })),
    configs: swarm.configs.filter((c) => !OWN_CONFIGS.has(c.Spec.Name)).map((c) => ({ name: String(c.Spec.Name), labels: { ...c.Spec.Labels }, data: String(c.Spec.Data ?? '') })),
    secrets,
    services: swarm.services.map((s) => ({ name: String(s.Spec.Name), stack: s.Spec.Labels?.['com.docker.stack.namespace'], spec: portableSpec(s.Spec, networkNames) })),
  };
}

/** Names piswarm gives file objects end in the first 10 hex digits of the content's SHA-256. */
function matchesName(name: string, content: string): boolean {
  const hash = /_([0-9a-f]{10})$/.exec(name)?.[1];
  return hash === undefined || createHash('sha256').update(content).digest('hex').startsWith(hash);
}

function networkSpec(n: EngineJson): EngineJson {
  const ipam = n.IPAM?.Config?.length ? { IPAM: { Driver: n.IPAM.Driver ?? 'default', Config: n.IPAM.Config, Options: n.IPAM.Options ?? {} } } : {};
  return { Name: n.Name, Driver: n.Driver, Attachable: n.Attachable === true, Internal: n.Internal === true, Labels: { ...n.Labels }, Options: { ...n.Options }, ...ipam };
}

/** A service spec whose network, secret and config references are names, not this swarm's IDs. */
export function portableSpec(spec: EngineJson, networkNames: ReadonlyMap<string, string>): EngineJson {
  return rewriteReferences(spec, { network: (id) => networkNames.get(id) ?? id, secret: () => undefined, config: () => undefined });
}

/**
 * A copy of a service spec with its network targets and secret and config IDs rewritten (an
 * undefined ID is left out): to names for a backup, to a swarm's IDs for a restore.
 */
export function rewriteReferences(spec: EngineJson, to: { network: (target: string) => string; secret: (name: string) => string | undefined; config: (name: string) => string | undefined }): EngineJson {
  const copy = structuredClone(spec) as EngineJson;
  const task = copy.TaskTemplate ?? {};
  task.Networks = (task.Networks ?? []).map((n: EngineJson) => ({ ...n, Target: to.network(n.Target) }));
  const container = task.ContainerSpec ?? {};
  container.Secrets = (container.Secrets ?? []).map(({ SecretID: _, ...rest }: EngineJson) => withId(rest, 'SecretID', to.secret(rest.SecretName)));
  container.Configs = (container.Configs ?? []).map(({ ConfigID: _, ...rest }: EngineJson) => withId(rest, 'ConfigID', to.config(rest.ConfigName)));
  return copy;
}

function withId(reference: EngineJson, key: string, id: string | undefined): EngineJson {
  return id === undefined ? reference : { ...reference, [key]: id };
}

/** One line per kind, for `backup --list` and the closing line of `backup`. */
export function summarise(content: BackupContent): Array<{ kind: string; items: string[] }> {
  return [
    { kind: 'nodes', items: content.nodes.map((n) => `${n.hostname} (${n.role}, ${n.availability}${Object.keys(n.labels).length ? `, ${Object.entries(n.labels).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''})`) },
    { kind: 'stacks', items: [...new Set(content.services.flatMap((s) => s.stack ?? []))] },
    { kind: 'services', items: content.services.map((s) => `${s.name} (${s.spec.Mode?.Replicated ? `${s.spec.Mode.Replicated.Replicas} replicas` : 'global'})`) },
    { kind: 'networks', items: content.networks.map((n) => n.name) },
    { kind: 'configs', items: content.configs.map((c) => c.name) },
    { kind: 'secrets', items: content.secrets.map((s) => (s.data !== undefined ? `${s.name} (content kept, from ${s.source})` : `${s.name} (no content: ${s.missing})`)) },
  ];
}
