import type { SshConnector } from '../../adapters/ssh.js';
import { nodeCommandScript, REMOVE_WORKLOADS_SCRIPT, swarmLeaveScript } from '../../core/swarm-scripts.js';
import type { Inventory, InventoryNode } from '../../core/inventory.js';
import { mapSettled } from '../../core/parallel.js';
import { PiswarmError } from '../../errors.js';
import type { Reporter } from '../../io.js';
import type { LocatorPorts } from '../node-locator.js';
import type { SshCredentials } from '../ssh-credentials.js';
import type { BootstrapEvents } from './bootstrap.js';
import { findManager, followMovedNodes } from './cluster.js';
import { readSwarmNodes } from './swarm-nodes.js';
import { openSessions, type NodeSession } from './node-session.js';

export interface TeardownOutcome {
  node: string;
  ip: string;
  ok: boolean;
  /** left | not in a swarm | in another swarm, left alone */
  result?: string;
  error?: string;
  hint?: string;
}

export interface TeardownResult {
  swarmId?: string;
  /** The stacks and services removed, as "stack NAME" / "service NAME". */
  removed: string[];
  nodes: TeardownOutcome[];
}

/**
 * Takes the inventory's swarm apart: stacks and services removed through a manager, workers
 * leave, the other managers are demoted (while there is still a quorum) and leave, and the leader
 * leaves last. Nodes of other swarms are left alone. The inventory forgets the swarm, keeps the nodes.
 */
export async function teardownSwarm(
  inventory: Inventory,
  options: { concurrency: number; timeoutMs: number },
  ports: { connector: SshConnector; credentials: SshCredentials; events: BootstrapEvents; locator?: LocatorPorts; reporter: Reporter },
): Promise<TeardownResult> {
  await followMovedNodes(inventory, ports);
  const nodes = inventory.nodes().filter((n) => n.ip);
  const outcomes = new Map<string, TeardownOutcome>(nodes.map((n) => [n.mac, { node: n.hostname, ip: n.ip!, ok: true }]));
  const fail = (node: InventoryNode, error: Error) => {
    Object.assign(outcomes.get(node.mac)!, { ok: false, error: error.message, hint: (error as PiswarmError).hint });
    ports.events.failed(node.hostname, error);
  };
  const settle = (node: InventoryNode, result: string) => {
    outcomes.get(node.mac)!.result = result;
    ports.events.done(node.hostname, result);
  };
  const sessions = new Map<string, NodeSession>();
  try {
    for (const failure of await openSessions(nodes, inventory, sessions, { ...ports, ...options })) fail(failure.node, failure.error);
    const reachable = [...sessions.values()];
    const leader = findManager(reachable, inventory);
    if (!leader) {
      const unreachable = nodes.filter((n) => !sessions.has(n.mac));
      if (inventory.swarmId && unreachable.length > 0) {
        throw new PiswarmError(`No reachable node manages the swarm ${inventory.swarmId.slice(0, 12)}; unreachable: ${unreachable.map((n) => n.hostname).join(', ')}.`, {
          hint: 'Bring a manager back and run teardown again.',
        });
      }
      for (const s of reachable) settle(s.node, s.facts.swarm.state === 'none' ? 'not in a swarm' : 'in another swarm, left alone');
      inventory.forgetSwarm();
      return { removed: [], nodes: [...outcomes.values()] };
    }
    const swarmId = (leader.facts.swarm as { clusterId: string }).clusterId;
    ports.events.step(leader.node.hostname, 'removing stacks and services');
    const removed = (await leader.run('remove the stacks and services', REMOVE_WORKLOADS_SCRIPT)).stdout.split('\n').filter(Boolean);
    const members = new Set((await readSwarmNodes(leader)).map((n) => n.id));
    const isMember = (s: NodeSession) => (s.facts.swarm.state === 'manager' && s.facts.swarm.clusterId === swarmId) || (s.facts.swarm.state === 'worker' && members.has(s.facts.swarm.nodeId));
    for (const s of reachable.filter((s) => !isMember(s))) settle(s.node, s.facts.swarm.state === 'none' ? 'not in a swarm' : 'in another swarm, left alone');

    // Demote while the managers still have a quorum; then everyone but the leader leaves as a worker.
    const others = reachable.filter((s) => s !== leader && isMember(s));
    for (const s of others.filter((s) => s.facts.swarm.state === 'manager')) {
      ports.events.step(s.node.hostname, 'demoting');
      await leader.run(`demote ${s.node.hostname}`, nodeCommandScript(['demote', (s.facts.swarm as { nodeId: string }).nodeId])).catch((error: Error) => fail(s.node, error));
    }
    const left = await mapSettled(
      others.filter((s) => outcomes.get(s.node.mac)!.ok),
      options.concurrency,
      async (s) => {
        ports.events.step(s.node.hostname, 'leaving the swarm');
        await s.run('leave the swarm', swarmLeaveScript(false));
        settle(s.node, 'left');
      },
    );
    left.forEach((s) => !s.ok && fail(s.item.node, s.error));
    ports.events.step(leader.node.hostname, 'leaving the swarm (last)');
    await leader.run('leave the swarm', swarmLeaveScript(true));
    settle(leader.node, 'left (last)');
    // With the leader gone the swarm is gone, even if an unreachable node still thinks otherwise.
    inventory.forgetSwarm();
    return { swarmId, removed, nodes: [...outcomes.values()] };
  } finally {
    for (const session of sessions.values()) session.close();
  }
}
