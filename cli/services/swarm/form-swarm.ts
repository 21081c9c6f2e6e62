import { joinTokenScript, nodeCommandScript, nodeInspectScript, swarmInitScript, swarmJoinScript } from '../../core/swarm-scripts.js';
import { planNode, type SwarmRole, type SwarmTarget } from '../../core/swarm-plan.js';
import { PiswarmError } from '../../errors.js';
import type { NodeSession } from './node-session.js';

/** Inits the swarm on the leader; returns its ID. */
export async function initSwarm(leader: NodeSession, advertiseAddr: string): Promise<string> {
  await leader.run('init the swarm', swarmInitScript(advertiseAddr));
  const facts = await leader.readFacts();
  if (facts.swarm.state !== 'manager') throw new PiswarmError(`${leader.node.hostname}: the swarm init did not make it a manager (state ${facts.swarm.state}).`);
  return facts.swarm.clusterId;
}

/** Join tokens, asked of the leader once each and kept in memory only. */
export class JoinTokens {
  private readonly tokens = new Map<SwarmRole, Promise<string>>();

  constructor(private readonly leader: NodeSession) {}

  get(role: SwarmRole): Promise<string> {
    let token = this.tokens.get(role);
    if (!token) {
      token = this.leader.run(`read the ${role} join token`, joinTokenScript(role)).then((r) => r.stdout.trim());
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
  const plan = planNode({ ...session.node, swarm: session.facts.swarm }, role, context.target, context.members, context.force);
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
      await context.leader.run(`${plan.action} ${session.node.hostname}`, nodeCommandScript([plan.action, (swarm as { nodeId: string }).nodeId]));
      await session.readFacts();
      return `${plan.action}d to ${role}`;
    case 'join':
    case 'rejoin': {
      const token = await context.tokens.get(role);
      try {
        await session.run('join the swarm', swarmJoinScript(session.node.ip!, context.leader.node.ip!, plan.action === 'rejoin'), `${token}\n`);
      } catch (error) {
        // A slow join goes on in the background: wait for it rather than join twice.
        if (!/Timeout was reached/i.test((error as Error).message)) throw error;
        await waitUntilJoined(session, JOIN_WAIT_MS);
      }
      await session.readFacts();
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
    const { swarm } = await session.readFacts();
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
  const { stdout } = await leader.run('read node labels', nodeInspectScript(nodeId, '{{json .Spec.Labels}}'));
  const current = (JSON.parse(stdout.trim() || '{}') ?? {}) as Record<string, string>;
  const missing = Object.entries(labels).filter(([key, value]) => current[key] !== value);
  if (missing.length === 0) return false;
  await leader.run('label the node', nodeCommandScript(['update', ...missing.flatMap(([key, value]) => ['--label-add', `${key}=${value}`]), nodeId]));
  return true;
}
