import { mkdir, writeFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import { isProcessAlive, type CommandRunner } from '../../adapters/process.js';
import { pingDocker } from '../../adapters/probe.js';
import { createSshProber } from '../../adapters/tcp-probe.js';
import type { BootConfig } from '../../core/boot-config.js';
import { daemonCommands, renderBootScript, renderPowerScript } from '../../core/lab-boot-script.js';
import type { LabNodePlan, LabPlan } from '../../core/lab-plan.js';
import { netnsExists } from './lab-network.js';
import { nodeDir } from './lab-state.js';
import { hostPidOf, joinCgroupLines, limitCpu, nodeCgroupDirs, nodeInitPid, readPidFile, removeCgroupTree, terminate } from './processes.js';

/** Containers of a node's dockerd live under this cgroup, so down can find every one of them. */
export function cgroupParent(plan: LabPlan, node: LabNodePlan): string {
  return `/piswarm-${plan.name}-${node.hostname}`;
}

export function dockerSocket(plan: LabPlan, node: LabNodePlan): string {
  return join(nodeDir(plan.name, node.hostname), 'run', 'docker.sock');
}

/**
 * Boots one simulated Pi: its folder (a copy of /etc the first time, so it keeps its identity
 * across restarts like a real card), its network namespace on the bridge, then its init script.
 * Returns the pid of the node's anchor process (its power script, which outlives a reboot).
 */
export async function startNode(runner: CommandRunner, plan: LabPlan, node: LabNodePlan, boot: BootConfig, cpu?: number): Promise<number> {
  const dir = nodeDir(plan.name, node.hostname);
  await Promise.all(['run', 'docker', 'home'].map((d) => mkdir(join(dir, d), { recursive: true })));
  if (!(await exists(join(dir, 'etc')))) await runner.run('cp', ['-a', '/etc', join(dir, 'etc')]);
  if (!(await exists(join(dir, 'boot')))) await writeCardFiles(join(dir, 'boot'), boot);
  // The mount points must exist on the host for the node's bind mounts.
  await Promise.all(['/var/lib/docker', '/boot'].map((d) => mkdir(d, { recursive: true })));

  await removeNetns(runner, node);
  await runner.run('ip', ['netns', 'add', node.netns]);
  await runner.run('ip', ['link', 'add', node.hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'address', node.mac, 'netns', node.netns]);
  await runner.run('ip', ['link', 'set', node.hostVeth, 'master', plan.bridge, 'up']);
  const inNs = (...args: string[]) => runner.run('ip', ['-n', node.netns, ...args]);
  await inNs('addr', 'add', `${node.ip}/${plan.prefixLength}`, 'dev', 'eth0');
  await inNs('link', 'set', 'eth0', 'up');
  await inNs('link', 'set', 'lo', 'up');
  await inNs('route', 'add', 'default', 'via', plan.gateway);

  // With --cpu, the node (its init, so everything it starts) joins its containers' cgroup, held to that share.
  const cpuCgroups = cpu ? await limitCpu(cgroupParent(plan, node).slice(1), cpu) : [];
  const script = join(dir, 'boot.sh');
  await writeFile(script, renderBootScript(boot, { nodeDir: dir, cpuCgroups }, { insecureRegistry: plan.registry, cgroupParent: cgroupParent(plan, node) }), { mode: 0o700 });
  const power = join(dir, 'power.sh');
  await writeFile(power, renderPowerScript(script), { mode: 0o700 });
  // nsenter rather than `ip netns exec`: the latter remounts /sys, hiding the cgroup mounts dockerd needs.
  return runner.spawnDetached('nsenter', [`--net=/run/netns/${node.netns}`, 'sh', power], join(dir, 'boot.log'));
}

/**
 * The node's /boot: its card's first-boot files, as a Pi sees its FAT boot partition (every file
 * readable by every user). Written once, like a card, so what bootstrap changes there stays.
 */
async function writeCardFiles(bootDir: string, boot: BootConfig): Promise<void> {
  await mkdir(bootDir, { mode: 0o755 });
  for (const [name, content] of Object.entries(boot.cardFiles)) await writeFile(join(bootDir, name), content, { mode: 0o755 });
}

export interface NodeHealth {
  sshd: 'running' | 'down';
  /** 'unknown' when this user may not open the node's Docker socket (not root, not in group docker). */
  dockerd: 'running' | 'down' | 'unknown';
  sshBanner?: string;
}

export async function probeNode(plan: LabPlan, node: LabNodePlan): Promise<NodeHealth> {
  const [ssh, dockerd] = await Promise.all([createSshProber(22, 1500)(node.ip), pingDocker(dockerSocket(plan, node), 1500)]);
  return { sshd: ssh.banner ? 'running' : 'down', dockerd, sshBanner: ssh.banner };
}

/**
 * Stops a node for good. Its containers are killed first (the node is being destroyed, so
 * dockerd's graceful 10 s stop per container buys nothing), then dockerd, then everything else.
 */
export async function stopNode(runner: CommandRunner, plan: LabPlan, node: LabNodePlan, anchorPid?: number): Promise<void> {
  const containers = cgroupParent(plan, node).slice(1);
  await removeCgroupTree(containers);
  // Its pid file names dockerd by its pid in the node's own PID namespace.
  const inNode = await readPidFile(join(nodeDir(plan.name, node.hostname), 'run', 'docker.pid'));
  const dockerd = inNode && (await hostPidOf(node.netns, inNode));
  // A swarm member's dockerd takes ~15 s to leave Raft politely; its data is deleted next anyway.
  if (dockerd) await terminate([dockerd], 1000);
  await removeNetns(runner, node);
  if (anchorPid) await terminate([anchorPid], 2000);
  await removeCgroupTree(containers);
}

/**
 * Starts again whichever of a running node's sshd and dockerd stopped answering, inside the node
 * (as a Pi's systemd restarts a daemon that died). Returns the daemons restarted.
 */
export async function repairNode(runner: CommandRunner, plan: LabPlan, node: LabNodePlan, anchorPid: number): Promise<string[]> {
  const health = await probeNode(plan, node);
  const dead = (['sshd', 'dockerd'] as const).filter((daemon) => health[daemon] === 'down');
  const init = await nodeInitPid(anchorPid);
  // Between a reboot and its boot script's end there is nothing to repair: the boot starts both.
  if (dead.length === 0 || !init) return [];
  const commands = daemonCommands(nodeDir(plan.name, node.hostname), { insecureRegistry: plan.registry, cgroupParent: cgroupParent(plan, node) });
  const script = [...joinCgroupLines(await nodeCgroupDirs(init)), ...dead.map((d) => commands[d])].join('\n');
  await runner.run('nsenter', ['-t', String(init), '--net', '--mount', '--uts', '--pid', '--', 'sh', '-c', script]);
  return dead;
}

/** Powers a node off: its init ends, and every process of the node with it; its disk (its folder) stays. */
export async function powerOffNode(anchorPid: number): Promise<void> {
  const init = await nodeInitPid(anchorPid);
  if (init) await terminate([init], 5000);
  await terminate([anchorPid], 2000);
}

/** A node that is still booting forks while it is being stopped: look again this many times. */
const KILL_ROUNDS = 5;

/**
 * Kills whatever runs in the node's network namespace, again until nothing does (a booting node
 * may fork dockerd or sshd after the first look), then deletes it and the veth. The veth goes
 * explicitly: an orphaned TCP connection (to a peer whose address changed) keeps a deleted
 * namespace, and its end of the veth, alive for minutes.
 */
async function removeNetns(runner: CommandRunner, node: LabNodePlan): Promise<void> {
  await runner.run('ip', ['link', 'del', node.hostVeth], { allowFailure: true });
  if (!(await netnsExists(node.netns))) return;
  const pidsIn = async () => (await runner.run('ip', ['netns', 'pids', node.netns], { allowFailure: true })).stdout.split('\n').filter(Boolean).map(Number);
  for (let round = 0, pids = await pidsIn(); pids.length > 0 && round < KILL_ROUNDS; round++, pids = await pidsIn()) {
    await terminate(pids, 5000);
  }
  await runner.run('ip', ['netns', 'del', node.netns]);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Waits until the node's sshd and dockerd answer; fails early when its power script is gone. */
export async function waitForNode(plan: LabPlan, node: LabNodePlan, bootPid: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let health = await probeNode(plan, node);
  while (health.sshd !== 'running' || health.dockerd !== 'running') {
    signal?.throwIfAborted();
    // The boot script lives on as the node's anchor; if it is gone, the node will never come up.
    if (!isProcessAlive(bootPid)) {
      const dir = nodeDir(plan.name, node.hostname);
      throw new Error(`${node.hostname}: its boot script stopped (see ${dir}/boot.log, sshd.log and dockerd.log)`);
    }
    if (Date.now() > deadline) {
      const down = [health.sshd !== 'running' && 'sshd', health.dockerd !== 'running' && 'dockerd'].filter(Boolean).join(' and ');
      throw new Error(`${node.hostname}: ${down} not answering after ${timeoutMs / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 300));
    health = await probeNode(plan, node);
  }
}
