/**
 * Checksum lists as image publishers write them: `HEX  FILENAME` or `HEX *FILENAME` lines
 * (sha256sum's output, hypriot's `.sha256` files, SHA256SUMS), or a file holding just the hash.
 */
export function findSha256(listing: string, fileName: string): string | undefined {
  const lines = listing.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  for (const line of lines) {
    const match = /^([0-9a-fA-F]{64})\s+\*?(.+)$/.exec(line);
    if (match && (match[2] === fileName || match[2]!.split('/').pop() === fileName)) return match[1]!.toLowerCase();
  }
  const bare = lines.length === 1 ? /^([0-9a-fA-F]{64})$/.exec(lines[0]!) : null;
  return bare?.[1]!.toLowerCase();
}

export function isSha256(value: string): boolean {
  return /^[0-9a-fA-F]{64}$/.test(value);
}

/** Where a publisher puts the checksum of `source`: `source.sha256` beside it, or SHA256SUMS in its folder. */
export function checksumCandidates(source: string): string[] {
  const slash = source.lastIndexOf('/');
  const folder = slash >= 0 ? source.slice(0, slash + 1) : '';
  return [`${source}.sha256`, `${folder}SHA256SUMS`];
}
