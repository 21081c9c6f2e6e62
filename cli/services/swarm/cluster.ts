import type { SshConnection, SshConnector } from '../../adapters/ssh.js';
import type { SwarmApi } from '../../core/swarm-api.js';
import { fingerprint } from '../../core/host-key.js';
import type { Inventory, InventoryNode } from '../../core/inventory.js';
import { PiswarmError } from '../../errors.js';
import type { Reporter } from '../../io.js';
import { connectFollowingMoves, relocateMovedNodes, type LocatorPorts, type NodeMove } from '../node-locator.js';
import type { SshCredentials } from '../ssh-credentials.js';
import { openSessions, type NodeSession } from './node-session.js';

export interface ClusterPorts {
  connector: SshConnector;
  credentials: SshCredentials;
  timeoutMs: number;
  /** To follow nodes that no longer answer at their saved address (by MAC); off when absent. */
  locator?: LocatorPorts;
  reporter: Reporter;
  /** How sessions reach their engines (the Engine API over SSH, unless a test says otherwise). */
  openApi?: (connection: SshConnection) => Promise<SwarmApi>;
}

export interface Cluster {
  manager: NodeSession;
  /** Every node that answered, the manager included. */
  nodes: NodeSession[];
  /** Nodes that did not answer, and why. */
  unreachable: Array<{ node: string; error: string }>;
  /** Nodes found at a new address (the inventory is updated; the caller saves it). */
  moved: NodeMove[];
  /** Nodes whose host key was seen for the first time and pinned (the inventory is updated; the caller saves it). */
  pinned: string[];
  close(): void;
}

/**
 * Opens a session to every inventory node and picks a manager of the inventory's swarm (the
 * inventory's managers first) to work through.
 */
export async function openCluster(inventory: Inventory, ports: ClusterPorts): Promise<Cluster> {
  const nodes = inventory.nodes().filter((n) => n.ip);
  if (nodes.length === 0) throw new PiswarmError(`${inventory.file} lists no nodes with an address.`, { hint: 'Run `piswarm discover --save` and `piswarm bootstrap` first.' });
  const sessions = new Map<string, NodeSession>();
  const connect = (some: readonly InventoryNode[]) => openSessions(some, inventory, sessions, { ...ports, concurrency: 16, engineFacts: true, events: { step: () => undefined } });
  const { failures, moved } = await connectFollowingMoves(inventory, nodes, connect, ports);
  const open = nodes.flatMap((n) => sessions.get(n.mac) ?? []);
  const pinned = pinFirstSeen(open, inventory, ports.reporter);
  const close = () => open.forEach((s) => s.close());
  const manager = findManager(open, inventory);
  if (!manager) {
    close();
    const down = failures.map((f) => f.node.hostname);
    throw new PiswarmError(`No reachable swarm manager${down.length ? ` (unreachable: ${down.join(', ')})` : ''}.`, {
      hint: down.length ? 'Bring a manager back, then try again.' : 'Form the swarm first: piswarm bootstrap.',
    });
  }
  return { manager, nodes: open, unreachable: failures.map((f) => ({ node: f.node.hostname, error: f.error.message })), moved, pinned, close };
}

/**
 * Trust on first use, as `run` and `bootstrap` do: a host key seen now is the one every later
 * connection must show. Returns the nodes pinned (the inventory is updated; the caller saves it).
 */
export function pinFirstSeen(sessions: readonly NodeSession[], inventory: Inventory, reporter: Reporter): string[] {
  return sessions.filter((s) => !inventory.expectedHostKey(s.node)).map((s) => {
    inventory.upsertNode(s.node.mac, { hostKey: s.hostKey });
    reporter.step(`Host key of ${s.node.hostname} pinned (${fingerprint(s.hostKey)})`);
    return s.node.hostname;
  });
}

/** A manager of the inventory's swarm (any swarm, if none is recorded), the inventory's managers first. */
export function findManager(sessions: readonly NodeSession[], inventory: Inventory): NodeSession | undefined {
  const manages = (s: NodeSession) => s.facts.swarm.state === 'manager' && (!inventory.swarmId || s.facts.swarm.clusterId === inventory.swarmId);
  return sessions.find((s) => manages(s) && s.node.role === 'manager') ?? sessions.find(manages);
}

/** Before connecting to every node: those no longer at their saved address are looked for by MAC. */
export async function followMovedNodes(inventory: Inventory, ports: { locator?: LocatorPorts; reporter: Reporter }): Promise<NodeMove[]> {
  return ports.locator ? relocateMovedNodes(inventory, inventory.nodes(), ports.locator, ports.reporter) : [];
}

/**
 * A fresh session to one node whose engine answers (after a reboot): at its saved address, else
 * where its MAC is found now (the inventory is updated; the caller saves it). Rejects while it does not answer.
 */
export async function reopenSession(inventory: Inventory, node: InventoryNode, ports: ClusterPorts): Promise<NodeSession> {
  const sessions = new Map<string, NodeSession>();
  const connect = (some: readonly InventoryNode[]) => openSessions(some, inventory, sessions, { ...ports, concurrency: 1, engineFacts: true, events: { step: () => undefined } });
  const { failures } = await connectFollowingMoves(inventory, [node], connect, ports);
  if (failures.length > 0) throw failures[0]!.error;
  return sessions.get(node.mac)!;
}
