import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** A host on a lab's bridge that is not a lab Pi: its own netns, veth and MAC, and what it serves on port 22. */
export interface Decoy {
  netns: string;
  ip: string;
  pid?: number;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

/**
 * serve: sshd (a real OpenSSH server), hang (accepts TCP on 22, then never says anything), or
 * nothing (the kernel refuses port 22).
 */
export function addDecoy(options: { bridge: string; netns: string; veth: string; ip: string; prefixLength: number; mac: string; serve: 'sshd' | 'hang' | 'nothing'; dir: string }): Decoy {
  ip('netns', 'add', options.netns);
  ip('link', 'add', options.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', options.netns);
  ip('link', 'set', options.veth, 'master', options.bridge, 'up');
  ip('-n', options.netns, 'link', 'set', 'eth0', 'address', options.mac);
  ip('-n', options.netns, 'addr', 'add', `${options.ip}/${options.prefixLength}`, 'dev', 'eth0');
  ip('-n', options.netns, 'link', 'set', 'eth0', 'up');
  ip('-n', options.netns, 'link', 'set', 'lo', 'up');
  const decoy: Decoy = { netns: options.netns, ip: options.ip };
  if (options.serve === 'nothing') return decoy;
  let command: string[];
  if (options.serve === 'sshd') {
    const keyDir = join(options.dir, options.netns);
    mkdirSync(keyDir, { recursive: true });
    mkdirSync('/run/sshd', { recursive: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keyDir, 'host_key')]);
    command = ['/usr/sbin/sshd', '-D', '-f', '/dev/null', '-h', join(keyDir, 'host_key'), '-o', `PidFile=${join(keyDir, 'sshd.pid')}`];
  } else {
    command = [process.execPath, '-e', "require('net').createServer(() => {}).listen(22)"];
  }
  const child = spawn('ip', ['netns', 'exec', options.netns, ...command], { stdio: 'ignore', detached: true });
  child.unref();
  decoy.pid = child.pid;
  return decoy;
}

/** Waits until the decoy's port 22 is listening (or refused, for "nothing"). */
export function decoyListening(decoy: Decoy): boolean {
  const out = execFileSync('ip', ['netns', 'exec', decoy.netns, 'ss', '-Hltn', 'sport = :22'], { encoding: 'utf8' });
  return out.trim().length > 0;
}

export function removeDecoy(decoy: Decoy): void {
  for (const pid of execFileSync('sh', ['-c', `ip netns pids ${decoy.netns} 2>/dev/null || true`], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  execFileSync('sh', ['-c', `ip netns del ${decoy.netns} 2>/dev/null || true`]);
}
