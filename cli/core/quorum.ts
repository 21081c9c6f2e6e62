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

/** Why an even manager count is a poor choice, in numbers; undefined for odd counts. */
export function evenManagersWarning(managers: number): string | undefined {
  if (managers === 0 || managers % 2 === 1) return undefined;
  return (
    `${managers} managers need ${quorumSize(managers)} up to keep quorum, so they survive ${faultTolerance(managers)} failure(s), ` +
    `no more than ${managers - 1} would; the extra manager only adds Raft traffic. Use ${managers - 1} or ${managers + 1} (--managers).`
  );
}
