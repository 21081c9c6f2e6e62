import { planNode, type SwarmRole, type SwarmTarget } from '../../core/swarm-plan.js';
import { PiswarmError } from '../../errors.js';
import type { NodeSession } from './node-session.js';
import { readSwarmNodes } from './swarm-nodes.js';

/** Inits the swarm on the leader; returns its ID. */
export async function initSwarm(leader: NodeSession, advertiseAddr: string): Promise<string> {
  await leader.engine('init the swarm', (api) => api.swarmInit({ advertiseAddr }));
  const swarm = await leader.refreshSwarm();
  if (swarm.state !== 'manager') throw new PiswarmError(`${leader.node.hostname}: the swarm init did not make it a manager (state ${swarm.state}).`);
  return swarm.clusterId;
}

/** Join tokens, asked of the leader once each and kept in memory only. */
export class JoinTokens {
  private readonly tokens = new Map<SwarmRole, Promise<string>>();

  constructor(private readonly leader: NodeSession) {}

  get(role: SwarmRole): Promise<string> {
    let token = this.tokens.get(role);
    if (!token) {
      token = this.leader.engine(`read the ${role} join token`, (api) => api.joinToken(role));
      this.tokens.set(role, token);
    }
    return token;
  }
}

/**
 * Brings one node (not the leader) into the swarm with its role: join, leave and join (--force),
 * promote or demote through the leader, or nothing. Returns what changed.
 */
export async function placeNode(
  session: NodeSession,
  role: SwarmRole,
  context: { leader: NodeSession; target: SwarmTarget; members: ReadonlySet<string>; tokens: JoinTokens; force: boolean },
): Promise<string | undefined> {
  // A join cut short (its connection lost) goes on in the engine: it is waited for, not made
  // again, and the node is then looked for among the members afresh.
  let members = context.members;
  if (session.facts.swarm.state === 'pending') {
    await waitUntilJoined(session, JOIN_WAIT_MS);
    members = new Set((await readSwarmNodes(context.leader)).map((n) => n.id));
  }
  const plan = planNode({ ...session.node, swarm: session.facts.swarm }, role, context.target, members, context.force);
  if ('refused' in plan) {
    throw new PiswarmError(`${session.node.hostname} was left out: ${plan.refused}.`, {
      hint: `To move it into this swarm, run: piswarm bootstrap --only ${session.node.hostname} --force (it leaves the other swarm first).`,
    });
  }
  const swarm = session.facts.swarm;
  switch (plan.action) {
    case 'keep':
      return undefined;
    case 'promote':
    case 'demote':
      await context.leader.engine(`${plan.action} ${session.node.hostname}`, (api) => api.updateNode((swarm as { nodeId: string }).nodeId, { role }));
      await session.refreshSwarm();
      return `${plan.action}d to ${role}`;
    case 'join':
    case 'rejoin': {
      const token = await context.tokens.get(role);
      try {
        // The token goes in the request body only: on no command line, in no file, in no log.
        await session.engine('join the swarm', async (api) => {
          if (plan.action === 'rejoin') await api.swarmLeave(true);
          await api.swarmJoin({ token, managerAddr: context.leader.node.ip!, advertiseAddr: session.node.ip! });
        });
      } catch (error) {
        // A slow join goes on in the background: wait for it rather than join twice.
        if (!/Timeout was reached/i.test((error as Error).message)) throw error;
        await waitUntilJoined(session, JOIN_WAIT_MS);
      }
      await session.refreshSwarm();
      return `${plan.action === 'rejoin' ? 'left its old swarm, joined' : 'joined'} as ${role}`;
    }
    case 'init':
      throw new Error('only the leader inits the swarm');
  }
}

/** How long a join that docker left "in the background" may take to finish. */
const JOIN_WAIT_MS = 60_000;

async function waitUntilJoined(session: NodeSession, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const swarm = await session.refreshSwarm();
    if (swarm.state === 'worker' || swarm.state === 'manager') return;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new PiswarmError(`${session.node.hostname} did not finish joining within ${timeoutMs / 1000} s.`, {
    hint: `Check that ports 2377/tcp, 7946/tcp+udp and 4789/udp are open between the nodes, then run: piswarm bootstrap --only ${session.node.hostname}`,
  });
}

/** Adds the inventory's labels a node lacks (or has with another value), through the leader. */
export async function applyLabels(leader: NodeSession, nodeId: string, labels: Record<string, string> | undefined): Promise<boolean> {
  if (!labels || Object.keys(labels).length === 0) return false;
  const current = await leader.engine('read node labels', (api) => api.nodeLabels(nodeId));
  const missing = Object.entries(labels).filter(([key, value]) => current[key] !== value);
  if (missing.length === 0) return false;
  await leader.engine('label the node', (api) => api.updateNode(nodeId, { addLabels: Object.fromEntries(missing) }));
  return true;
}
