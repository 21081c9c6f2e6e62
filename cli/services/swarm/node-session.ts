import type { AuthMethod, ExecResult, SshConnection, SshConnector, SshTarget } from '../../adapters/ssh.js';
import type { Inventory, InventoryNode } from '../../core/inventory.js';
import { mapSettled } from '../../core/parallel.js';
import { NODE_FACTS_SCRIPT, parseNodeFacts, type NodeFacts } from '../../core/node-facts.js';
import { PiswarmError } from '../../errors.js';
import type { SshCredentials } from '../ssh-credentials.js';

/** Join tokens look like SWMTKN-1-<hash>-<secret>; none may reach a message, log or file. */
const TOKEN = /SWMTKN-[0-9A-Za-z-]+/g;

export function scrubSecrets(text: string): string {
  return text.replace(TOKEN, 'SWMTKN-…');
}

/** One node's open SSH connection for the whole bootstrap, and what it said about itself. */
export class NodeSession {
  facts!: NodeFacts;

  constructor(
    private current: InventoryNode,
    private readonly connection: SshConnection,
    private readonly timeoutMs: number,
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

  get authMethod(): AuthMethod {
    return this.connection.authMethod;
  }

  async readFacts(): Promise<NodeFacts> {
    this.facts = parseNodeFacts((await this.run('read the node facts', NODE_FACTS_SCRIPT)).stdout);
    return this.facts;
  }

  /** Runs a script; a non-zero exit becomes an error naming the step and the node's own words. */
  async run(step: string, script: string, input?: string): Promise<ExecResult> {
    const result = await this.connection.exec(script, { timeoutMs: this.timeoutMs, input });
    if (result.code !== 0) {
      const said = scrubSecrets(result.stderr.trim().split('\n').filter(Boolean).slice(-2).join(' ')) || `exit ${result.code}`;
      throw new PiswarmError(`${this.node.hostname}: can't ${step}: ${said}`, { hint: hintFor(said) });
    }
    return result;
  }

  /**
   * Runs a long script, handing over its output line by line (the last line too, once the script
   * ends), until it ends or `signal` aborts. Returns how it ended.
   */
  async stream(script: string, onLine: (line: string) => void, signal: AbortSignal): Promise<ExecResult> {
    let rest = '';
    const result = await this.connection.exec(script, {
      signal,
      onStdout: (chunk) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop()!;
        for (const line of lines) if (line.trim()) onLine(line);
      },
    });
    if (rest.trim()) onLine(rest);
    return result;
  }

  /** Runs a script that ends by saying "changed" or "unchanged"; true when it changed something. */
  async change(step: string, script: string, input?: string): Promise<boolean> {
    const { stdout } = await this.run(step, script, input);
    return stdout.trim().split('\n').pop() === 'changed';
  }

  close(): void {
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
    events: { step(node: string, step: string): void };
  },
): Promise<Array<{ node: InventoryNode; error: Error }>> {
  const settled = await mapSettled(nodes, options.concurrency, async (node) => {
    options.events.step(node.hostname, 'connecting');
    const session = new NodeSession(node, await options.connector.connect({ ...targetOf(node, inventory, options.acceptChangedHostKey), ...options.credentials }), options.timeoutMs);
    try {
      await session.readFacts();
    } catch (error) {
      session.close();
      throw error;
    }
    sessions.set(node.mac, session);
  });
  return settled.flatMap((s) => (s.ok ? [] : [{ node: s.item, error: s.error }]));
}
