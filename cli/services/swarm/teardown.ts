import type { SshConnection, SshConnector } from '../../adapters/ssh.js';
import type { SwarmApi } from '../../core/swarm-api.js';
import { listStacks, removeStack } from '../stack/manage-stacks.js';
import type { Inventory, InventoryNode } from '../../core/inventory.js';
import { mapSettled } from '../../core/parallel.js';
import { ConnectionLostError, PiswarmError } from '../../errors.js';
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
  ports: {
    connector: SshConnector;
    credentials: SshCredentials;
    events: BootstrapEvents;
    locator?: LocatorPorts;
    reporter: Reporter;
    openApi?: (connection: SshConnection) => Promise<SwarmApi>;
    /** The swarm's lock, taken through its leader before anything changes (it goes with the swarm). */
    lock?: (leader: NodeSession) => Promise<() => Promise<void>>;
  },
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
    const release = await ports.lock?.(leader);
    try {
      return await takeApart(leader, swarmId);
    } finally {
      await release?.();
    }
  } finally {
    for (const session of sessions.values()) session.close();
  }

  async function takeApart(leader: NodeSession, swarmId: string): Promise<TeardownResult> {
    const reachable = [...sessions.values()];
    ports.events.step(leader.node.hostname, 'removing stacks and services');
    const removed: string[] = [];
    // The leader carries the teardown: its lost connection ends it, saying how far it got.
    const viaLeader = <T>(work: () => Promise<T>) =>
      work().catch((error: unknown) => {
        throw error instanceof ConnectionLostError ? error.after({ done: [...removed.map((r) => `${r} removed`), ...leftSoFar()] }) : error;
      });
    const leftSoFar = () => [...outcomes.values()].filter((o) => o.result === 'left').map((o) => `${o.node} left`);
    await viaLeader(() => removeWorkloads(leader, removed));
    const members = new Set((await viaLeader(() => readSwarmNodes(leader))).map((n) => n.id));
    const isMember = (s: NodeSession) => (s.facts.swarm.state === 'manager' && s.facts.swarm.clusterId === swarmId) || (s.facts.swarm.state === 'worker' && members.has(s.facts.swarm.nodeId));
    for (const s of reachable.filter((s) => !isMember(s))) settle(s.node, s.facts.swarm.state === 'none' ? 'not in a swarm' : 'in another swarm, left alone');

    // Demote while the managers still have a quorum; then everyone but the leader leaves as a worker.
    const others = reachable.filter((s) => s !== leader && isMember(s));
    for (const s of others.filter((s) => s.facts.swarm.state === 'manager')) {
      ports.events.step(s.node.hostname, 'demoting');
      await leader.engine(`demote ${s.node.hostname}`, (api) => api.updateNode((s.facts.swarm as { nodeId: string }).nodeId, { role: 'worker' })).catch((error: Error) => fail(s.node, error));
    }
    const left = await mapSettled(
      others.filter((s) => outcomes.get(s.node.mac)!.ok),
      options.concurrency,
      async (s) => {
        // A demoted manager learns of its demotion a moment after the leader: it may leave only as a worker.
        if (s.facts.swarm.state === 'manager') await untilWorker(s, options.timeoutMs);
        ports.events.step(s.node.hostname, 'leaving the swarm');
        await s.engine('leave the swarm', (api) => api.swarmLeave(false));
        settle(s.node, 'left');
      },
    );
    left.forEach((s) => !s.ok && fail(s.item.node, s.error));
    // A member that failed to leave keeps the swarm (and its record): without its managers, a
    // rerun could no longer tell it from a node of someone else's swarm and would leave it be.
    const stuck = others.filter((s) => !outcomes.get(s.node.mac)!.ok);
    if (stuck.length > 0) {
      const names = stuck.map((s) => s.node.hostname).join(', ');
      fail(leader.node, new PiswarmError(`${leader.node.hostname} stays in the swarm, its last manager, until ${names} left.`, { hint: 'Once they answer again, run `piswarm swarm teardown` again.' }));
      return { swarmId, removed, nodes: [...outcomes.values()] };
    }
    ports.events.step(leader.node.hostname, 'leaving the swarm (last)');
    await viaLeader(() => leader.engine('leave the swarm', (api) => api.swarmLeave(true)));
    settle(leader.node, 'left (last)');
    // With the leader gone the swarm is gone, even if an unreachable node still thinks otherwise.
    inventory.forgetSwarm();
    return { swarmId, removed, nodes: [...outcomes.values()] };
  }
}

/** Every stack (with its networks, secrets and configs), then every service left; what went is added to `removed` as "stack NAME" / "service NAME". */
async function removeWorkloads(leader: NodeSession, removed: string[]): Promise<void> {
  for (const { name } of await listStacks(leader)) {
    await removeStack(leader, name);
    removed.push(`stack ${name}`);
  }
  for (const service of await leader.engine('list the services', (api) => api.services())) {
    if (await leader.engine(`remove the service ${service.Spec.Name}`, (api) => api.remove('service', service.ID))) removed.push(`service ${service.Spec.Name}`);
  }
}

/** Waits until the node's own engine says it is a worker (its demotion reached it). */
async function untilWorker(session: NodeSession, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await session.refreshSwarm()).state === 'manager') {
    if (Date.now() > deadline) throw new PiswarmError(`${session.node.hostname} still acts as a manager ${timeoutMs / 1000} s after its demotion.`, { hint: 'Run `piswarm swarm teardown` again.' });
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
