import type { Agent } from 'node:http';
import { openEngineApi, sshDockerAgent } from '../../adapters/engine-api.js';
import type { AuthMethod, ExecResult, SshConnection, SshConnector, SshTarget } from '../../adapters/ssh.js';
import { WATCHED_ACTIONS, type EngineInfo, type EngineJson, type SwarmApi } from '../../core/swarm-api.js';
import type { Inventory, InventoryNode } from '../../core/inventory.js';
import { mapSettled } from '../../core/parallel.js';
import { NODE_FACTS_SCRIPT, parseNodeFacts, withEngine, type NodeFacts } from '../../core/node-facts.js';
import { ConnectionLostError, PiswarmError } from '../../errors.js';
import type { SshCredentials } from '../ssh-credentials.js';

/** Join tokens look like SWMTKN-1-<hash>-<secret>; none may reach a message, log or file. */
const TOKEN = /SWMTKN-[0-9A-Za-z-]+/g;

export function scrubSecrets(text: string): string {
  return text.replace(TOKEN, 'SWMTKN-…');
}

/** One node's open SSH connection for the whole bootstrap, and what it said about itself. */
export class NodeSession {
  facts!: NodeFacts;
  private api?: Promise<SwarmApi>;

  constructor(
    private current: InventoryNode,
    private readonly connection: SshConnection,
    private readonly timeoutMs: number,
    private readonly openApi: (connection: SshConnection) => Promise<SwarmApi> = openEngineApi,
  ) {}

  get node(): InventoryNode {
    return this.current;
  }

  /** Names the session after the inventory entry it turned out to be (bootstrap --nodes). */
  adopt(node: InventoryNode): void {
    this.current = node;
  }

  /** Its ID in the swarm, when the engine is a member. */
  get swarmNodeId(): string | undefined {
    const swarm = this.facts.swarm;
    return swarm.state === 'manager' || swarm.state === 'worker' ? swarm.nodeId : undefined;
  }

  get hostKey(): string {
    return this.connection.hostKey;
  }

  /** Why the connection is gone, once it is (the node closed it or stopped answering), under the node's name. */
  get lost(): ConnectionLostError | undefined {
    const lost = this.connection.lost;
    return lost && new ConnectionLostError(this.node.hostname, lost.reason, lost.step);
  }

  /** A connection opened by address (bootstrap --nodes) is lost under the name the node turned out to have. */
  private lostWhile(lost: ConnectionLostError, step: string): ConnectionLostError {
    return new ConnectionLostError(this.node.hostname, lost.reason, lost.step ?? step);
  }

  get authMethod(): AuthMethod {
    return this.connection.authMethod;
  }

  /** The API version agreed with the engine, once its facts were read through it. */
  apiVersion?: string;

  /**
   * Only what the engine says (hostname, architecture, version, swarm membership): one API call, no
   * program started. Returns all the engine said (doctor reads its details too).
   */
  async readEngineFacts(): Promise<EngineInfo> {
    const info = await this.engine('read the engine facts', (api) => api.info());
    this.apiVersion = info.apiVersion;
    this.facts = { hostname: info.hostname, arch: info.arch, docker: info.serverVersion, swarm: info.swarm };
    return info;
  }

  /** The swarm membership afresh from the engine (after a join or an init), the other facts kept. */
  async refreshSwarm(): Promise<NodeFacts['swarm']> {
    const info = await this.engine('read the swarm state', (api) => api.info());
    this.facts = { ...this.facts, swarm: info.swarm };
    return info.swarm;
  }

  /** The operating system's facts (one command) and the engine's (one API call; none when Docker is missing or not running). */
  async readFacts(): Promise<NodeFacts> {
    const [os, engine] = await Promise.all([
      this.run('read the node facts', NODE_FACTS_SCRIPT),
      this.engine('read the engine facts', (api) => api.info()).catch(() => undefined),
    ]);
    this.apiVersion = engine?.apiVersion;
    this.facts = withEngine(parseNodeFacts(os.stdout), engine);
    return this.facts;
  }

  /** Runs a script (within the session's timeout unless told); a non-zero exit becomes an error naming the step and the node's own words. */
  async run(step: string, script: string, input?: string, timeoutMs = this.timeoutMs): Promise<ExecResult> {
    const result = await this.connection.exec(script, { timeoutMs, input }).catch((error: unknown) => {
      throw error instanceof ConnectionLostError ? this.lostWhile(error, step) : error;
    });
    if (result.code !== 0) {
      const said = scrubSecrets(result.stderr.trim().split('\n').filter(Boolean).slice(-2).join(' ')) || `exit ${result.code}`;
      throw new PiswarmError(`${this.node.hostname}: can't ${step}: ${said}`, { hint: hintFor(said) });
    }
    return result;
  }

  /**
   * A request to the node's engine (opened on first use over this session's SSH connection); a
   * refusal becomes an error naming the step and the engine's own words, tokens scrubbed.
   */
  async engine<T>(step: string, request: (api: SwarmApi) => Promise<T>): Promise<T> {
    // An engine that could not be reached is tried afresh next time (bootstrap may have started it since).
    this.api ??= this.openApi(this.connection).catch((error: unknown) => {
      this.api = undefined;
      throw error;
    });
    try {
      return await request(await this.api);
    } catch (error) {
      // Over a lost connection the engine's words (a hung-up socket) say less than the loss.
      if (this.connection.lost) throw this.lostWhile(this.connection.lost, step);
      // The engine's message only (never the error itself as a cause: it could carry a token on).
      const said = scrubSecrets((error as Error).message.trim());
      throw new PiswarmError(`${this.node.hostname}: can't ${step}: ${said}`, { hint: hintFor(said) });
    }
  }

  /**
   * The engine's events of these types (WATCHED_ACTIONS only) for at most `seconds`, handed over
   * one by one until `signal` aborts; resolves when the stream ended, rejects when it could not start.
   */
  events(types: readonly string[], seconds: number, onEvent: (event: EngineJson) => void, signal: AbortSignal): Promise<void> {
    return this.engine('follow the engine events', (api) => api.events({ types, actions: WATCHED_ACTIONS, seconds }, onEvent, signal));
  }

  /** Files of the node read over SFTP, in order (undefined for one that does not exist): no program started. */
  async readFiles(paths: readonly string[]): Promise<Array<string | undefined>> {
    return Promise.all(paths.map((path) => this.connection.readFile(path)));
  }

  /** Runs a script that ends by saying "changed" or "unchanged"; true when it changed something. */
  async change(step: string, script: string, input?: string): Promise<boolean> {
    const { stdout } = await this.run(step, script, input);
    return stdout.trim().split('\n').pop() === 'changed';
  }

  /** An HTTP agent to the node's engine over this connection, for calls outside the swarm API (image builds). */
  dockerAgent(): Agent {
    return sshDockerAgent(this.connection);
  }

  close(): void {
    void this.api?.then((api) => api.close(), () => undefined);
    this.connection.close();
  }
}

function hintFor(said: string): string | undefined {
  if (/sudo: a (terminal|password) is required/.test(said)) {
    return 'The login user needs passwordless sudo (HypriotOS and Raspberry Pi OS give it to their first user), or log in as root.';
  }
  if (/permission denied.*docker/i.test(said)) return 'Add the user to the docker group, or give it passwordless sudo.';
  return undefined;
}

/** How piswarm logs in to a node: its inventory address and user, and the host key it must show. */
export function targetOf(node: InventoryNode, inventory: Inventory, acceptChangedHostKey = false): SshTarget {
  return {
    acceptChangedHostKey,
    name: node.hostname,
    host: node.ip!,
    port: inventory.sshDefaults.port,
    username: node.user ?? inventory.sshDefaults.user,
    pinnedHostKey: inventory.expectedHostKey(node),
  };
}

/**
 * Connects to the nodes in parallel (bounded) and reads each one's facts, adding each ready session
 * to `sessions` (the caller closes them). Returns the nodes that failed.
 */
export async function openSessions(
  nodes: readonly InventoryNode[],
  inventory: Inventory,
  sessions: Map<string, NodeSession>,
  options: {
    connector: SshConnector;
    credentials: SshCredentials;
    concurrency: number;
    timeoutMs: number;
    acceptChangedHostKey?: boolean;
    /** Only the engine's facts (cluster commands): none of the operating system's, no program started on the node. */
    engineFacts?: boolean;
    /** How a session reaches its node's engine (the Engine API over the connection, unless a test says otherwise). */
    openApi?: (connection: SshConnection) => Promise<SwarmApi>;
    events: { step(node: string, step: string): void };
  },
): Promise<Array<{ node: InventoryNode; error: Error }>> {
  const settled = await mapSettled(nodes, options.concurrency, async (node) => {
    options.events.step(node.hostname, 'connecting');
    const session = new NodeSession(node, await options.connector.connect({ ...targetOf(node, inventory, options.acceptChangedHostKey), ...options.credentials }), options.timeoutMs, options.openApi);
    try {
      await (options.engineFacts ? session.readEngineFacts() : session.readFacts());
    } catch (error) {
      session.close();
      throw error;
    }
    sessions.set(node.mac, session);
  });
  return settled.flatMap((s) => (s.ok ? [] : [{ node: s.item, error: s.error }]));
}
