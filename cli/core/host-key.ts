import { createHash } from 'node:crypto';

/** Turns the raw key blob an SSH server presents into an OpenSSH line: "ssh-ed25519 AAAA...". */
export function hostKeyLine(blob: Buffer): string {
  const typeLength = blob.readUInt32BE(0);
  const type = blob.subarray(4, 4 + typeLength).toString('ascii');
  return `${type} ${blob.toString('base64')}`;
}

/** OpenSSH's fingerprint format ("SHA256:..." without padding), as `ssh-keygen -lf` prints it. */
export function fingerprint(keyLine: string): string {
  const base64 = keyLine.trim().split(/\s+/)[1] ?? '';
  const digest = createHash('sha256').update(Buffer.from(base64, 'base64')).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}

/** Compares the key material only: comments and spacing in the inventory do not matter. */
export function sameHostKey(a: string, b: string): boolean {
  const [typeA, dataA] = a.trim().split(/\s+/);
  const [typeB, dataB] = b.trim().split(/\s+/);
  return typeA === typeB && dataA === dataB;
}
