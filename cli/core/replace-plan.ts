import type { SwarmNodeView } from './placement.js';
import { describeStep, planRemoval, type RemovalPlan } from './removal-plan.js';

export interface ReplacePlan {
  /** OLD's labels, which NEW gets. */
  labels: Record<string, string>;
  /** Whether NEW joins now (false when a run cut short had it join already). */
  join: boolean;
  removal: RemovalPlan;
}

/**
 * Replacing OLD with NEW: NEW is secured and joins as a worker with OLD's labels, so tasks pinned
 * to them have somewhere to go; then OLD goes by the removal sequence, NEW being the worker
 * promoted when OLD was a manager (the count stays odd, quorum is checked before each change).
 * `fresh` is NEW as a swarm node once it joined; before, a stand-in for the plan.
 */
export function planReplacement(old: SwarmNodeView, swarm: readonly SwarmNodeView[], fresh: SwarmNodeView | { hostname: string }, options: { sshReachable: boolean }): ReplacePlan {
  const joined = 'id' in fresh;
  const standIn: SwarmNodeView = joined ? fresh : { id: '(new)', hostname: fresh.hostname, role: 'worker', arch: '', os: 'linux', labels: {}, engineLabels: {}, state: 'ready', availability: 'active' };
  const nodes = joined ? swarm : [...swarm, standIn];
  const removal = planRemoval(old, nodes, { sshReachable: options.sshReachable, force: old.state !== 'ready', promote: standIn.role === 'worker' ? standIn.hostname : undefined });
  return { labels: old.labels, join: !joined, removal };
}

/** The plan as the numbered lines `--dry-run` and the confirmation print. */
export function describeReplacement(plan: ReplacePlan, oldName: string, newName: string): string[] {
  const labels = Object.entries(plan.labels).map(([k, v]) => `${k}=${v}`).join(' ');
  return [
    ...(plan.join ? [`secure ${newName} (your key in, the password out) and join it as a worker`] : []),
    ...(labels ? [`label ${newName} ${labels}: what ${oldName}'s tasks are pinned to`] : []),
    ...plan.removal.steps.map(describeStep),
    `forget ${oldName} in the inventory; ${newName} keeps its role and labels there`,
    'wait until every service runs all its tasks again',
  ];
}
