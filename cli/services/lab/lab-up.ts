import type { CommandRunner } from '../../adapters/process.js';
import { isProcessAlive } from '../../adapters/process.js';
import { bootLogin, hypriotDefaults, type BootConfig } from '../../core/boot-config.js';
import { planLab, type LabPlan } from '../../core/lab-plan.js';
import { mapSettled } from '../../core/parallel.js';
import { ExitCode, PiswarmError } from '../../errors.js';
import type { Reporter } from '../../io.js';
import { assertSubnetFree, ensureArmEmulation, ensureBridge, netnsExists } from './lab-network.js';
import { repairNode, startNode, waitForNode } from './lab-node.js';
import { isRegistryUp, spawnRegistry, waitForRegistry } from './lab-registry.js';
import { labDir, readLabState, writeLabState, type LabState } from './lab-state.js';
import { labDown } from './lab-down.js';
import { assertRoot, ensurePackages } from './prerequisites.js';

export interface LabUpOptions {
  name: string;
  nodes: number;
  subnet: string;
  installPackages: boolean;
  readyTimeoutMs: number;
  /** Each node's share of one core (cgroup CPU quota on the node and its containers); unlimited when absent. */
  cpu?: number;
  /** What each node applies on first boot; HypriotOS defaults when absent (see `lab up --card`). */
  bootConfigs?: BootConfig[];
  /** Aborted on Ctrl-C: lab up stops between steps and undoes a lab it was creating. */
  signal?: AbortSignal;
}

/**
 * Brings a lab up, or repairs and grows an existing one: nodes already running are left alone.
 * A lab that did not exist before and fails half-way is taken down again, so nothing is left half made.
 */
export async function labUp(runner: CommandRunner, reporter: Reporter, options: LabUpOptions): Promise<LabPlan> {
  assertRoot('piswarm lab up');
  const plan = planLab({ ...options, hostnames: options.bootConfigs?.map((b) => b.hostname) });
  const previous = await readLabState(options.name);
  if (previous) assertCompatible(previous, plan);
  await ensurePackages(runner, reporter, options.installPackages);
  if (!previous) await assertSubnetFree(runner, plan);

  const state: LabState = previous ? { ...previous, plan } : { plan, createdAt: new Date().toISOString(), nodes: {}, ...(options.cpu ? { cpu: options.cpu } : {}) };
  try {
    await writeLabState(state);
    await bringUp(runner, reporter, state, options);
  } catch (error) {
    const cancelled = options.signal?.aborted === true;
    if (!previous) {
      reporter.warn(`Lab ${plan.name} ${cancelled ? 'interrupted' : 'failed to start'}; taking down what was made.`);
      await labDown(runner, reporter, { name: plan.name }).catch((e: Error) => reporter.warn(`Clean-up failed too: ${e.message}`));
    }
    if (cancelled) {
      throw new PiswarmError(`lab up was interrupted.`, {
        exitCode: ExitCode.cancelled,
        hint: previous ? 'Nodes already running were left running; `piswarm lab status` shows them.' : 'Nothing was left behind.',
      });
    }
    throw error;
  }
  return plan;
}

function assertCompatible(previous: LabState, plan: LabPlan): void {
  if (previous.plan.subnet !== plan.subnet) {
    throw new PiswarmError(`Lab ${plan.name} already runs on ${previous.plan.subnet}, not ${plan.subnet}.`, {
      hint: `Run \`piswarm lab down --name ${plan.name}\` first to move it.`,
    });
  }
  if (previous.plan.nodes.length > plan.nodes.length) {
    throw new PiswarmError(`Lab ${plan.name} has ${previous.plan.nodes.length} nodes; --nodes ${plan.nodes.length} would remove some.`, {
      hint: `Run \`piswarm lab down --name ${plan.name}\` first, or ask for --nodes ${previous.plan.nodes.length} or more.`,
    });
  }
}

async function bringUp(runner: CommandRunner, reporter: Reporter, state: LabState, options: LabUpOptions): Promise<void> {
  const { plan } = state;
  const { signal } = options;
  signal?.throwIfAborted();
  const arm = await ensureArmEmulation(runner);
  state.mountedBinfmt ||= arm.mounted;
  await writeLabState(state);
  reporter.step('ARM emulation enabled (qemu-user-static)');

  signal?.throwIfAborted();
  await ensureBridge(runner, plan);
  reporter.step(`Bridge ${plan.bridge} up at ${plan.gateway}/${plan.prefixLength}`);

  if (!(await isRegistryUp(plan, state.registryPid))) {
    // Recorded before waiting, so an interrupted lab up still lets lab down find it.
    state.registryPid = await spawnRegistry(runner, plan);
    await writeLabState(state);
    await waitForRegistry(plan, state.registryPid);
  }
  reporter.step(`Registry listening on ${plan.registry}`);

  const toStart = [];
  for (const node of plan.nodes) {
    const known = state.nodes[node.hostname];
    if (!known || !isProcessAlive(known.anchorPid) || !(await netnsExists(node.netns))) {
      toStart.push(node);
      continue;
    }
    const restarted = await repairNode(runner, plan, node, known.anchorPid);
    if (restarted.length > 0) reporter.step(`${node.hostname}: ${restarted.join(' and ')} had stopped; started again`);
    else reporter.debug(`${node.hostname} already running`);
  }
  for (const node of toStart) {
    signal?.throwIfAborted();
    const boot = options.bootConfigs?.[node.index - 1] ?? hypriotDefaults(node.hostname);
    const anchorPid = await startNode(runner, plan, node, boot, state.cpu);
    state.nodes[node.hostname] = { anchorPid, startedAt: new Date().toISOString(), login: bootLogin(boot) };
    await writeLabState(state);
  }

  const results = await mapSettled(plan.nodes, plan.nodes.length, async (node) => {
    await waitForNode(plan, node, state.nodes[node.hostname]!.anchorPid, options.readyTimeoutMs, signal);
    reporter.step(`${node.hostname} booted (${node.ip}, ${node.mac})`);
  });
  signal?.throwIfAborted();
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) {
    throw new PiswarmError(`${failed.length} of ${plan.nodes.length} lab nodes did not come up: ${failed.map((r) => (r.ok ? '' : r.error.message)).join('; ')}`, {
      hint: `Look at the node logs under ${labDir(plan.name)}/nodes/, then try again.`,
    });
  }
}
