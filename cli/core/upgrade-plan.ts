import type { SwarmNodeView } from './placement.js';
import { quorumSize } from './quorum.js';

/**
 * A rolling upgrade's order and steps: workers first, then managers, the leader last with its
 * leadership moved away first (demoted while it is upgraded, promoted back after), so Raft
 * always keeps a leader and quorum. Decided from the managers' view alone.
 */
export type UpgradeStepName = 'demote' | 'drain' | 'run' | 'reboot' | 'wait' | 'check' | 'activate' | 'promote';

export interface NodeUpgrade {
  id: string;
  hostname: string;
  role: 'manager' | 'worker';
  leader: boolean;
  steps: UpgradeStepName[];
  /** Already drained before the upgrade reached it (by hand): it is left drained at the end. */
  keepDrained: boolean;
}

export interface UpgradePlan {
  order: NodeUpgrade[];
  /** Nodes a run that stopped had already done, skipped now. */
  skipped: string[];
  warnings: string[];
  refusal?: { message: string; hint: string };
}

export interface UpgradeRequest {
  only: readonly string[];
  reboot: 'always' | 'when-needed';
  /** Node IDs an earlier run of this same upgrade finished. */
  done: ReadonlySet<string>;
  /** The node an earlier run stopped on (it drained it; it is activated at the end). */
  current?: string;
  /** A leader an earlier run demoted and has not promoted back yet. */
  demoted?: string;
}

export function planUpgrade(nodes: readonly SwarmNodeView[], request: UpgradeRequest): UpgradePlan {
  const warnings: string[] = [];
  const unknown = request.only.filter((name) => !nodes.some((n) => n.hostname === name));
  if (unknown.length > 0) return refuse(`${unknown.join(', ')} is not a swarm node.`, `The swarm's nodes: ${nodes.map((n) => n.hostname).join(', ')}.`);
  const down = nodes.filter((n) => n.state !== 'ready');
  if (down.length > 0) return refuse(`${down.map((n) => `${n.hostname} is ${n.state}`).join(', ')}: an upgrade takes one node at a time out of a healthy swarm only.`, 'Bring it back (or `piswarm node rm --force` a dead one), check with `piswarm doctor`, then upgrade.');
  const managers = nodes.filter((n) => n.role === 'manager' || n.id === request.demoted);
  const unreachable = managers.filter((m) => m.role === 'manager' && !m.reachable);
  if (unreachable.length > 0) return refuse(`${unreachable.map((m) => m.hostname).join(', ')} is unreachable in Raft: quorum is already at risk.`, 'Bring it back first; `piswarm doctor` says what it sees.');
  const count = managers.length;
  // Each manager is out of Raft while it reboots: the others must still be a majority.
  if (count > 1 && count - 1 < quorumSize(count)) {
    return refuse(`With ${count} managers, upgrading one loses quorum (${count - 1} of ${count} left, ${quorumSize(count)} needed).`, `Promote a worker first for ${count + 1} managers (\`piswarm node promote NODE\`), or demote one to 1.`);
  }
  if (count === 1) warnings.push(`${managers[0]!.hostname} is the only manager: while it is upgraded the swarm cannot be changed or reschedule tasks (those running keep running).`);

  // The node a stopped run left drained is finished whatever --only says: nothing else would bring it back.
  const chosen = nodes.filter((n) => request.only.length === 0 || request.only.includes(n.hostname) || n.id === request.current);
  const skipped = chosen.filter((n) => request.done.has(n.id)).map((n) => n.hostname);
  const todo = chosen.filter((n) => !request.done.has(n.id));
  // The node a stopped run left drained goes first: until it is back, the swarm has a node less to drain onto.
  const rank = (n: SwarmNodeView) => (n.id === request.current ? -1 : n.leader || n.id === request.demoted ? 2 : n.role === 'manager' ? 1 : 0);
  const order = [...todo].sort((a, b) => rank(a) - rank(b) || a.hostname.localeCompare(b.hostname)).map((n): NodeUpgrade => {
    const demote = (n.leader && count >= 3) || n.id === request.demoted;
    const keepDrained = n.availability === 'drain' && n.id !== request.current;
    const steps: UpgradeStepName[] = [...(demote && n.role === 'manager' ? ['demote' as const] : []), 'drain', 'run', 'reboot', 'wait', 'check', ...(keepDrained ? [] : ['activate' as const]), ...(demote ? ['promote' as const] : [])];
    return { id: n.id, hostname: n.hostname, role: n.role, leader: n.leader === true, steps, keepDrained };
  });
  for (const n of order.filter((o) => o.keepDrained)) warnings.push(`${n.hostname} was drained before the upgrade: it stays drained after it.`);
  if (request.reboot === 'when-needed') warnings.push('Nodes reboot only when the update asks for it (/var/run/reboot-required); --reboot reboots each one.');
  return { order, skipped, warnings };
}

function refuse(message: string, hint: string): UpgradePlan {
  return { order: [], skipped: [], warnings: [], refusal: { message, hint } };
}

/** What one step does, for the dry run and the progress lines. */
export function describeUpgradeStep(step: UpgradeStepName, node: NodeUpgrade, action: string, reboot: UpgradeRequest['reboot']): string {
  switch (step) {
    case 'demote':
      return `demote ${node.hostname} so another manager leads (promoted back at the end)`;
    case 'drain':
      return `drain ${node.hostname} and wait until its tasks run elsewhere`;
    case 'run':
      return `run: ${action}`;
    case 'reboot':
      return reboot === 'always' ? `reboot ${node.hostname}` : `reboot ${node.hostname} if the update asks for it`;
    case 'wait':
      return `wait until ${node.hostname} answers and is ready in the swarm (found by MAC if its address moved)`;
    case 'check':
      return `check Docker's version and doctor's checks on ${node.hostname}`;
    case 'activate':
      return `activate ${node.hostname}`;
    case 'promote':
      return `promote ${node.hostname} back to manager`;
  }
}
