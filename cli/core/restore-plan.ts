import { rewriteReferences, type BackupContent } from './backup-content.js';
import type { EngineJson } from './swarm-api.js';

/** What the swarm restored into has now, by name. */
export interface RestoreTarget {
  networks: ReadonlySet<string>;
  configs: ReadonlySet<string>;
  secrets: ReadonlySet<string>;
  /** Service specs, with references by name as in a backup. */
  services: ReadonlyMap<string, EngineJson>;
  nodes: ReadonlyMap<string, Record<string, string>>;
}

export type SecretSource = { from: 'backup' | 'file'; path?: string };

export type RestoreStep =
  | { kind: 'network' | 'config'; name: string; action: 'create' | 'keep' }
  | { kind: 'secret'; name: string; action: 'create' | 'keep'; source?: SecretSource }
  | { kind: 'secret'; name: string; action: 'missing'; why: string }
  | { kind: 'labels'; name: string; action: 'add' | 'keep' | 'no-node'; labels: Record<string, string> }
  | { kind: 'service'; name: string; action: 'create' | 'update' | 'keep' }
  | { kind: 'service'; name: string; action: 'skip'; why: string };

export interface RestorePlan {
  steps: RestoreStep[];
  /** Services the plan creates or updates: what restore waits for. */
  changedServices: string[];
  warnings: string[];
}

/**
 * What restoring `backup` into `target` does: each network, config and secret created unless one
 * of that name is there (their content cannot change under a name); node labels added by hostname;
 * each service created, updated to the backed-up spec, or kept when already equal. A service that
 * needs a secret with no content anywhere is skipped, never created half-way.
 */
export function planRestore(backup: BackupContent, target: RestoreTarget, secretFiles: ReadonlyMap<string, string>): RestorePlan {
  const steps: RestoreStep[] = [];
  const warnings: string[] = [];
  for (const n of backup.networks) steps.push({ kind: 'network', name: n.name, action: target.networks.has(n.name) ? 'keep' : 'create' });
  for (const c of backup.configs) steps.push({ kind: 'config', name: c.name, action: target.configs.has(c.name) ? 'keep' : 'create' });
  const missing = new Set<string>();
  for (const s of backup.secrets) {
    if (target.secrets.has(s.name)) steps.push({ kind: 'secret', name: s.name, action: 'keep' });
    else if (secretFiles.has(s.name)) steps.push({ kind: 'secret', name: s.name, action: 'create', source: { from: 'file', path: secretFiles.get(s.name)! } });
    else if (s.data !== undefined) steps.push({ kind: 'secret', name: s.name, action: 'create', source: { from: 'backup' } });
    else {
      missing.add(s.name);
      steps.push({ kind: 'secret', name: s.name, action: 'missing', why: `${s.missing ?? 'no content'}; give it with --secret ${s.name}=FILE` });
    }
  }
  for (const n of backup.nodes) {
    if (Object.keys(n.labels).length === 0) continue;
    const current = target.nodes.get(n.hostname);
    if (!current) {
      steps.push({ kind: 'labels', name: n.hostname, action: 'no-node', labels: n.labels });
      warnings.push(`No node is named ${n.hostname} in this swarm: its labels (${formatLabels(n.labels)}) are not restored; add them with docker node update --label-add.`);
      continue;
    }
    const lacking = Object.fromEntries(Object.entries(n.labels).filter(([k, v]) => current[k] !== v));
    steps.push({ kind: 'labels', name: n.hostname, action: Object.keys(lacking).length ? 'add' : 'keep', labels: Object.keys(lacking).length ? lacking : n.labels });
  }
  const changedServices: string[] = [];
  for (const s of backup.services) {
    const needs = secretNames(s.spec).filter((name) => missing.has(name));
    if (needs.length > 0) {
      steps.push({ kind: 'service', name: s.name, action: 'skip', why: `it needs secret ${needs.join(', ')}, which has no content` });
      continue;
    }
    const current = target.services.get(s.name);
    const action = !current ? 'create' : sameSpec(current, s.spec) ? 'keep' : 'update';
    steps.push({ kind: 'service', name: s.name, action });
    if (action !== 'keep') changedServices.push(s.name);
  }
  return { steps, changedServices, warnings };
}

/** Whether a restore would refuse to go on: a secret with no content. */
export function blockedSteps(plan: RestorePlan): RestoreStep[] {
  return plan.steps.filter((s) => s.action === 'missing' || s.action === 'skip');
}

/** A backed-up spec with this swarm's IDs for the networks, secrets and configs it names. */
export function bindSpec(spec: EngineJson, ids: { networks: ReadonlyMap<string, string>; secrets: ReadonlyMap<string, string>; configs: ReadonlyMap<string, string> }): EngineJson {
  return rewriteReferences(spec, { network: (name) => ids.networks.get(name) ?? name, secret: (name) => ids.secrets.get(name), config: (name) => ids.configs.get(name) });
}

export function describeRestoreStep(step: RestoreStep): string {
  const what = { network: 'network', config: 'config', secret: 'secret', labels: 'labels of', service: 'service' }[step.kind];
  switch (step.action) {
    case 'create':
      return `create ${what} ${step.name}${step.kind === 'secret' && step.source ? (step.source.from === 'file' ? ` (from ${step.source.path})` : ' (content from the backup)') : ''}`;
    case 'update':
      return `update ${what} ${step.name} to its backed-up spec`;
    case 'keep':
      return `keep ${what} ${step.name} (already there${step.kind === 'service' ? ', same spec' : ''})`;
    case 'add':
      return `add labels ${formatLabels((step as { labels: Record<string, string> }).labels)} to ${step.name}`;
    case 'no-node':
      return `leave out labels of ${step.name} (no such node here)`;
    case 'missing':
    case 'skip':
      return `cannot restore ${what} ${step.name}: ${step.why}`;
  }
}

function formatLabels(labels: Record<string, string>): string {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(' ');
}

function secretNames(spec: EngineJson): string[] {
  return (spec.TaskTemplate?.ContainerSpec?.Secrets ?? []).map((s: EngineJson) => String(s.SecretName));
}

/** Specs compared as the engine keeps them; key order does not matter, digests of the same tag do not either. */
function sameSpec(a: EngineJson, b: EngineJson): boolean {
  return stable(withoutDigest(a)) === stable(withoutDigest(b));
}

function withoutDigest(spec: EngineJson): EngineJson {
  const copy = structuredClone(spec) as EngineJson;
  const container = copy.TaskTemplate?.ContainerSpec;
  if (container?.Image) container.Image = String(container.Image).replace(/@sha256:[0-9a-f]+$/, '');
  return copy;
}

function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${stable((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
