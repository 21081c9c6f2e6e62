import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A host on a lab's bridge that is not a lab Pi: its own netns, veth and MAC, and what it serves on port 22. */
export interface Decoy {
  netns: string;
  ip: string;
}

// One implementation, shared with bench/discover-bench.sh.
const script = fileURLToPath(new URL('./decoy.sh', import.meta.url));

/**
 * serve: sshd (a real OpenSSH server), hang (accepts TCP on 22, then never says anything), or
 * nothing (the kernel refuses port 22). Returns once port 22 listens.
 */
export function addDecoy(options: { bridge: string; netns: string; veth: string; ip: string; prefixLength: number; mac: string; serve: 'sshd' | 'hang' | 'nothing'; dir: string }): Decoy {
  const { netns, veth, bridge, ip, prefixLength, mac, serve, dir } = options;
  execFileSync('bash', [script, 'add', netns, veth, bridge, `${ip}/${prefixLength}`, mac, serve, dir], { stdio: 'pipe' });
  return { netns, ip };
}

export function removeDecoy(decoy: Decoy): void {
  execFileSync('bash', [script, 'remove', decoy.netns], { stdio: 'pipe' });
}
