import type { SwarmMembership } from './node-facts.js';
import type { SwarmRole } from './swarm-plan.js';

/**
 * One node's Docker Engine, as piswarm uses it: the swarm's membership and its nodes. Services
 * depend on this, never on how it is reached (adapters/engine-api: dockerode over the node's
 * verified SSH connection). Secrets (join tokens) travel only in request and response bodies.
 */
export interface SwarmApi {
  /** What the engine says of itself and its swarm membership (`docker info`). */
  info(): Promise<EngineInfo>;
  /** Makes this engine the first manager; returns its node ID. */
  swarmInit(options: { advertiseAddr: string }): Promise<string>;
  /** Joins the swarm of the manager at `managerAddr` (an IP; port 2377) with a join token. */
  swarmJoin(options: { token: string; managerAddr: string; advertiseAddr: string }): Promise<void>;
  /** Leaves the swarm; false when the engine was in none. */
  swarmLeave(force: boolean): Promise<boolean>;
  /** A manager's join token for the role. */
  joinToken(role: SwarmRole): Promise<string>;
  /** A swarm node's labels, as its spec holds them. */
  nodeLabels(nodeId: string): Promise<Record<string, string>>;
  /** Changes a swarm node's spec (through a manager): its role, availability and/or labels added. */
  updateNode(nodeId: string, change: NodeChange): Promise<void>;
  /** Removes a node from the swarm (through a manager); `force` for one that is still up. */
  removeNode(nodeId: string, force: boolean): Promise<void>;
  /**
   * Sets a replicated service's replicas, keeping the rest of its spec (what `docker service scale`
   * does), and in the same update sets these labels (null removes one).
   */
  scaleService(serviceId: string, replicas: number, labels?: Record<string, string | null>): Promise<void>;
  /** The names among these secrets or configs the swarm has. */
  existingObjects(kind: ObjectKind, names: readonly string[]): Promise<Set<string>>;
  /** Creates a secret or config with this content (it travels in the request body only). */
  createObject(kind: ObjectKind, name: string, content: string, labels: Record<string, string>): Promise<void>;
  /** The services, networks, secrets or configs with this label (KEY or KEY=VALUE), with all their labels. */
  labelled(kind: SwarmObjectKind, label: string): Promise<Array<{ id: string; name: string; labels: Record<string, string> }>>;
  /** Replaces a config's labels (the only part of a config the engine lets change). */
  relabelConfig(id: string, labels: Record<string, string>): Promise<void>;
  /** Every service, network, secret or config, as the engine's JSON (configs with their data). */
  list(kind: SwarmObjectKind): Promise<EngineJson[]>;
  /**
   * Creates a network or service from its spec (the JSON `docker inspect` shows as Spec); returns
   * its ID. `registryAuth` (a service's image login) travels in a request header only.
   */
  create(kind: 'network' | 'service', spec: EngineJson, registryAuth?: { username: string; password: string; serveraddress: string }): Promise<string>;
  /** Replaces a service's spec with this one (the version read just before). */
  updateService(serviceId: string, spec: EngineJson, registryAuth?: { username: string; password: string; serveraddress: string }): Promise<void>;
  /** Removes a service, network, secret or config; false when it was already gone. */
  remove(kind: SwarmObjectKind, id: string): Promise<boolean>;
  /** Every swarm node, service or task, as the engine's JSON (a manager's view); tasks optionally only those meant to run now. */
  nodes(): Promise<EngineJson[]>;
  services(): Promise<EngineJson[]>;
  tasks(options?: { currentOnly?: boolean }): Promise<EngineJson[]>;
  /**
   * The engine's events of these types and actions as they happen, until `signal` aborts or
   * `seconds` pass (the engine ends the stream); resolves when it has ended.
   */
  events(filter: { types: readonly string[]; actions: readonly string[]; seconds: number }, onEvent: (event: EngineJson) => void, signal: AbortSignal): Promise<void>;
  /**
   * A service's log lines from every task (stdout and stderr), each with its time and details
   * (task and node IDs), until the logs end (or, following, `signal` aborts).
   */
  serviceLogs(serviceId: string, options: { follow: boolean; since?: string; tail?: number }, onLine: (line: string) => void, signal: AbortSignal): Promise<void>;
  close(): void;
}

/**
 * The engine actions that change what piswarm shows: healthchecks alone make three exec events
 * per container per interval, which would wake every watcher all the time.
 */
export const WATCHED_ACTIONS = ['start', 'die', 'oom', 'destroy', 'health_status', 'create', 'update', 'remove'] as const;

/** An object as the Engine API returns it (the same JSON as `docker inspect`). */
export type EngineJson = Record<string, any>;

export interface EngineInfo {
  hostname: string;
  arch: string;
  serverVersion: string;
  /** The API version the two sides agreed on, e.g. "1.41". */
  apiVersion: string;
  swarm: SwarmMembership;
  /** Where it keeps its data, how it logs, what it warns of, and (managers) the swarm's certificate lifetime. */
  details?: { dockerRootDir: string; loggingDriver: string; warnings: string[]; certExpirySeconds?: number };
}

/** A swarm membership from the engine's info: the same reading `docker info` gives. */
export function membershipOf(swarm: { LocalNodeState?: string; ControlAvailable?: boolean; NodeID?: string; Cluster?: { ID?: string }; RemoteManagers?: Array<{ Addr?: string }> | null } = {}): SwarmMembership {
  const state = swarm.LocalNodeState;
  if (state === 'active') {
    if (swarm.ControlAvailable) return { state: 'manager', clusterId: swarm.Cluster?.ID ?? '', nodeId: swarm.NodeID ?? '' };
    return { state: 'worker', nodeId: swarm.NodeID ?? '', managers: (swarm.RemoteManagers ?? []).flatMap((m) => (m.Addr ? [m.Addr] : [])) };
  }
  if (state === 'pending' || state === 'error' || state === 'locked') return { state };
  return { state: 'none' };
}

/** Whether Engine API version `version` ("1.41") is at least `min`. */
export function apiVersionAtLeast(version: string, min: string): boolean {
  const [vm = 0, vn = 0] = version.split('.').map(Number);
  const [mm = 0, mn = 0] = min.split('.').map(Number);
  return vm > mm || (vm === mm && vn >= mn);
}

export interface NodeChange {
  role?: SwarmRole;
  availability?: 'active' | 'pause' | 'drain';
  addLabels?: Record<string, string>;
}

export type ObjectKind = 'secret' | 'config';
export type SwarmObjectKind = ObjectKind | 'service' | 'network';

/** What the engine said when it refused a request: its HTTP status and message. */
export class EngineError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
