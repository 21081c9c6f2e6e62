import { UsageError } from '../errors.js';
import type { SwarmMembership } from './node-facts.js';
import { faultToleranceTable, managerCountProblem } from './quorum.js';

export type SwarmRole = 'manager' | 'worker';

export interface SwarmCandidate {
  mac: string;
  hostname: string;
  /** The role the inventory asks for, if any. */
  role?: SwarmRole;
  /** What the node is now; undefined when it could not be reached. */
  swarm?: SwarmMembership;
}

/**
 * Who manages: `--managers N`, else as many as the inventory names (at least 1). Nodes the
 * inventory calls managers come first, then current managers, then unassigned nodes, and nodes
 * the inventory calls workers last, each group in inventory order. An even count or more than 7
 * is refused unless forced, and then only warned about.
 */
export function chooseRoles(nodes: readonly SwarmCandidate[], managers?: number, force = false): { roles: Map<string, SwarmRole>; warnings: string[] } {
  const wanted = managers ?? Math.max(1, nodes.filter((n) => n.role === 'manager').length);
  if (!Number.isInteger(wanted) || wanted < 1) throw new UsageError(`--managers must be a whole number of at least 1, got ${managers}.`, 'A home lab has 1, 3 or 5 managers.');
  if (wanted > nodes.length) {
    throw new UsageError(
      `--managers ${wanted} is more than the ${nodes.length} node(s) in the inventory.`,
      `Use --managers ${Math.max(1, nodes.length % 2 === 0 ? nodes.length - 1 : nodes.length)} or fewer, or add nodes (piswarm discover --save).`,
    );
  }
  const rank = (n: SwarmCandidate) => (n.role === 'manager' ? 0 : n.swarm?.state === 'manager' ? 1 : n.role === undefined ? 2 : 3);
  const ordered = nodes.map((n, i) => ({ n, i })).sort((a, b) => rank(a.n) - rank(b.n) || a.i - b.i);
  const roles = new Map<string, SwarmRole>(ordered.map(({ n }, i) => [n.mac, i < wanted ? 'manager' : 'worker']));
  const problem = managerCountProblem(wanted);
  if (problem && !force) {
    throw new UsageError(`${problem}`, `Use 1, 3, 5 or 7 managers (${faultToleranceTable()}); --force to go ahead anyway.`);
  }
  return { roles, warnings: problem ? [problem] : [] };
}

export interface SwarmTarget {
  /** The node that inits the swarm, or the manager through which everything else is done. */
  leader: string;
  /** The swarm to join; undefined when the leader has yet to init one. */
  swarmId?: string;
}

/**
 * The swarm to build or finish: the one the inventory recorded, else one a chosen manager already
 * manages (adopted), else a new one on the first manager. A recorded swarm that no reachable node
 * manages is an error, not a reason to start a second swarm beside it.
 */
export function findSwarm(nodes: readonly SwarmCandidate[], roles: ReadonlyMap<string, SwarmRole>, recordedSwarmId: string | undefined, force: boolean): SwarmTarget {
  const managers = nodes.filter((n) => roles.get(n.mac) === 'manager');
  const managing = (n: SwarmCandidate, id?: string) => n.swarm?.state === 'manager' && (id === undefined || n.swarm.clusterId === id);
  if (recordedSwarmId && !force) {
    const leader = [...managers, ...nodes].find((n) => managing(n, recordedSwarmId));
    if (leader) return { leader: leader.mac, swarmId: recordedSwarmId };
    const unreachable = nodes.filter((n) => !n.swarm).map((n) => n.hostname);
    throw new UsageError(
      `No reachable node manages the swarm recorded in the inventory (${recordedSwarmId.slice(0, 12)})${unreachable.length ? `; unreachable: ${unreachable.join(', ')}` : ''}.`,
      unreachable.length
        ? 'Bring its managers back and run bootstrap again; a new swarm beside the old one would split the cluster.'
        : 'If that swarm is gone for good, run again with --force to start a new one.',
    );
  }
  const adopted = managers.find((n) => managing(n));
  if (adopted && adopted.swarm?.state === 'manager') return { leader: adopted.mac, swarmId: adopted.swarm.clusterId };
  const first = managers.find((n) => n.swarm) ?? managers[0]!;
  return { leader: first.mac };
}

export type NodeAction = 'init' | 'join' | 'keep' | 'promote' | 'demote' | 'rejoin';

/**
 * What one node needs. `members` are the swarm node IDs the leader lists. A node in another swarm
 * (or stuck joining) is refused unless `force`, which makes it leave and join this one.
 */
export function planNode(
  node: SwarmCandidate & { swarm: SwarmMembership },
  role: SwarmRole,
  target: SwarmTarget,
  members: ReadonlySet<string>,
  force: boolean,
): { action: NodeAction } | { refused: string } {
  const swarm = node.swarm;
  if (node.mac === target.leader) {
    if (!target.swarmId) return swarm.state === 'none' ? { action: 'init' } : conflict(swarm, force);
    return { action: 'keep' };
  }
  if (swarm.state === 'none') return { action: 'join' };
  if (swarm.state === 'manager' && target.swarmId && swarm.clusterId === target.swarmId) return { action: role === 'manager' ? 'keep' : 'demote' };
  if (swarm.state === 'worker' && members.has(swarm.nodeId)) return { action: role === 'worker' ? 'keep' : 'promote' };
  return conflict(swarm, force);
}

function conflict(swarm: SwarmMembership, force: boolean): { action: NodeAction } | { refused: string } {
  if (force) return { action: 'rejoin' };
  const where =
    swarm.state === 'manager'
      ? `manages another swarm (${swarm.clusterId.slice(0, 12)})`
      : swarm.state === 'worker'
        ? `is a worker of another swarm (managers ${swarm.managers.join(', ') || 'unknown'})`
        : swarm.state === 'locked'
          ? 'is locked (swarm autolock, after a restart): unlock it with `docker swarm unlock` and its unlock key first'
          : `is in swarm state "${swarm.state}"`;
  return { refused: `it ${where}` };
}
