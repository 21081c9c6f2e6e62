import Docker from 'dockerode';
import { Agent, type ClientRequestArgs } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { apiVersionAtLeast, EngineError, membershipOf, type EngineInfo, type EngineJson, type NodeChange, type ObjectKind, type SwarmApi, type SwarmObjectKind } from '../core/swarm-api.js';
import type { SwarmRole } from '../core/swarm-plan.js';
import { callWithin, follow, FrameSplitter, openStream, type Stream } from './engine-requests.js';
import type { SshConnection } from './ssh.js';

/** The newest Engine API piswarm speaks; an older engine (HypriotOS 1.12's 19.03: 1.40) is met at its own. */
const MAX_API = '1.43';
/** An engine that has not answered a request in this long is stuck: joining a swarm on a slow Pi takes seconds. */
const REQUEST_TIMEOUT_MS = 120_000;
const SOCKET = '/var/run/docker.sock';
/** For a login user outside group docker: the docker CLI as a stream to the engine, through passwordless sudo. */
const SUDO_DIAL = 'sudo -n docker system dial-stdio';

/**
 * HTTP over streams the node's SSH connection opens: its Docker socket forwarded (as the login
 * user), or when that user may not use the socket, `sudo -n docker system dial-stdio`. The
 * connection's host key was checked when it was made; no other connection is opened.
 */
class SshStreamAgent extends Agent {
  private useSudo = false;

  constructor(private readonly connection: SshConnection) {
    // No cap on sockets: each is a channel of the one SSH connection, and a capped pool would
    // queue a request behind a stream whose channel the node has not closed yet.
    super({ keepAlive: true });
  }

  override createConnection(_options: ClientRequestArgs, callback?: (error: Error | null, socket: Duplex) => void): Socket | undefined {
    this.open().then(
      (stream) => callback?.(null, asSocket(stream)),
      (error: Error) => callback?.(error, undefined as unknown as Duplex),
    );
    return undefined;
  }

  private async open(): Promise<Duplex> {
    if (!this.useSudo) {
      try {
        return await this.connection.openSocket(SOCKET);
      } catch {
        this.useSudo = true;
      }
    }
    return this.connection.openCommandStream(SUDO_DIAL);
  }
}

/**
 * Options for a dockerode POST whose path takes a query: without `_query` and `_body`,
 * docker-modem sends the whole body in the URL's query string as well, and a secret's data (or
 * a service's environment) would reach the engine's request log.
 */
function bodyOnly<B extends object>(body: B, abortSignal: AbortSignal, query: Record<string, string | number> = {}): B {
  return { _query: query, _body: body, abortSignal } as unknown as B;
}

/** An HTTP agent whose sockets are the node's engine over its SSH connection (for dockerode calls outside the swarm API: image builds). */
export function sshDockerAgent(connection: SshConnection): Agent {
  return new SshStreamAgent(connection);
}

/** http's client calls socket methods an SSH channel does not have; they mean nothing for it. */
function asSocket(stream: Duplex): Duplex {
  const socket = stream as Duplex & Record<string, unknown>;
  for (const method of ['setTimeout', 'setNoDelay', 'setKeepAlive', 'ref', 'unref']) {
    if (typeof socket[method] !== 'function') socket[method] = () => socket;
  }
  return socket;
}

/** The node's engine over its SSH connection, at the API version both sides speak. */
export async function openEngineApi(connection: SshConnection, timeoutMs = REQUEST_TIMEOUT_MS): Promise<SwarmApi> {
  const agent = new SshStreamAgent(connection);
  const docker = new Docker({ protocol: 'http', host: 'docker', port: 80, agent } as Docker.DockerOptions);
  const { ApiVersion } = await callWithin(timeoutMs, (abortSignal) => withOptions<Docker.DockerVersion>(docker, 'version', { abortSignal })).catch((error: unknown) => {
    agent.destroy();
    throw error;
  });
  const apiVersion = apiVersionAtLeast(ApiVersion, MAX_API) ? MAX_API : ApiVersion;
  (docker as unknown as { modem: { version: string } }).modem.version = `v${apiVersion}`;
  return new EngineSwarmApi(docker, agent, apiVersion, timeoutMs);
}

/** The engine's facts over the connection, the API closed after; undefined when there is no engine to ask (Docker missing or not running, or not ours to use). */
export async function readEngineInfo(connection: SshConnection, timeoutMs = REQUEST_TIMEOUT_MS): Promise<EngineInfo | undefined> {
  const api = await openEngineApi(connection, timeoutMs).catch(() => undefined);
  try {
    return await api?.info();
  } catch {
    return undefined;
  } finally {
    api?.close();
  }
}

class EngineSwarmApi implements SwarmApi {
  constructor(
    private readonly docker: Docker,
    private readonly agent: Agent,
    private readonly apiVersion: string,
    private readonly timeoutMs: number,
  ) {}

  /** One request, given up when the engine has not answered in time. */
  private readonly request = <T>(send: (abortSignal: AbortSignal) => Promise<T>): Promise<T> => callWithin(this.timeoutMs, send);

  async info(): Promise<EngineInfo> {
    const info = (await this.request((abortSignal) => withOptions<EngineJson>(this.docker, 'info', { abortSignal }))) as EngineJson;
    return { hostname: info.Name, arch: info.Architecture, serverVersion: info.ServerVersion, apiVersion: this.apiVersion, swarm: membershipOf(info.Swarm), details: detailsOf(info) };
  }

  async swarmInit({ advertiseAddr }: { advertiseAddr: string }): Promise<string> {
    return String(await this.request((abortSignal) => this.docker.swarmInit({ ListenAddr: '0.0.0.0:2377', AdvertiseAddr: advertiseAddr, abortSignal })));
  }

  async swarmJoin({ token, managerAddr, advertiseAddr }: { token: string; managerAddr: string; advertiseAddr: string }): Promise<void> {
    await this.request((abortSignal) => this.docker.swarmJoin({ ListenAddr: '0.0.0.0:2377', AdvertiseAddr: advertiseAddr, RemoteAddrs: [`${managerAddr}:2377`], JoinToken: token, abortSignal }));
  }

  async swarmLeave(force: boolean): Promise<boolean> {
    try {
      await this.request((abortSignal) => this.docker.swarmLeave({ force, abortSignal }));
      return true;
    } catch (error) {
      if (error instanceof EngineError && /not part of a swarm/i.test(error.message)) return false;
      throw error;
    }
  }

  async joinToken(role: SwarmRole): Promise<string> {
    const swarm = (await this.request((abortSignal) => withOptions<unknown>(this.docker, 'swarmInspect', { abortSignal }))) as { JoinTokens: { Worker: string; Manager: string } };
    return role === 'manager' ? swarm.JoinTokens.Manager : swarm.JoinTokens.Worker;
  }

  async nodeLabels(nodeId: string): Promise<Record<string, string>> {
    const node = (await this.request((abortSignal) => this.docker.getNode(nodeId).inspect({ abortSignal }))) as { Spec?: { Labels?: Record<string, string> } };
    return node.Spec?.Labels ?? {};
  }

  async updateNode(nodeId: string, change: NodeChange): Promise<void> {
    await updateVersioned(
      this.request,
      (abortSignal) => this.docker.getNode(nodeId).inspect({ abortSignal }),
      (node: { Version: { Index: number }; Spec: EngineJson }, abortSignal) => {
        const spec = { ...node.Spec, ...(change.role ? { Role: change.role } : {}), ...(change.availability ? { Availability: change.availability } : {}), Labels: { ...node.Spec.Labels, ...change.addLabels } };
        return this.docker.getNode(nodeId).update(bodyOnly(spec, abortSignal, { version: node.Version.Index }));
      },
    );
  }

  async removeNode(nodeId: string, force: boolean): Promise<void> {
    await this.request((abortSignal) => this.docker.getNode(nodeId).remove({ force, abortSignal }));
  }

  async scaleService(serviceId: string, replicas: number, labels: Record<string, string | null> = {}): Promise<void> {
    await updateVersioned(
      this.request,
      (abortSignal) => this.docker.getService(serviceId).inspect({ abortSignal }),
      (service: { Version: { Index: number }; Spec: EngineJson }, abortSignal) => {
        const merged: Record<string, string> = { ...service.Spec.Labels };
        for (const [key, value] of Object.entries(labels)) if (value === null) delete merged[key];
        else merged[key] = value;
        const spec = { ...service.Spec, Labels: merged, Mode: { Replicated: { Replicas: replicas } } };
        return this.docker.getService(serviceId).update(bodyOnly(spec, abortSignal, { version: service.Version.Index }));
      },
    );
  }

  async existingObjects(kind: ObjectKind, names: readonly string[]): Promise<Set<string>> {
    const opts = { filters: { name: [...names] } };
    const list = (await this.request<unknown>((abortSignal) => (kind === 'secret' ? this.docker.listSecrets({ ...opts, abortSignal }) : this.docker.listConfigs({ ...opts, abortSignal })))) as Array<{ Spec?: { Name?: string } }>;
    // The engine's name filter matches prefixes too: keep exact names only.
    return new Set(list.map((o) => o.Spec?.Name ?? '').filter((name) => names.includes(name)));
  }

  async createObject(kind: ObjectKind, name: string, content: string, labels: Record<string, string>): Promise<void> {
    const spec = { Name: name, Labels: labels, Data: Buffer.from(content, 'utf8').toString('base64') };
    await this.request<unknown>((abortSignal) => (kind === 'secret' ? this.docker.createSecret(bodyOnly(spec, abortSignal)) : this.docker.createConfig(bodyOnly(spec, abortSignal))));
  }

  async relabelConfig(id: string, labels: Record<string, string>): Promise<void> {
    await this.request(async (abortSignal) => {
      const config = (await this.docker.getConfig(id).inspect({ abortSignal })) as { Version: { Index: number }; Spec: EngineJson };
      return this.docker.getConfig(id).update(bodyOnly({ ...config.Spec, Labels: labels }, abortSignal, { version: config.Version.Index }));
    });
  }

  async labelled(kind: SwarmObjectKind, label: string): Promise<Array<{ id: string; name: string; labels: Record<string, string> }>> {
    const list = (await this.request<unknown>((abortSignal) => {
      const opts = { filters: { label: [label] }, abortSignal };
      if (kind === 'service') return this.docker.listServices(opts);
      if (kind === 'network') return this.docker.listNetworks(opts);
      return kind === 'secret' ? this.docker.listSecrets(opts) : this.docker.listConfigs(opts);
    })) as EngineJson[];
    return list.map((o) => ({ id: String(o.ID ?? o.Id), name: String(o.Spec?.Name ?? o.Name), labels: { ...(o.Spec?.Labels ?? o.Labels) } }));
  }

  async list(kind: SwarmObjectKind): Promise<EngineJson[]> {
    return (await this.request<unknown>((abortSignal) => {
      const opts = { abortSignal };
      if (kind === 'service') return this.docker.listServices(opts);
      if (kind === 'network') return this.docker.listNetworks(opts);
      return kind === 'secret' ? this.docker.listSecrets(opts) : this.docker.listConfigs(opts);
    })) as EngineJson[];
  }

  async create(kind: 'network' | 'service', spec: EngineJson, registryAuth?: RegistryAuth): Promise<string> {
    if (kind === 'network') {
      const network = (await this.request((abortSignal) => this.docker.createNetwork(bodyOnly({ ...spec, CheckDuplicate: true } as Docker.NetworkCreateOptions, abortSignal)))) as { id: string };
      return network.id;
    }
    const service = (await this.request((abortSignal) => this.docker.createService(authOf(registryAuth) as never, bodyOnly(spec as Docker.CreateServiceOptions, abortSignal)))) as { id: string };
    return service.id;
  }

  async updateService(serviceId: string, spec: EngineJson, registryAuth?: RegistryAuth): Promise<void> {
    await updateVersioned(
      this.request,
      (abortSignal) => this.docker.getService(serviceId).inspect({ abortSignal }),
      (service: { Version: { Index: number } }, abortSignal) => this.docker.getService(serviceId).update(authOf(registryAuth) as never, bodyOnly(spec, abortSignal, { version: service.Version.Index }) as never) as unknown as Promise<unknown>,
    );
  }

  async remove(kind: SwarmObjectKind, id: string): Promise<boolean> {
    try {
      await this.request<unknown>((abortSignal) => {
        const opts = { abortSignal };
        if (kind === 'service') return this.docker.getService(id).remove(opts);
        if (kind === 'network') return this.docker.getNetwork(id).remove(opts);
        return kind === 'secret' ? this.docker.getSecret(id).remove(opts) : this.docker.getConfig(id).remove(opts);
      });
      return true;
    } catch (error) {
      if (error instanceof EngineError && error.status === 404) return false;
      throw error;
    }
  }

  async nodes(): Promise<EngineJson[]> {
    return (await this.request((abortSignal) => this.docker.listNodes({ abortSignal }))) as EngineJson[];
  }

  async services(): Promise<EngineJson[]> {
    return (await this.request((abortSignal) => this.docker.listServices({ abortSignal }))) as EngineJson[];
  }

  async tasks(options: { currentOnly?: boolean } = {}): Promise<EngineJson[]> {
    return (await this.request((abortSignal) => this.docker.listTasks({ ...(options.currentOnly ? { filters: { 'desired-state': ['running'] } } : {}), abortSignal }))) as EngineJson[];
  }

  async events(filter: { types: readonly string[]; actions: readonly string[]; seconds: number }, onEvent: (event: EngineJson) => void, signal: AbortSignal): Promise<void> {
    const until = Math.ceil(Date.now() / 1000 + filter.seconds);
    const query = { until, filters: { type: [...filter.types], event: [...filter.actions] } };
    const stream = await openStream((abortSignal) => this.docker.getEvents({ ...query, abortSignal } as Docker.GetEventsOptions) as Promise<Stream>, signal);
    if (!stream) return;
    let rest = '';
    await follow(stream, signal, (chunk) => {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop()!;
      for (const line of lines) if (line.trim()) onEvent(JSON.parse(line) as EngineJson);
    });
  }

  async serviceLogs(serviceId: string, options: { follow: boolean; since?: string; tail?: number }, onLine: (line: string) => void, signal: AbortSignal): Promise<void> {
    const query = { follow: options.follow, stdout: true, stderr: true, timestamps: true, details: true, ...(options.since ? { since: options.since } : {}), ...(options.tail !== undefined ? { tail: options.tail } : {}) };
    const body = await openStream((abortSignal) => this.docker.getService(serviceId).logs({ ...query, abortSignal } as unknown as Docker.ContainerLogsOptions & { follow: false }) as Promise<Buffer | Stream>, signal);
    if (!body) return;
    const frames = new FrameSplitter(onLine);
    if (!Buffer.isBuffer(body)) await follow(body, signal, (chunk) => frames.push(chunk, false));
    frames.push(Buffer.isBuffer(body) ? body : Buffer.alloc(0), true);
  }

  close(): void {
    this.agent.destroy();
  }
}

type RegistryAuth = { username: string; password: string; serveraddress: string };

/** dockerode sends an `authconfig` as the X-Registry-Auth header; without one, none. */
function authOf(auth: RegistryAuth | undefined): object | undefined {
  return auth ? { username: auth.username, password: auth.password, serveraddress: auth.serveraddress } : undefined;
}

/** How often a write is tried again when Raft was busy: a role change updates nodes and may move the leader for a moment. */
const VERSION_RETRIES = 10;
/** Refusals that say "not now", not "no": a newer version, or a leader election in progress. */
const TRANSIENT = /out of sequence|lost leader|no elected cluster leader|does not have a leader|leadership/i;

/**
 * Reads an object and writes it back changed, naming the version read: the engine refuses a
 * write over a newer version (another writer got there first) or while Raft elects a leader;
 * either is tried again, read afresh.
 */
async function updateVersioned<T>(
  request: <R>(send: (abortSignal: AbortSignal) => Promise<R>) => Promise<R>,
  read: (abortSignal: AbortSignal) => Promise<unknown>,
  write: (current: T, abortSignal: AbortSignal) => Promise<unknown>,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const current = (await request(read)) as T;
    try {
      await request((abortSignal) => write(current, abortSignal));
      return;
    } catch (error) {
      if (attempt >= VERSION_RETRIES || !(error instanceof EngineError && TRANSIENT.test(error.message))) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

/** What `docker info` says of the engine's data, logs and warnings, and (on a manager) how long node certificates last. */
function detailsOf(info: EngineJson): EngineInfo['details'] {
  const expiryNs = info.Swarm?.Cluster?.Spec?.CAConfig?.NodeCertExpiry;
  return {
    dockerRootDir: info.DockerRootDir ?? '/var/lib/docker',
    loggingDriver: info.LoggingDriver ?? 'json-file',
    warnings: info.Warnings ?? [],
    certExpirySeconds: typeof expiryNs === 'number' ? expiryNs / 1e9 : undefined,
  };
}

/** dockerode takes options (the abort signal) on these calls too; its typings do not say so. */
function withOptions<R>(target: object, method: 'version' | 'info' | 'swarmInspect', options: object): Promise<R> {
  return (target as Record<string, (options: object) => Promise<R>>)[method]!(options);
}
