import { parse } from 'yaml';
import type { ExecResult, SshConnection, SshConnector } from '../../cli/adapters/ssh.js';
import { NODE_FACTS_SCRIPT } from '../../cli/core/node-facts.js';
import { ConnectionLostError } from '../../cli/errors.js';
import { EngineError, type EngineJson, type NodeChange, type SwarmApi, type SwarmObjectKind } from '../../cli/core/swarm-api.js';
import type { NodeSession } from '../../cli/services/swarm/node-session.js';
import { sessionOver } from './fake-session.js';

export interface FakeNode {
  id: string;
  /** As the node reports it; its ID unless given (a replacement may share a dead node's). */
  hostname?: string;
  role: 'manager' | 'worker';
  availability?: 'active' | 'pause' | 'drain';
  arch?: string;
  /** 'none': its engine is in no swarm yet (it is not listed until it inits or joins). */
  state?: 'ready' | 'down' | 'none';
  labels?: Record<string, string>;
}

export interface FakeService {
  id: string;
  name: string;
  stack?: string;
  /** Replicas; absent for a global service. */
  replicas?: number;
  labels?: Record<string, string>;
  image?: string;
}

interface FakeTask {
  id: string;
  serviceId: string;
  nodeId: string;
  slot: number;
  desired: 'running' | 'shutdown';
  state: 'running' | 'shutdown' | 'rejected';
  error?: string;
  since: number;
}

/**
 * A swarm in memory behind the SwarmApi, with a scheduler that acts at once: after every write,
 * tasks leave drained and down nodes and land on the least-loaded active ones, and a scale
 * starts or stops tasks. Every write is recorded, in order, as `kind id detail`.
 */
export class FakeSwarm {
  readonly writes: string[] = [];
  /** The fewest running tasks each service had at any moment (by name): a drain must never lower it. */
  readonly lowest: Record<string, number> = {};
  readonly nodes: Array<Required<FakeNode>>;
  readonly services: FakeService[];
  readonly objects: Array<{ kind: SwarmObjectKind; id: string; name: string; labels: Record<string, string> }> = [];
  /** Images whose tasks the nodes reject, with the error they give. */
  readonly failing = new Map<string, string>();
  /** What `docker stack deploy` received on the manager: the script and the compose file. */
  readonly deploys: Array<{ script: string; input?: string }> = [];
  /** Nodes that lost power: their tasks can no longer report (they stay running in the managers' view). */
  readonly dead = new Set<string>();
  private readonly left = new Set<string>();
  private tasks: FakeTask[] = [];
  private nextTask = 1;
  private nextObject = 1;

  constructor(nodes: readonly FakeNode[], services: readonly FakeService[], placement: Record<string, string[]> = {}) {
    this.nodes = nodes.map((n) => ({ availability: 'active', arch: 'aarch64', state: 'ready', labels: {}, ...n }));
    this.services = services.map((s) => ({ ...s }));
    // Tasks that have run for a minute already, where `placement` puts them (service ID → node IDs).
    for (const [serviceId, nodeIds] of Object.entries(placement)) nodeIds.forEach((nodeId, i) => this.tasks.push(this.task(serviceId, nodeId, i + 1, Date.now() - 60_000)));
    this.schedule();
  }

  /** The session of the node `id`; its shell runs `docker stack deploy` only, unless `exec` says otherwise. */
  session(id = this.nodes[0]!.id, exec?: SshConnection['exec']): NodeSession {
    const session = sessionOver(this.api(id), id, `10.0.0.${this.nodes.findIndex((n) => n.id === id) + 11}`, exec ?? ((script, options) => this.stackDeploy(script, options?.input)));
    const node = this.nodes.find((n) => n.id === id)!;
    session.facts = { hostname: id, arch: node.arch, swarm: node.role === 'manager' ? { state: 'manager', clusterId: 'c1', nodeId: id } : { state: 'worker', nodeId: id, managers: [] } };
    return session;
  }

  /** The managers notice a dead node's silence: it shows as down. */
  markDown(id: string): void {
    this.node(id).state = 'down';
    this.schedule();
  }

  /** Where each service's running tasks are, as `service: node node …` sorted. */
  placement(): Record<string, string> {
    return Object.fromEntries(this.services.map((s) => [s.name, this.running(s.id).map((t) => t.nodeId).sort().join(' ')]));
  }

  api(self: string): Partial<SwarmApi> {
    return {
      info: async () => {
        const node = this.nodes.find((n) => n.id === self);
        const inSwarm = node && node.state !== 'none' && !this.left.has(self);
        const swarm = !inSwarm ? { state: 'none' as const } : node.role === 'manager' ? { state: 'manager' as const, clusterId: 'c1', nodeId: self } : { state: 'worker' as const, nodeId: self, managers: ['m1:2377'] };
        return { hostname: self, arch: node?.arch ?? 'aarch64', serverVersion: '24.0.7', apiVersion: '1.43', swarm };
      },
      nodes: async () => this.nodes.filter((n) => n.state !== 'none').map((n) => this.nodeJson(n)),
      swarmInit: async ({ advertiseAddr }) => {
        this.writes.push(`init ${self} ${advertiseAddr}`);
        Object.assign(this.node(self), { state: 'ready', role: 'manager' });
        return self;
      },
      joinToken: async (role) => `SWMTKN-1-${role}-secret`,
      swarmJoin: async ({ token, managerAddr }) => {
        const role = token.includes('manager') ? 'manager' : 'worker';
        this.writes.push(`join ${self} as ${role} via ${managerAddr}`);
        Object.assign(this.node(self), { state: 'ready', role });
        this.schedule();
      },
      nodeLabels: async (id) => ({ ...this.node(id).labels }),
      services: async () => this.services.map((s) => this.serviceJson(s)),
      tasks: async ({ currentOnly } = {}) => this.tasks.filter((t) => !currentOnly || t.desired === 'running').map((t) => this.taskJson(t)),
      events: (_filter, _onEvent, signal) => new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true }))),
      updateNode: async (id: string, change: NodeChange) => {
        this.writes.push(`node ${id} ${JSON.stringify(change)}`);
        const node = this.node(id);
        if (change.role) node.role = change.role;
        if (change.availability) node.availability = change.availability;
        if (change.addLabels) Object.assign(node.labels, change.addLabels);
        this.schedule();
      },
      scaleService: async (id: string, replicas: number, labels: Record<string, string | null> = {}) => {
        this.writes.push(`scale ${this.service(id).name} ${replicas}`);
        const service = this.service(id);
        service.replicas = replicas;
        for (const [key, value] of Object.entries(labels)) if (value === null) delete service.labels?.[key];
        else service.labels = { ...service.labels, [key]: value };
        this.schedule();
      },
      removeNode: async (id: string, force: boolean) => {
        this.writes.push(`rm node ${id}${force ? ' --force' : ''}`);
        if (this.node(id).state !== 'down' && !force) throw new Error(`node ${id} is not down and can't be removed`);
        this.nodes.splice(this.nodes.indexOf(this.node(id)), 1);
      },
      swarmLeave: async (force: boolean) => {
        this.writes.push(`leave ${self}${force ? ' --force' : ''}`);
        // Listed as down until a manager removes it; its own engine is in no swarm.
        this.node(self).state = 'down';
        this.left.add(self);
        this.schedule();
        return true;
      },
      labelled: async (kind: SwarmObjectKind, label: string) => {
        const [key, value] = label.split('=');
        if (kind === 'service') return this.services.filter((s) => key === 'com.docker.stack.namespace' && s.stack === value).map((s) => ({ id: s.id, name: s.name, labels: { [key]: value! } }));
        return this.objects.filter((o) => o.kind === kind && key! in o.labels && (value === undefined || o.labels[key!] === value)).map((o) => ({ id: o.id, name: o.name, labels: { ...o.labels } }));
      },
      relabelConfig: async (id, labels) => {
        const object = this.objects.find((o) => o.kind === 'config' && o.id === id);
        if (!object) throw new EngineError(404, `config ${id} not found`);
        object.labels = { ...labels };
      },
      // One line from each running task, as the engine sends them with details and timestamps.
      serviceLogs: async (id, _options, onLine) => {
        for (const t of this.running(id)) onLine(`2026-12-01T10:00:00.000000000Z com.docker.swarm.node.id=${t.nodeId},com.docker.swarm.service.id=${id},com.docker.swarm.task.id=${t.id} hello from ${t.nodeId}`);
      },
      existingObjects: async (kind, names) => new Set(this.objects.filter((o) => o.kind === kind && names.includes(o.name)).map((o) => o.name)),
      createObject: async (kind, name, content, labels) => {
        if (content.length === 0) throw new EngineError(400, `rpc error: code = InvalidArgument desc = ${kind} data must be larger than 0 and less than 1024000 bytes`);
        if (this.objects.some((o) => o.kind === kind && o.name === name)) throw new EngineError(409, `rpc error: code = AlreadyExists desc = ${kind} ${name} already exists`);
        this.writes.push(`create ${kind} ${name}`);
        this.objects.push({ kind, id: `o${this.nextObject++}`, name, labels });
      },
      remove: async (kind: SwarmObjectKind, id: string) => {
        this.writes.push(`rm ${kind} ${id}`);
        if (kind === 'service') {
          const at = this.services.findIndex((s) => s.id === id);
          if (at < 0) return false;
          this.services.splice(at, 1);
          this.tasks = this.tasks.filter((t) => t.serviceId !== id);
          return true;
        }
        const at = this.objects.findIndex((o) => o.kind === kind && o.id === id);
        if (at >= 0) this.objects.splice(at, 1);
        return at >= 0;
      },
    };
  }

  /**
   * The manager's `docker stack deploy -c - NAME` (the only script a cluster command runs): the
   * file's services created or updated as NAME_SERVICE, with their replicas and image.
   */
  private async stackDeploy(script: string, input?: string): Promise<ExecResult> {
    const name = /stack deploy .* -c - '?([\w-]+)'?/.exec(script)?.[1];
    if (!name || !input) return { code: 1, stdout: '', stderr: `not a stack deploy: ${script.split('\n').pop()}` };
    this.deploys.push({ script, input });
    const file = parse(input) as { services: Record<string, { image: string; deploy?: { replicas?: number; mode?: string } }> };
    for (const [key, service] of Object.entries(file.services)) {
      const existing = this.services.find((s) => s.name === `${name}_${key}`);
      const spec = { name: `${name}_${key}`, stack: name, image: service.image, ...(service.deploy?.mode === 'global' ? {} : { replicas: service.deploy?.replicas ?? 1 }) };
      if (existing) Object.assign(existing, spec);
      else this.services.push({ id: `s${this.services.length + 1}`, ...spec });
      this.writes.push(`${existing ? 'update' : 'create'} service ${name}_${key}`);
    }
    this.schedule();
    return { code: 0, stdout: `Creating service ${name}_…\n`, stderr: '' };
  }

  private running(serviceId: string): FakeTask[] {
    return this.tasks.filter((t) => t.serviceId === serviceId && t.desired === 'running');
  }

  /** Tasks off nodes that cannot run them, then each service topped up (or cut) to its count on the least-loaded active nodes. */
  private schedule(): void {
    const usable = (id: string) => this.nodes.some((n) => n.id === id && n.state === 'ready' && n.availability !== 'drain');
    for (const t of this.tasks) if (t.desired === 'running' && !usable(t.nodeId)) Object.assign(t, { desired: 'shutdown', state: this.dead.has(t.nodeId) ? t.state : 'shutdown' });
    const load = (id: string) => this.tasks.filter((t) => t.nodeId === id && t.desired === 'running').length;
    const open = () => this.nodes.filter((n) => n.state === 'ready' && n.availability === 'active' && !this.dead.has(n.id));
    for (const service of this.services) {
      if (service.replicas === undefined) {
        for (const node of open().filter((n) => !this.running(service.id).some((t) => t.nodeId === n.id))) this.tasks.push(this.task(service.id, node.id, 0, Date.now()));
        continue;
      }
      while (this.running(service.id).length > service.replicas) Object.assign(this.running(service.id).at(-1)!, { desired: 'shutdown', state: 'shutdown' });
      while (this.running(service.id).filter((t) => t.state === 'running').length < service.replicas) {
        const node = open().sort((a, b) => load(a.id) - load(b.id))[0];
        if (!node) break;
        const task = this.task(service.id, node.id, this.running(service.id).length + 1, Date.now());
        this.tasks.push(task);
        const error = this.failing.get(service.image ?? '');
        if (error) {
          Object.assign(task, { state: 'rejected', error });
          break;
        }
      }
    }
    for (const service of this.services) this.lowest[service.name] = Math.min(this.lowest[service.name] ?? Infinity, this.running(service.id).length);
  }

  private task(serviceId: string, nodeId: string, slot: number, since: number): FakeTask {
    return { id: `t${this.nextTask++}`, serviceId, nodeId, slot, desired: 'running', state: 'running', since };
  }

  private node(id: string) {
    const node = this.nodes.find((n) => n.id === id);
    if (!node) throw new Error(`no node ${id}`);
    return node;
  }

  private service(id: string) {
    const service = this.services.find((s) => s.id === id);
    if (!service) throw new Error(`no service ${id}`);
    return service;
  }

  private nodeJson(n: Required<FakeNode>): EngineJson {
    const leader = this.nodes.find((m) => m.role === 'manager' && m.state === 'ready');
    return {
      ID: n.id,
      Description: { Hostname: n.hostname ?? n.id, Platform: { Architecture: n.arch, OS: 'linux' }, Resources: { NanoCPUs: 4e9, MemoryBytes: 4e9 } },
      Spec: { Role: n.role, Availability: n.availability, Labels: { ...n.labels } },
      Status: { State: n.state },
      ...(n.role === 'manager' ? { ManagerStatus: { Reachability: n.state === 'ready' ? 'reachable' : 'unreachable', Leader: n === leader, Addr: `${n.id}:2377` } } : {}),
    };
  }

  private serviceJson(s: FakeService): EngineJson {
    return {
      ID: s.id,
      Spec: {
        Name: s.name,
        Labels: { ...s.labels, ...(s.stack ? { 'com.docker.stack.namespace': s.stack } : {}) },
        Mode: s.replicas === undefined ? { Global: {} } : { Replicated: { Replicas: s.replicas } },
        TaskTemplate: { ContainerSpec: { Image: s.image ?? 'hello:1' } },
      },
    };
  }

  private taskJson(t: FakeTask): EngineJson {
    return { ID: t.id, ServiceID: t.serviceId, NodeID: t.nodeId, Slot: t.slot, DesiredState: t.desired, Status: { State: t.state, Timestamp: new Date(t.since).toISOString(), ...(t.error ? { Err: t.error } : {}) } };
  }
}

/**
 * SSH to the fake swarm's nodes by address (`ids`: address → node ID; any other address does not
 * answer), and the engine of each connection: what openSessions takes as connector and openApi.
 * `onExec` may answer a script itself, or say 'cut': that node's cable is pulled then (its open
 * connections lost, its engine gone from them, new connections failing); `cutAt` pulls it just
 * before the engine call it names ('swarmLeave') reaches the node. `heal` plugs it back in.
 */
export function fakeConnector(
  fake: FakeSwarm,
  ids: Readonly<Record<string, string>>,
  hooks: { onExec?: (host: string, script: string) => ExecResult | 'cut' | undefined; cutAt?: (host: string, call: string) => boolean } = {},
): { connector: SshConnector; openApi: (connection: SshConnection) => Promise<SwarmApi>; tried: string[]; scripts: string[]; heal(host: string): void } {
  const { onExec, cutAt } = hooks;
  const apis = new Map<SshConnection, Partial<SwarmApi>>();
  const tried: string[] = [];
  // Every script and its input, as the nodes' shells received them.
  const scripts: string[] = [];
  const cut = new Map<string, ConnectionLostError>();
  const connector: SshConnector = {
    connect: async (target) => {
      tried.push(target.host);
      const id = ids[target.host];
      if (!id || cut.has(target.host)) throw new Error(`${target.host} does not answer`);
      const lost = () => cut.get(target.host);
      const connection: SshConnection = {
        hostKey: 'ssh-ed25519 AAAA',
        authMethod: 'publickey',
        get lost() {
          return lost();
        },
        // The facts script says who the node is; every other script (keys, sshd, card) finds nothing to change.
        exec: async (script, options) => {
          if (lost()) throw lost();
          scripts.push(`${script}\n${options?.input ?? ''}`);
          const answer = onExec?.(target.host, script);
          if (answer === 'cut') cut.set(target.host, new ConnectionLostError(target.name, 'no answer for 15 s'));
          if (lost()) throw lost();
          if (answer) return answer as ExecResult;
          const mac = `b8:27:eb:00:00:${target.host.split('.')[3]!.padStart(2, '0').slice(-2)}`;
          return { code: 0, stdout: script === NODE_FACTS_SCRIPT ? `hostname=${id}\narch=aarch64\nmac=${mac}\n` : '', stderr: '' };
        },
        openSocket: async () => Promise.reject(new Error('not used')),
        openCommandStream: async () => Promise.reject(new Error('not used')),
        readFile: async () => undefined,
        close: () => undefined,
      };
      // Over a pulled cable every engine request fails as a hung-up socket would.
      const api = fake.api(id);
      const guarded = (name: string, call: (...a: unknown[]) => unknown) => (...args: unknown[]) => {
        if (cutAt?.(target.host, name)) cut.set(target.host, new ConnectionLostError(target.name, 'no answer for 15 s'));
        return lost() ? Promise.reject(new Error('socket hang up')) : call(...args);
      };
      apis.set(connection, Object.fromEntries(Object.entries(api).map(([name, call]) => [name, guarded(name, call as (...a: unknown[]) => unknown)])));
      return connection;
    },
  };
  return { connector, tried, scripts, heal: (host) => cut.delete(host), openApi: async (connection) => ({ close: () => undefined, ...apis.get(connection) }) as SwarmApi };
}
