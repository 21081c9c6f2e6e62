import { mkdir, readdir, readFile, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isProcessAlive } from '../../adapters/process.js';
import { shq } from '../../core/shell-quote.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, wait up to `graceMs`, then SIGKILL whatever is left. Resolves when all are gone. */
export async function terminate(pids: readonly number[], graceMs: number): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pids.some(isProcessAlive) && Date.now() < deadline) await sleep(100);
  if (pids.some(isProcessAlive)) {
    signal('SIGKILL');
    const hardDeadline = Date.now() + 5000;
    while (pids.some(isProcessAlive) && Date.now() < hardDeadline) await sleep(50);
  }
}

export async function readPidFile(file: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(file, 'utf8')).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

const CGROUP_ROOT = '/sys/fs/cgroup';

/**
 * Kills every process in the cgroup subtree `name` (a node's dockerd puts its containers there)
 * in every hierarchy, then removes the subtree. The safety net for containers dockerd left behind.
 */
export async function removeCgroupTree(name: string): Promise<void> {
  // A subtree of its own, never a hierarchy's root: that would signal every process on this machine.
  if (!/^\/?[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name) || /(^|\/)\.\.?$/.test(name)) throw new Error(`Refusing to remove the cgroup "${name}": not a lab node's own subtree.`);
  const hierarchies = [CGROUP_ROOT, ...(await listDirs(CGROUP_ROOT)).map((d) => join(CGROUP_ROOT, d))];
  for (const hierarchy of hierarchies) {
    const root = join(hierarchy, name);
    const dirs = await walk(root);
    if (dirs.length === 0) continue;
    for (let attempt = 0; attempt < 20; attempt++) {
      const pids = (await Promise.all(dirs.map(readProcs))).flat();
      if (pids.length === 0) break;
      await terminate(pids, 0);
    }
    // Deepest first: a cgroup can only be removed once its children are.
    for (const dir of dirs.reverse()) await rmdir(dir).catch(() => undefined);
  }
}

const CFS_PERIOD_US = 100_000;

/**
 * Makes the cgroup `name` (a lab node's own: its containers go there too) hold its processes to
 * `share` of one core, and returns the cgroup folders a process joins to be held and counted:
 * cgroup v2's one folder (cpu.max), or v1's cpu (the quota) and cpuacct (the count) folders.
 */
export async function limitCpu(name: string, share: number): Promise<string[]> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) throw new Error(`Refusing the cgroup name "${name}".`);
  const quota = Math.round(share * CFS_PERIOD_US);
  if (await exists(join(CGROUP_ROOT, 'cgroup.controllers'))) {
    await writeFile(join(CGROUP_ROOT, 'cgroup.subtree_control'), '+cpu').catch(() => undefined);
    const dir = join(CGROUP_ROOT, name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'cpu.max'), `${quota} ${CFS_PERIOD_US}`);
    return [dir];
  }
  const cpu = join(CGROUP_ROOT, 'cpu', name);
  const cpuacct = join(CGROUP_ROOT, 'cpuacct', name);
  await Promise.all([mkdir(cpu, { recursive: true }), mkdir(cpuacct, { recursive: true })]);
  await writeFile(join(cpu, 'cpu.cfs_period_us'), String(CFS_PERIOD_US));
  await writeFile(join(cpu, 'cpu.cfs_quota_us'), String(quota));
  return [cpu, cpuacct];
}

/**
 * The node's init (PID 1 of its namespaces) under its power script: the script's `unshare`, then
 * that one's child. Undefined while the node is between a reboot and its next boot.
 */
export async function nodeInitPid(anchorPid: number): Promise<number | undefined> {
  const children = async (pid: number) => (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')).split(' ').filter(Boolean).map(Number);
  const [unshare] = await children(anchorPid);
  return unshare ? (await children(unshare))[0] : undefined;
}

/**
 * This machine's pid of a node's process known by its pid in the node (what its pid files say):
 * the process in the node's network namespace whose innermost pid that is.
 */
export async function hostPidOf(netns: string, nodePid: number): Promise<number | undefined> {
  const inode = async (path: string) => (await stat(path).catch(() => undefined))?.ino;
  const wanted = await inode(`/run/netns/${netns}`);
  if (wanted === undefined) return undefined;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
    const nspid = /^NSpid:\s+(.+)$/m.exec(status)?.[1]?.trim().split(/\s+/);
    if (nspid && nspid.length > 1 && Number(nspid.at(-1)) === nodePid && (await inode(`/proc/${entry}/ns/net`)) === wanted) return Number(entry);
  }
  return undefined;
}

/** Shell lines that move the shell running them into these cgroups (a node's, so what it starts counts as the node's). */
export function joinCgroupLines(dirs: readonly string[]): string[] {
  return dirs.map((dir) => `echo $$ > ${shq(`${dir}/cgroup.procs`)}`);
}

/**
 * The cgroup folders of a lab node's own cgroups (those --cpu made) that `pid` is in: a process
 * that joins them is held and counted as the node's.
 */
export async function nodeCgroupDirs(pid: number): Promise<string[]> {
  const lines = (await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '')).split('\n');
  return lines.flatMap((line) => {
    const [, controllers, path] = line.split(':');
    if (!path?.startsWith('/piswarm-') || path.includes('..')) return [];
    if (controllers === '') return [join(CGROUP_ROOT, path)];
    const hierarchy = (controllers ?? '').split(',').find((c) => c === 'cpu' || c === 'cpuacct');
    return hierarchy ? [join(CGROUP_ROOT, hierarchy, path)] : [];
  });
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function listDirs(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}

async function walk(dir: string): Promise<string[]> {
  try {
    await readdir(dir);
  } catch {
    return [];
  }
  const children = await listDirs(dir);
  return [dir, ...(await Promise.all(children.map((c) => walk(join(dir, c))))).flat()];
}

async function readProcs(dir: string): Promise<number[]> {
  try {
    return (await readFile(join(dir, 'cgroup.procs'), 'utf8')).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
