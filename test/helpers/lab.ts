import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isProcessAlive } from '../../cli/adapters/process.js';

/** Test labs live apart from a user's own labs. */
export const TEST_LAB_ROOT = '/var/lib/piswarm/test-labs';
export const labEnv = { PISWARM_LAB_ROOT: TEST_LAB_ROOT };

/** This machine's pid of a lab node's daemon, from its pid file (which holds its pid in the node's PID namespace). */
export async function daemonHostPid(lab: string, node: string, pidFile: 'sshd.pid' | 'docker.pid'): Promise<number> {
  const { hostPidOf } = await import('../../cli/services/lab/processes.js');
  const inNode = Number(readFileSync(join(TEST_LAB_ROOT, lab, 'nodes', node, 'run', pidFile), 'utf8').trim());
  const pid = await hostPidOf(`${lab}-${node}`, inNode);
  if (!pid) throw new Error(`${node}'s ${pidFile} names ${inNode}, which no process of the node has`);
  return pid;
}

export function netnsPids(netns: string): number[] {
  try {
    return execFileSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Everything a lab could leave behind on this machine; empty when it is truly gone. */
export function labLeftovers(name: string, pids: readonly number[]): string[] {
  const found: string[] = [];
  const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (namespaces.includes(`${name}-`)) found.push(`network namespaces: ${namespaces.trim()}`);
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
  for (const line of links.split('\n')) if (line.includes(`${name}br0`) || line.includes(`${name}-v`)) found.push(`link: ${line}`);
  const rules = execFileSync('iptables', ['-w', '-S'], { encoding: 'utf8' });
  for (const line of rules.split('\n')) if (line.includes(`piswarm-lab:${name}`)) found.push(`iptables: ${line}`);
  for (const pid of pids) if (isProcessAlive(pid)) found.push(`process ${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')}`);
  const dir = join(TEST_LAB_ROOT, name);
  for (const proc of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${proc}/mountinfo`, 'utf8').includes(dir)) found.push(`mount under ${dir} seen by pid ${proc}`);
    } catch {
      // process ended while we looked
    }
  }
  for (const hierarchy of ['', ...readdirSync('/sys/fs/cgroup')]) {
    const base = join('/sys/fs/cgroup', hierarchy);
    try {
      for (const entry of readdirSync(base)) if (entry.startsWith(`piswarm-${name}-`)) found.push(`cgroup ${join(base, entry)}`);
    } catch {
      // not a directory
    }
  }
  if (existsSync(dir)) found.push(`files: ${dir}`);
  return found;
}

/**
 * Whether this machine's disk, which lab nodes keep Docker's data on, has room enough for doctor's
 * disk check to pass: true with 12 GB free or more, false under 8 GB, undefined between (the free
 * space of a shared machine moves while a test runs). Read with df, not with piswarm's own probe.
 */
export function hostDiskRoomy(): boolean | undefined {
  const line = execFileSync('df', ['-P', '-k', TEST_LAB_ROOT], { encoding: 'utf8' }).trim().split('\n')[1]!;
  const freeGb = Number(line.split(/\s+/)[3]) / 1024 / 1024;
  return freeGb >= 12 ? true : freeGb < 8 ? false : undefined;
}
