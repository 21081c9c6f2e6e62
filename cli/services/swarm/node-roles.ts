import type { SwarmNodeView } from '../../core/placement.js';
import { checkDemotion, checkPromotion } from '../../core/quorum.js';
import { managerViews } from '../../core/removal-plan.js';
import { PiswarmError } from '../../errors.js';
import type { NodeOpEvents } from './drain-node.js';
import type { NodeSession } from './node-session.js';
import { readSwarmNodes } from './swarm-nodes.js';

const SETTLE_TIMEOUT_MS = 60_000;
const POLL_MS = 300;

/** Makes a worker a manager once the quorum arithmetic says it is sound; waits until it is reachable in Raft. */
export async function promoteNode(manager: NodeSession, target: SwarmNodeView, events: NodeOpEvents, why = ''): Promise<boolean> {
  if (target.role === 'manager') return false;
  const managers = managerViews(await readSwarmNodes(manager));
  const verdict = checkPromotion(managers, { hostname: target.hostname, reachable: target.state === 'ready' });
  if (verdict.refusal) throw new PiswarmError(verdict.refusal, { hint: verdict.hint });
  if (verdict.warning) events.warn(verdict.warning);
  events.step(`promote ${target.hostname} to manager${why ? `: ${why}` : ` (${managers.length + 1} managers)`}`);
  await manager.engine(`promote ${target.hostname}`, (api) => api.updateNode(target.id, { role: 'manager' }));
  await waitForNode(manager, target, (n) => n.role === 'manager' && n.reachable === true, 'a reachable manager');
  return true;
}

/**
 * Makes a manager a worker, through another manager, only when the managers left keep quorum;
 * refused with the arithmetic otherwise. Waits until it has left Raft.
 */
export async function demoteNode(manager: NodeSession, target: SwarmNodeView, events: NodeOpEvents, why = ''): Promise<boolean> {
  if (target.role === 'worker') return false;
  const managers = managerViews(await readSwarmNodes(manager));
  const verdict = checkDemotion(managers, target.hostname);
  if (verdict.refusal) throw new PiswarmError(verdict.refusal, { hint: verdict.hint });
  if (manager.swarmNodeId === target.id) {
    throw new PiswarmError(`No manager other than ${target.hostname} answers over SSH, and a manager cannot be demoted through itself.`, { hint: 'Bring another manager back (piswarm node ls), or promote a worker first.' });
  }
  if (verdict.warning) events.warn(verdict.warning);
  events.step(`demote ${target.hostname} to worker${why ? `: ${why}` : ` (${managers.length - 1} managers left)`}`);
  await manager.engine(`demote ${target.hostname}`, (api) => api.updateNode(target.id, { role: 'worker' }));
  await waitForNode(manager, target, (n) => n.role === 'worker', 'a worker');
  return true;
}

/** Polls the swarm's view of one node until `ready` holds (node changes come with no container event). */
export async function waitForNode(manager: NodeSession, target: SwarmNodeView, ready: (node: SwarmNodeView) => boolean, what: string, timeoutMs = SETTLE_TIMEOUT_MS): Promise<SwarmNodeView> {
  const find = (nodes: readonly SwarmNodeView[]) => nodes.find((n) => n.id === target.id);
  const nodes = await waitForSwarm(
    manager,
    (all) => {
      const node = find(all);
      return node !== undefined && ready(node);
    },
    (all) => {
      const node = find(all);
      return `${target.hostname} did not become ${what} within ${timeoutMs / 1000} s (it is ${node ? `${node.role}, ${node.state}` : 'gone'}).`;
    },
    timeoutMs,
  );
  return find(nodes)!;
}

/** Polls the swarm's nodes until `ready` holds of them; `late` says what did not happen in time. */
export async function waitForSwarm(manager: NodeSession, ready: (nodes: SwarmNodeView[]) => boolean, late: (nodes: SwarmNodeView[]) => string, timeoutMs = SETTLE_TIMEOUT_MS): Promise<SwarmNodeView[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const nodes = await readSwarmNodes(manager);
    if (ready(nodes)) return nodes;
    if (Date.now() >= deadline) throw new PiswarmError(late(nodes), { hint: 'See `piswarm node ls`; run the command again once the swarm has settled.' });
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
