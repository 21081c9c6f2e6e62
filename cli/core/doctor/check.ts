import type { SwarmNodeView } from '../placement.js';
import type { NodeProbe } from './probe.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skipped';

/** One finding on one node: what was found, why it matters, and the fix (a command or an edit). */
export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  found: string;
  why: string;
  fix?: string;
  /** A fix `doctor --fix` can apply by itself. */
  autoFix?: AutoFixId;
}

export type AutoFixId = 'log-rotation' | 'time-sync' | 'cmdline';

/** The engine's own words about itself (`docker info`), as far as doctor needs them. */
export interface EngineDetails {
  version: string;
  dockerRootDir: string;
  loggingDriver: string;
  warnings: string[];
  /** How long node certificates last in this swarm (managers know it), in seconds. */
  certExpirySeconds?: number;
}

/** What was learnt of one node; a part that could not be read says why instead. */
export interface NodeEvidence {
  hostname: string;
  role?: 'manager' | 'worker';
  /** Why SSH failed; undefined when the node answered. */
  sshError?: string;
  /** What the SSH layer advises for that failure (a refused key, a changed host key). */
  sshHint?: string;
  probe?: NodeProbe;
  probeError?: string;
  engine?: EngineDetails;
  engineError?: string;
  /** This node's clock minus this machine's, and how uncertain that is (half the round trip). */
  clock?: { offsetMs: number; uncertaintyMs: number };
  dhcp?: boolean;
}

/** What is seen across the cluster: the managers' view of every node, every node's evidence. */
export interface ClusterEvidence {
  nodes: NodeEvidence[];
  swarm?: SwarmNodeView[];
  swarmError?: string;
  certExpirySeconds?: number;
  /** Hostnames by IP address, to name the nodes a port check could not reach. */
  addresses?: Record<string, string>;
  now: Date;
}

export interface CheckDefinition {
  id: string;
  title: string;
  why: string;
  /** Only meaningful on a Raspberry Pi: "skipped: not a Raspberry Pi" elsewhere. */
  piOnly?: boolean;
  /** Reads the operating system's probe (skipped when it could not run). */
  needsProbe?: boolean;
  /** Reads the engine (skipped when Docker does not answer). */
  needsEngine?: boolean;
  run(node: NodeEvidence, cluster: ClusterEvidence): Verdict;
}

export type Verdict = { status: CheckStatus; found: string; fix?: string; autoFix?: AutoFixId };

export const ok = (found: string): Verdict => ({ status: 'ok', found });
export const skipped = (found: string): Verdict => ({ status: 'skipped', found });
export const warn = (found: string, fix: string, autoFix?: AutoFixId): Verdict => ({ status: 'warn', found, fix, autoFix });
export const fail = (found: string, fix: string, autoFix?: AutoFixId): Verdict => ({ status: 'fail', found, fix, autoFix });

export const isPi = (node: NodeEvidence): boolean => /raspberry pi/i.test(node.probe?.model ?? '');

const RANK: Record<CheckStatus, number> = { skipped: 0, ok: 0, warn: 1, fail: 2 };

/** The worst of some results (fail over warn); undefined when none is worse than ok. */
export function worstOf(results: readonly CheckResult[]): CheckResult | undefined {
  return results.reduce<CheckResult | undefined>((worst, r) => (RANK[r.status] > RANK[worst?.status ?? 'ok'] ? r : worst), undefined);
}

/** Runs every check on one node, in order; a check whose evidence is missing says why it was skipped. */
export function runChecks(definitions: readonly CheckDefinition[], node: NodeEvidence, cluster: ClusterEvidence): CheckResult[] {
  return definitions.map((d) => {
    const verdict = precondition(d, node) ?? d.run(node, cluster);
    return { id: d.id, title: d.title, why: d.why, ...verdict };
  });
}

function precondition(d: CheckDefinition, node: NodeEvidence): Verdict | undefined {
  if ((d.needsProbe || d.needsEngine || d.piOnly) && node.sshError) return skipped('skipped: the node does not answer over SSH');
  if ((d.needsProbe || d.piOnly) && !node.probe) return skipped(`skipped: the node's facts could not be read (${node.probeError ?? 'no answer'})`);
  if (d.piOnly && !isPi(node)) return skipped('skipped: not a Raspberry Pi');
  if (d.needsEngine && !node.engine) return skipped('skipped: Docker does not answer');
  return undefined;
}
