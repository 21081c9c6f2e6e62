import { buildBackup, portableSpec, type BackupContent, type SwarmSnapshot } from '../../core/backup-content.js';
import type { Convergence } from '../../core/convergence.js';
import { bindSpec, planRestore, type RestorePlan, type RestoreStep } from '../../core/restore-plan.js';
import type { EngineJson } from '../../core/swarm-api.js';
import { PiswarmError } from '../../errors.js';
import type { NodeSession } from './node-session.js';
import { followServices } from './follow-services.js';

/** Everything a manager lists of its swarm, in one look. */
export async function snapshotSwarm(manager: NodeSession): Promise<SwarmSnapshot> {
  const swarm = manager.facts.swarm;
  if (swarm.state !== 'manager') throw new PiswarmError(`${manager.node.hostname} is not a swarm manager.`);
  const [nodes, services, networks, configs, secrets] = await manager.engine('read the swarm', (api) => Promise.all([api.nodes(), api.list('service'), api.list('network'), api.list('config'), api.list('secret')]));
  return { swarmId: swarm.clusterId, nodes, services, networks, configs, secrets };
}

export async function backupSwarm(manager: NodeSession, readSource: (path: string) => Promise<string | undefined>, inventory?: { file: string; text: string }): Promise<BackupContent> {
  return buildBackup(await snapshotSwarm(manager), readSource, inventory);
}

/** The restore plan against the swarm `manager` manages now. */
export async function planRestoreInto(manager: NodeSession, backup: BackupContent, secretFiles: ReadonlyMap<string, string>): Promise<RestorePlan> {
  const now = await snapshotSwarm(manager);
  const names = (list: EngineJson[], pick: (o: EngineJson) => string) => new Set(list.map(pick));
  const networkNames = new Map(now.networks.map((n) => [String(n.Id), String(n.Name)]));
  return planRestore(
    backup,
    {
      networks: names(now.networks, (n) => n.Name),
      configs: names(now.configs, (c) => c.Spec.Name),
      secrets: names(now.secrets, (s) => s.Spec.Name),
      services: new Map(now.services.map((s) => [String(s.Spec.Name), portableSpec(s.Spec, networkNames)])),
      nodes: new Map(now.nodes.map((n) => [String(n.Description?.Hostname), { ...n.Spec?.Labels }])),
    },
    secretFiles,
  );
}

export interface RestorePorts {
  /** A secret's content from the file the user named. */
  readSecretFile(path: string): Promise<string>;
  /** The tag's digest in its registry now; undefined when the registry cannot be read. */
  currentDigest(image: string): Promise<string | undefined>;
  /** The login for an image's registry (piswarm's home registry), if any. */
  registryAuth(image: string): Promise<{ username: string; password: string; serveraddress: string } | undefined>;
}

export interface RestoreEvents {
  step(message: string): void;
  warn(message: string): void;
  progress(state: Convergence): void;
}

/** Carries out a restore plan in dependency order, then follows the changed services until they converge. */
export async function applyRestore(manager: NodeSession, nodes: readonly NodeSession[], backup: BackupContent, plan: RestorePlan, options: { timeoutMs: number; windowMs: number }, ports: RestorePorts, events: RestoreEvents): Promise<Convergence> {
  const todo = (kind: RestoreStep['kind']) => plan.steps.filter((s) => s.kind === kind && (s.action === 'create' || s.action === 'update' || s.action === 'add'));
  for (const step of todo('network')) {
    events.step(`create network ${step.name}`);
    await manager.engine(`create network ${step.name}`, (api) => api.create('network', backup.networks.find((n) => n.name === step.name)!.spec));
  }
  for (const step of todo('config')) {
    const config = backup.configs.find((c) => c.name === step.name)!;
    events.step(`create config ${step.name}`);
    await manager.engine(`create config ${step.name}`, (api) => api.createObject('config', config.name, Buffer.from(config.data, 'base64').toString('utf8'), config.labels));
  }
  for (const step of todo('secret')) {
    const secret = backup.secrets.find((s) => s.name === step.name)!;
    const source = (step as { source?: { from: string; path?: string } }).source;
    const content = source?.from === 'file' ? await ports.readSecretFile(source.path!) : Buffer.from(secret.data!, 'base64').toString('utf8');
    events.step(`create secret ${step.name}`);
    await manager.engine(`create secret ${step.name}`, (api) => api.createObject('secret', secret.name, content, secret.labels));
  }
  const swarmNodes = await manager.engine('read the nodes', (api) => api.nodes());
  for (const step of todo('labels')) {
    const node = swarmNodes.find((n) => n.Description?.Hostname === step.name)!;
    events.step(`label ${step.name}`);
    await manager.engine(`label ${step.name}`, (api) => api.updateNode(String(node.ID), { addLabels: (step as { labels: Record<string, string> }).labels }));
  }
  const ids = await objectIds(manager);
  const started = Date.now();
  for (const step of todo('service')) {
    const spec = await repin(bindSpec(backup.services.find((s) => s.name === step.name)!.spec, ids), ports, events);
    const auth = await ports.registryAuth(String(spec.TaskTemplate?.ContainerSpec?.Image ?? ''));
    events.step(`${step.action} service ${step.name}`);
    const current = ids.services.get(step.name);
    await manager.engine(`${step.action} service ${step.name}`, async (api) => void (current ? await api.updateService(current, spec, auth) : await api.create('service', spec, auth)));
  }
  if (plan.changedServices.length === 0) return { services: [], converged: true };
  events.step(`follow ${plan.changedServices.length} service(s) until they converge`);
  return followServices(manager, nodes, { names: plan.changedServices }, { ...options, since: started, what: 'the restored services' }, events.progress);
}

async function objectIds(manager: NodeSession) {
  const [networks, secrets, configs, services] = await manager.engine('read the swarm', (api) => Promise.all([api.list('network'), api.list('secret'), api.list('config'), api.list('service')]));
  const byName = (list: EngineJson[], name: (o: EngineJson) => string, id: (o: EngineJson) => string) => new Map(list.map((o) => [name(o), id(o)]));
  return {
    networks: byName(networks, (n) => n.Name, (n) => n.Id),
    secrets: byName(secrets, (s) => s.Spec.Name, (s) => s.ID),
    configs: byName(configs, (c) => c.Spec.Name, (c) => c.ID),
    services: byName(services, (s) => s.Spec.Name, (s) => s.ID),
  };
}

/**
 * An image pinned to a digest its registry no longer serves (rebuilt after the disaster) would
 * never start: the tag's digest now is used instead, and said so.
 */
async function repin(spec: EngineJson, ports: RestorePorts, events: RestoreEvents): Promise<EngineJson> {
  const container = spec.TaskTemplate?.ContainerSpec;
  const match = /^(.+)@(sha256:[0-9a-f]+)$/.exec(String(container?.Image ?? ''));
  if (!match) return spec;
  const now = await ports.currentDigest(match[1]!).catch(() => undefined);
  if (now && now !== match[2]) {
    events.warn(`${spec.Name}: ${match[1]} is ${now.slice(0, 19)} in its registry now, not ${match[2]!.slice(0, 19)} as backed up; the current image is used.`);
    container.Image = `${match[1]}@${now}`;
  }
  return spec;
}
