import type { SwarmNodeView } from './placement.js';
import { planManagerRemoval, quorumSize, type ManagerView } from './quorum.js';

/** One step of taking a node out of the swarm, and why it is there. */
export type RemovalStep =
  | { kind: 'promote'; node: string; why: string }
  | { kind: 'demote'; node: string; why: string }
  | { kind: 'drain'; node: string; why: string }
  | { kind: 'leave'; node: string; why: string }
  | { kind: 'remove'; node: string; force: boolean; why: string };

export interface RemovalPlan {
  steps: RemovalStep[];
  warnings: string[];
  /** Why piswarm will not remove the node, and what to do instead; the steps are empty then. */
  refusal?: { message: string; hint?: string };
}

/** The managers as quorum checks see them: up in the swarm and reachable in Raft. */
export function managerViews(nodes: readonly SwarmNodeView[]): ManagerView[] {
  return nodes.filter((n) => n.role === 'manager').map((n) => ({ hostname: n.hostname, reachable: n.state === 'ready' && n.reachable !== false }));
}

/**
 * The safe sequence for taking `target` out: for a manager, a worker promoted first when the
 * count would turn even, then the demotion (only while quorum holds); its tasks drained to other
 * nodes; `docker swarm leave` on the node itself; `docker node rm` on a manager. A node that is
 * down (and does not answer over SSH) cannot drain or leave: with `force` it is demoted and removed.
 */
export function planRemoval(target: SwarmNodeView, nodes: readonly SwarmNodeView[], options: { sshReachable: boolean; force: boolean; promote?: string }): RemovalPlan {
  const down = target.state !== 'ready';
  const name = target.hostname;
  const warnings: string[] = [];
  if (down && !options.force) {
    return refuse(`${name} is ${target.state} in the swarm: it cannot drain or leave by itself.`, `If it is gone for good: piswarm node rm ${name} --force. If it is only switched off, start it and run this again.`);
  }
  if (!down && !options.sshReachable && !options.force) {
    return refuse(`${name} is up in the swarm but does not answer over SSH, so it cannot leave the swarm itself.`, `Fix SSH to it, or piswarm node rm ${name} --force (then run \`docker swarm leave --force\` on it by hand).`);
  }
  if (options.force && !down && options.sshReachable) warnings.push(`${name} is up: it is removed the normal way (--force is for nodes that are down).`);

  const steps: RemovalStep[] = [];
  if (target.role === 'manager') {
    const managers = managerViews(nodes);
    // A replacement names the worker that takes the manager's place.
    const workers = options.promote ? [options.promote] : nodes.filter((n) => n.role === 'worker' && n.state === 'ready' && n.availability === 'active').map((n) => n.hostname);
    const { promote, verdict } = planManagerRemoval(managers, name, workers, options.promote !== undefined);
    if (verdict.refusal) return refuse(verdict.refusal, verdict.hint);
    if (verdict.warning) warnings.push(verdict.warning);
    const count = managers.length - 1 + (promote ? 1 : 0);
    if (promote) steps.push({ kind: 'promote', node: promote, why: `so ${count} managers (an odd number) remain once ${name} is demoted` });
    steps.push({ kind: 'demote', node: name, why: `a manager leaves Raft before it leaves the swarm; ${count} manager(s) keep quorum (${quorumSize(count)} needed)` });
  }
  if (!down) steps.push({ kind: 'drain', node: name, why: 'its tasks start on other nodes before it goes' });
  if (options.sshReachable) steps.push({ kind: 'leave', node: name, why: 'the node itself leaves, so its engine stops acting as a swarm member' });
  const left = options.sshReachable && !down;
  steps.push({ kind: 'remove', node: name, force: !left, why: left ? 'the managers forget it once it is down' : 'it is down and cannot leave itself, so the managers forget it by force' });
  return { steps, warnings };
}

function refuse(message: string, hint?: string): RemovalPlan {
  return { steps: [], warnings: [], refusal: { message, ...(hint ? { hint } : {}) } };
}

/** One line per step, as `--dry-run` and the progress print them. */
export function describeStep(step: RemovalStep): string {
  const what = {
    promote: `promote ${step.node} to manager`,
    demote: `demote ${step.node} to worker`,
    drain: `drain ${step.node}`,
    leave: `docker swarm leave on ${step.node}`,
    remove: `docker node rm${step.kind === 'remove' && step.force ? ' --force' : ''} ${step.node}`,
  }[step.kind];
  return `${what}: ${step.why}`;
}
