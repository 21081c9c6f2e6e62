/**
 * Raft quorum arithmetic for swarm managers: the swarm keeps working while a majority of its
 * managers is up, so N managers tolerate floor((N - 1) / 2) failures.
 */
export function quorumSize(managers: number): number {
  return Math.floor(managers / 2) + 1;
}

export function faultTolerance(managers: number): number {
  return managers - quorumSize(managers);
}

/** Docker's advice: more managers than this only slow Raft down. */
export const MAX_SENSIBLE_MANAGERS = 7;

/** Why a manager count is a poor choice, in numbers; undefined for 1, 3, 5 and 7. */
export function managerCountProblem(managers: number): string | undefined {
  if (managers > MAX_SENSIBLE_MANAGERS) {
    return `${managers} managers survive ${faultTolerance(managers)} failures but every change waits for ${quorumSize(managers)} of them; Docker advises at most ${MAX_SENSIBLE_MANAGERS}.`;
  }
  if (managers % 2 === 1) return undefined;
  return (
    `${managers} managers need ${quorumSize(managers)} up to keep quorum, so they survive ${faultTolerance(managers)} failure(s), ` +
    `no more than ${managers - 1} would; the extra manager only adds Raft traffic.`
  );
}

/** Managers, the quorum they need and the failures they survive, for 1 to 7 managers. */
export function faultToleranceTable(): string {
  const rows = Array.from({ length: MAX_SENSIBLE_MANAGERS }, (_, i) => i + 1).map((n) => `${n} → quorum ${quorumSize(n)}, survives ${faultTolerance(n)}`);
  return rows.join('; ');
}

/** A manager as quorum checks see it: whether it is up and taking part in Raft. */
export interface ManagerView {
  hostname: string;
  reachable: boolean;
}

export interface QuorumVerdict {
  /** Why the change is refused, with the arithmetic; undefined when it is safe. */
  refusal?: string;
  hint?: string;
  /** Safe, but leaves a poor manager count: what that costs and what to do. */
  warning?: string;
}

function evenCountWarning(managers: number): string | undefined {
  const problem = managerCountProblem(managers);
  if (!problem) return undefined;
  return managers > MAX_SENSIBLE_MANAGERS ? problem : `${problem} Promote a worker or demote a manager to get an odd number.`;
}

function lostQuorum(managers: readonly ManagerView[]): QuorumVerdict | undefined {
  const up = managers.filter((m) => m.reachable).length;
  if (up >= quorumSize(managers.length)) return undefined;
  const down = managers.filter((m) => !m.reachable).map((m) => m.hostname);
  return {
    refusal: `The swarm has lost quorum: ${up} of ${managers.length} managers are reachable and ${managers.length} need ${quorumSize(managers.length)}, so it accepts no change.`,
    hint: `Bring ${down.join(', ')} back. If they are gone for good, run \`docker swarm init --force-new-cluster\` on a surviving manager (it keeps services and workers).`,
  };
}

/** Whether demoting (or removing) one manager keeps the swarm's quorum and at least one manager. */
export function checkDemotion(managers: readonly ManagerView[], hostname: string): QuorumVerdict {
  const target = managers.find((m) => m.hostname === hostname);
  if (!target) return { refusal: `${hostname} is not a manager.` };
  const lost = lostQuorum(managers);
  if (lost) return lost;
  const after = managers.length - 1;
  if (after === 0) {
    return { refusal: `${hostname} is the swarm's last manager: without it nothing can manage the swarm.`, hint: `Promote another node first (piswarm node promote NODE).` };
  }
  const upAfter = managers.filter((m) => m.reachable && m !== target).length;
  const needed = quorumSize(after);
  if (upAfter < needed) {
    const down = managers.filter((m) => !m.reachable).map((m) => m.hostname);
    return {
      refusal:
        `Demoting ${hostname} would leave ${after} manager(s) of which ${upAfter} reachable; ${after} managers need ⌊${after}/2⌋ + 1 = ${needed} for quorum, ` +
        `so the swarm would stop accepting changes.`,
      hint: down.length ? `Bring ${down.join(', ')} back first, or remove ${down.length > 1 ? 'them' : 'it'} (piswarm node rm ${down[0]} --force).` : `Promote a worker first.`,
    };
  }
  const warning = evenCountWarning(after);
  return warning ? { warning } : {};
}

/** Whether promoting a worker is sound: it must be up (a manager that cannot vote only raises the quorum). */
export function checkPromotion(managers: readonly ManagerView[], candidate: ManagerView): QuorumVerdict {
  const lost = lostQuorum(managers);
  if (lost) return lost;
  if (!candidate.reachable) {
    return { refusal: `${candidate.hostname} is down: as a manager it could not vote, and ${managers.length + 1} managers need ${quorumSize(managers.length + 1)}.`, hint: 'Bring it back first, or promote another node.' };
  }
  const warning = evenCountWarning(managers.length + 1);
  return warning ? { warning } : {};
}

/**
 * How to take a manager out: whether to promote one of `workers` (ready nodes) first so the count
 * stays odd, and the verdict on the demotion that follows. An even count is only warned about when
 * no worker can be promoted.
 */
export function planManagerRemoval(managers: readonly ManagerView[], hostname: string, workers: readonly string[], replacement = false): { promote?: string; verdict: QuorumVerdict } {
  const afterRemoval = managers.length - 1;
  // A replacement is a worker of its own, even when it has the hostname of the manager it replaces.
  const candidate = replacement ? workers[0] : workers.find((w) => w !== hostname);
  const promote = afterRemoval > 0 && afterRemoval % 2 === 0 && afterRemoval < MAX_SENSIBLE_MANAGERS ? candidate : undefined;
  if (!promote) return { verdict: checkDemotion(managers, hostname) };
  const lost = lostQuorum(managers);
  if (lost) return { verdict: lost };
  return { promote, verdict: checkDemotion([...managers, { hostname: promote, reachable: true }], hostname) };
}
