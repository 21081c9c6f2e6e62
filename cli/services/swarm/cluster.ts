import type { SshConnector } from '../../adapters/ssh.js';
import type { Inventory } from '../../core/inventory.js';
import { PiswarmError } from '../../errors.js';
import type { SshCredentials } from '../ssh-credentials.js';
import { openSessions, type NodeSession } from './node-session.js';

export interface Cluster {
  manager: NodeSession;
  /** Every node that answered, the manager included. */
  nodes: NodeSession[];
  /** Nodes that did not answer, and why. */
  unreachable: Array<{ node: string; error: string }>;
  close(): void;
}

/**
 * Opens a session to every inventory node and picks a manager of the inventory's swarm (the
 * inventory's managers first) to work through.
 */
export async function openCluster(inventory: Inventory, ports: { connector: SshConnector; credentials: SshCredentials; timeoutMs: number }): Promise<Cluster> {
  const nodes = inventory.nodes().filter((n) => n.ip);
  if (nodes.length === 0) throw new PiswarmError(`${inventory.file} lists no nodes with an address.`, { hint: 'Run `piswarm discover --save` and `piswarm bootstrap` first.' });
  const sessions = new Map<string, NodeSession>();
  const failures = await openSessions(nodes, inventory, sessions, { ...ports, concurrency: 16, events: { step: () => undefined } });
  const open = nodes.flatMap((n) => sessions.get(n.mac) ?? []);
  const close = () => open.forEach((s) => s.close());
  const manages = (s: NodeSession) => s.facts.swarm.state === 'manager' && (!inventory.swarmId || s.facts.swarm.clusterId === inventory.swarmId);
  const manager = open.find((s) => manages(s) && s.node.role === 'manager') ?? open.find(manages);
  if (!manager) {
    close();
    const down = failures.map((f) => f.node.hostname);
    throw new PiswarmError(`No reachable swarm manager${down.length ? ` (unreachable: ${down.join(', ')})` : ''}.`, {
      hint: down.length ? 'Bring a manager back, then try again.' : 'Form the swarm first: piswarm bootstrap.',
    });
  }
  return { manager, nodes: open, unreachable: failures.map((f) => ({ node: f.node.hostname, error: f.error.message })), close };
}
