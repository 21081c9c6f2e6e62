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
