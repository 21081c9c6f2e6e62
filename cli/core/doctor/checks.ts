import { runChecks, worstOf, type CheckResult, type ClusterEvidence } from './check.js';
import { HOST_CHECKS } from './host-checks.js';
import { SWARM_CHECKS } from './swarm-checks.js';

/** Every check doctor makes, in the order it reports them. */
export const DOCTOR_CHECKS = [...SWARM_CHECKS, ...HOST_CHECKS];

export interface NodeReport {
  node: string;
  checks: CheckResult[];
}

/** Each node's findings, from what was learnt of every node. */
export function diagnoseCluster(evidence: ClusterEvidence): NodeReport[] {
  return evidence.nodes.map((node) => ({ node: node.hostname, checks: runChecks(DOCTOR_CHECKS, node, evidence) }));
}

/** How many checks ended in each status, over every node. */
export function tally(reports: readonly NodeReport[]): Record<'ok' | 'warn' | 'fail' | 'skipped', number> {
  const counts = { ok: 0, warn: 0, fail: 0, skipped: 0 };
  for (const r of reports) for (const c of r.checks) counts[c.status] += 1;
  return counts;
}

/** A node's worst finding, as one short line ("ok" when nothing is wrong): what the dashboard shows. */
export function worstFinding(report: NodeReport): { status: 'ok' | 'warn' | 'fail'; text: string } {
  const worst = worstOf(report.checks);
  if (!worst || worst.status === 'ok' || worst.status === 'skipped') return { status: 'ok', text: 'ok' };
  const more = report.checks.filter((c) => c.status === 'warn' || c.status === 'fail').length - 1;
  return { status: worst.status, text: `${worst.id}${more > 0 ? ` +${more}` : ''}` };
}
