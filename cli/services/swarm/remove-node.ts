import { findSwarmNode } from '../../core/node-table.js';
import type { ImagePlatform, SwarmNodeView } from '../../core/placement.js';
import { describeStep, type RemovalPlan, type RemovalStep } from '../../core/removal-plan.js';
import { drainNode, type NodeOpEvents } from './drain-node.js';
import { demoteNode, promoteNode, waitForNode } from './node-roles.js';
import type { NodeSession } from './node-session.js';
import { readSwarmNodes } from './swarm-nodes.js';

export interface RemovalContext {
  /** A manager other than the node being removed. */
  manager: NodeSession;
  nodes: readonly NodeSession[];
  /** The node's own session, when it answered over SSH. */
  own?: NodeSession;
}

/**
 * Carries out a removal plan step by step, each on fresh swarm state; `done` hears of each step
 * once it is complete (the caller records role changes in the inventory as they happen).
 */
export async function removeNode(
  access: RemovalContext,
  target: SwarmNodeView,
  plan: RemovalPlan,
  options: { timeoutMs: number },
  ports: { fetchPlatforms(image: string): Promise<ImagePlatform[]> },
  events: NodeOpEvents & { done(step: RemovalStep): void },
): Promise<void> {
  const { manager } = access;
  // Each step works on the swarm as it is now (the previous step changed it). Every step but a
  // promotion is about the target, found by its ID: its replacement may have the same hostname.
  const current = async (step: RemovalStep) => {
    const swarm = await readSwarmNodes(manager);
    const found = step.kind === 'promote' ? swarm.find((n) => n.hostname === step.node && n.id !== target.id) : swarm.find((n) => n.id === target.id);
    return found ?? findSwarmNode(swarm, [], step.node);
  };
  for (const step of plan.steps) {
    switch (step.kind) {
      case 'promote':
        await promoteNode(manager, await current(step), events, step.why);
        break;
      case 'demote':
        await demoteNode(manager, await current(step), events, step.why);
        break;
      case 'drain':
        // A removal never lets a service stop: those with every task on the node surge first.
        await drainNode(manager, access.nodes, await current(step), { force: false, surge: true, timeoutMs: options.timeoutMs, dryRun: false }, ports, events);
        break;
      case 'leave':
        events.step(describeStep(step));
        await access.own!.engine('leave the swarm', (api) => api.swarmLeave(target.state !== 'ready'));
        await waitForNode(manager, target, (n) => n.state === 'down', 'down in the swarm');
        break;
      case 'remove':
        events.step(describeStep(step));
        await manager.engine(`remove ${step.node} from the swarm`, (api) => api.removeNode(target.id, step.force === true));
        break;
    }
    events.done(step);
  }
}
