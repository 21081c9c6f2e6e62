import type { Context } from '../context.js';
import type { Inventory, InventoryNode } from '../core/inventory.js';
import { describeUpgradeStep, planUpgrade, type UpgradePlan } from '../core/upgrade-plan.js';
import { CancelledError, ExitCode, PiswarmError } from '../errors.js';
import { printJson, printLines } from '../io.js';
import { checkNodes } from '../services/doctor.js';
import { reopenSession, type Cluster } from '../services/swarm/cluster.js';
import { readSwarmNodes } from '../services/swarm/swarm-nodes.js';
import { actionKey, readUpgradeRecord, type UpgradeRecord } from '../services/swarm/upgrade-record.js';
import { DEFAULT_ACTION, DEFAULT_SCRIPT, managerFor, runUpgrade, type UpgradeOptions, type UpgradeState } from '../services/swarm/upgrade.js';
import { createPrompter } from '../ui/prompter.js';
import { formatTable } from '../ui/table.js';
import { clusterPorts, openInventoryCluster, registryPlatforms, swarmLock } from './cluster-access.js';
import { parseIntegerFlag } from './parse.js';

export interface UpgradeFlags {
  dryRun: boolean;
  run?: string;
  reboot: boolean;
  only?: string[];
  surge: boolean;
  timeout: string;
  bootTimeout: string;
}

export async function upgradeAction(context: Context, flags: UpgradeFlags): Promise<number> {
  const actionTimeoutMs = parseIntegerFlag('--timeout', flags.timeout, 1, 86_400) * 1000;
  const bootTimeoutMs = parseIntegerFlag('--boot-timeout', flags.bootTimeout, 10, 86_400) * 1000;
  const action = flags.run ?? DEFAULT_ACTION;
  const reboot = flags.reboot ? 'always' : 'when-needed';
  const inventory = await context.loadInventory();
  const only = (flags.only ?? []).map((ref) => inventory.requireNode(ref).hostname);
  const cluster = await openInventoryCluster(context, inventory);
  try {
    // The lock is renewed through a manager that is not the one being upgraded.
    const state: UpgradeState = {};
    const release = await swarmLock(context, () => managerFor(cluster.nodes, state));
    try {
      const { plan, record } = await planFor(context, cluster, action, reboot, only);
      const options: UpgradeOptions = { action, script: flags.run ?? DEFAULT_SCRIPT, reboot, surge: flags.surge, drainTimeoutMs: 300_000, actionTimeoutMs, bootTimeoutMs };
      if (flags.dryRun) {
        if (context.io.json) printJson(context.io, { dryRun: true, order: plan.order, skipped: plan.skipped, warnings: plan.warnings });
        else printLines(context.io, describePlan(plan, action, reboot));
        return ExitCode.ok;
      }
      if (plan.order.length === 0) {
        context.reporter.step(`Nothing to upgrade${plan.skipped.length ? `: ${plan.skipped.join(', ')} done already` : ''}`);
        return ExitCode.ok;
      }
      if (!context.io.json) context.io.stderr.write(`${describePlan(plan, action, reboot)}\n`);
      if (!(await createPrompter(context.io).confirm(`Upgrade ${plan.order.length} node(s), one at a time?`))) throw new CancelledError('Nothing was upgraded.', 'Run with --yes to go ahead without a question, or --dry-run to see the plan only.');
      // Nodes found at a new address after their reboot are saved, however the run ends.
      const done = await runUpgrade(cluster.nodes, inventory, plan, record, options, await upgradePorts(context, inventory), context.reporter, state).finally(() => context.saveInventory(inventory));
      if (context.io.json) printJson(context.io, { upgraded: done, skipped: plan.skipped });
      else {
        printLines(context.io, formatTable(['NODE', 'ROLE', 'DOCKER', 'REBOOTED', 'SECONDS'], done.map((d) => [d.node, d.role, d.docker.before === d.docker.after ? (d.docker.after ?? '-') : `${d.docker.before ?? '-'} → ${d.docker.after ?? '-'}`, d.rebooted ? 'yes' : 'no', d.seconds.toFixed(0)])));
        context.reporter.step(`Upgrade done: ${done.length} node(s), one at a time, every one active again`);
      }
      return ExitCode.ok;
    } finally {
      await release();
    }
  } finally {
    cluster.close();
  }
}

/** The plan, resuming an unfinished upgrade of the same action (its done nodes skipped). */
async function planFor(context: Context, cluster: Cluster, action: string, reboot: 'always' | 'when-needed', only: string[]): Promise<{ plan: UpgradePlan; record: UpgradeRecord }> {
  const [swarm, earlier] = await Promise.all([readSwarmNodes(cluster.manager), readUpgradeRecord(cluster.manager)]);
  const key = actionKey(action, reboot === 'always');
  const same = earlier?.action === key;
  // Another action starts afresh, but a leader the last run demoted, and the node it drained, are still finished.
  const record: UpgradeRecord = { action: key, done: same ? earlier.done : new Set(), current: earlier?.current, demoted: earlier?.demoted };
  if (earlier && !same) context.reporter.warn('An unfinished upgrade with another action (or --reboot) was found: this one starts afresh, every node included.');
  const plan = planUpgrade(swarm, { only, reboot, done: record.done, current: record.current, demoted: record.demoted });
  if (plan.refusal) throw new PiswarmError(plan.refusal.message, { hint: `Nothing was changed. ${plan.refusal.hint}` });
  for (const warning of plan.warnings) context.reporter.warn(warning);
  if (plan.skipped.length > 0) context.reporter.step(`Resuming: ${plan.skipped.join(', ')} upgraded by the run that stopped`);
  return { plan, record };
}

function describePlan(plan: UpgradePlan, action: string, reboot: 'always' | 'when-needed'): string {
  const lines = plan.order.flatMap((node, i) => [`${i + 1}. ${node.hostname} (${node.leader ? 'manager, leader' : node.role})`, ...node.steps.map((step) => `     ${describeUpgradeStep(step, node, action, reboot)}`)]);
  return [`Upgrade, one node at a time:`, ...lines].join('\n');
}

/** How the upgrade reaches nodes again after a reboot, and checks them as doctor does. */
async function upgradePorts(context: Context, inventory: Inventory) {
  const ports = await clusterPorts(context, inventory);
  return {
    reconnect: (node: InventoryNode) => reopenSession(inventory, node, ports),
    check: async (node: InventoryNode) => (await checkNodes(inventory, [node], ports))[0]!.checks,
    fetchPlatforms: registryPlatforms.fetchPlatforms,
  };
}
