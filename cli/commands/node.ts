import type { Context } from '../context.js';
import type { DrainPlan, DrainProgress } from '../core/drain-plan.js';
import type { Inventory } from '../core/inventory.js';
import { findSwarmNode, inventoryNodeFor, nodeRows, tasksPerNode } from '../core/node-table.js';
import type { SwarmNodeView } from '../core/placement.js';
import { describeStep, planRemoval, type RemovalStep } from '../core/removal-plan.js';
import { CancelledError, ExitCode, PiswarmError, UsageError } from '../errors.js';
import { printJson, printLines } from '../io.js';
import type { Cluster } from '../services/swarm/cluster.js';
import { activateNode, drainNode, type NodeOpEvents } from '../services/swarm/drain-node.js';
import { demoteNode, promoteNode } from '../services/swarm/node-roles.js';
import type { NodeSession } from '../services/swarm/node-session.js';
import { removeNode } from '../services/swarm/remove-node.js';
import { readServices } from '../services/swarm/service-state.js';
import { readSwarmNodes } from '../services/swarm/swarm-nodes.js';
import { createPrompter } from '../ui/prompter.js';
import { formatTable } from '../ui/table.js';
import { registryPlatforms, withCluster } from './cluster-access.js';
import { parseIntegerFlag } from './parse.js';
import { StepJournal } from './step-journal.js';

export async function nodeLsAction(context: Context): Promise<number> {
  return withCluster(context, async (cluster, inventory) => {
    const [swarm, { tasks }] = await Promise.all([readSwarmNodes(cluster.manager), readServices(cluster.manager, 'all', true)]);
    const { rows, warnings } = nodeRows(swarm, inventory.nodes(), tasksPerNode(tasks));
    if (context.io.json) printJson(context.io, rows);
    else {
      printLines(
        context.io,
        formatTable(
          ['HOSTNAME', 'ROLE', 'STATUS', 'AVAILABILITY', 'ARCH', 'ENGINE', 'TASKS', 'IP', 'MAC'],
          rows.map((r) => [r.hostname, r.leader ? 'manager (leader)' : r.role, r.status, r.availability, r.arch, r.engine ?? '-', String(r.tasks), r.ip ?? '-', r.mac ?? '-']),
        ),
      );
    }
    for (const warning of warnings) context.reporter.warn(warning);
    for (const down of cluster.unreachable) context.reporter.warn(`${down.node} did not answer over SSH: ${down.error}`);
    return ExitCode.ok;
  });
}

interface NodeFlags {
  args: string[];
}

export interface DrainFlags extends NodeFlags {
  force: boolean;
  surge: boolean;
  timeout: string;
  dryRun: boolean;
}

export async function nodeDrainAction(context: Context, flags: DrainFlags): Promise<number> {
  const timeoutMs = parseIntegerFlag('--timeout', flags.timeout, 1, 86_400) * 1000;
  return withNode(context, flags, async ({ cluster, target }) => {
    const journal = new StepJournal();
    const finish = ['node', 'drain', target.hostname, ...(flags.surge ? ['--surge'] : []), ...(flags.force ? ['--force'] : [])];
    const result = await journal.guard(finish, () => drainNode(cluster.manager, cluster.nodes, target, { force: flags.force, surge: flags.surge, timeoutMs, dryRun: flags.dryRun }, registryPlatforms, opEvents(context, journal)));
    if (context.io.json) printJson(context.io, { node: target.hostname, dryRun: flags.dryRun, ...result });
    else if (flags.dryRun) printLines(context.io, describeDrainPlan(result.plan, result.surged));
    else context.reporter.step(`${target.hostname} drained in ${result.seconds.toFixed(1)} s: ${result.plan.moves.length ? `its tasks run on ${[...new Set(result.plan.moves.flatMap((m) => m.to))].join(', ')}` : 'it had no replicated tasks'}`);
    return ExitCode.ok;
  });
}

export async function nodeActivateAction(context: Context, flags: NodeFlags): Promise<number> {
  return withNode(context, flags, async ({ cluster, target }) => {
    const changed = await activateNode(cluster.manager, target);
    if (context.io.json) printJson(context.io, { node: target.hostname, availability: 'active', changed });
    else {
      context.reporter.step(changed ? `${target.hostname} is active: new tasks may run on it` : `${target.hostname} was already active`);
      context.reporter.warn(`Running tasks do not move back by themselves; \`docker service update --force NAME\` on a manager spreads a service again.`);
    }
    return ExitCode.ok;
  });
}

export async function nodePromoteAction(context: Context, flags: NodeFlags): Promise<number> {
  return changeRole(context, flags, 'manager');
}

export async function nodeDemoteAction(context: Context, flags: NodeFlags): Promise<number> {
  return changeRole(context, flags, 'worker');
}

async function changeRole(context: Context, flags: NodeFlags, role: 'manager' | 'worker'): Promise<number> {
  return withNode(context, flags, async ({ cluster, inventory, target }) => {
    const changed = role === 'manager' ? await promoteNode(cluster.manager, target, opEvents(context)) : await demoteNode(otherManager(cluster, target), target, opEvents(context));
    const known = inventoryNodeFor(target, inventory.nodes());
    if (changed && known) {
      inventory.upsertNode(known.mac, { role });
      await context.saveInventory(inventory);
    }
    if (context.io.json) printJson(context.io, { node: target.hostname, role, changed });
    else context.reporter.step(changed ? `${target.hostname} is a ${role} now` : `${target.hostname} already was a ${role}`);
    return ExitCode.ok;
  });
}

export interface RmFlags extends NodeFlags {
  force: boolean;
  dryRun: boolean;
  timeout: string;
}

export async function nodeRmAction(context: Context, flags: RmFlags): Promise<number> {
  const timeoutMs = parseIntegerFlag('--timeout', flags.timeout, 1, 86_400) * 1000;
  return withNode(context, flags, async ({ cluster, inventory, swarm, target }) => {
    const own = cluster.nodes.find((s) => s.swarmNodeId === target.id);
    const plan = planRemoval(target, swarm, { sshReachable: Boolean(own), force: flags.force });
    if (plan.refusal) throw new PiswarmError(plan.refusal.message, { hint: plan.refusal.hint });
    for (const warning of plan.warnings) context.reporter.warn(warning);
    if (flags.dryRun) {
      if (context.io.json) printJson(context.io, { node: target.hostname, dryRun: true, steps: plan.steps, warnings: plan.warnings });
      else printLines(context.io, [`To remove ${target.hostname}, piswarm would:`, ...plan.steps.map((s, i) => `  ${i + 1}. ${describeStep(s)}`)].join('\n'));
      return ExitCode.ok;
    }
    if (!context.io.json) context.io.stderr.write(`To remove ${target.hostname}:\n${plan.steps.map((s, i) => `  ${i + 1}. ${describeStep(s)}`).join('\n')}\n`);
    const down = own ? '' : ` It is ${target.state} in the swarm and did not answer over SSH (${cluster.unreachable.find((u) => u.node === inventoryNodeFor(target, inventory.nodes())?.hostname)?.error ?? 'not in the inventory'}).`;
    if (!(await createPrompter(context.io).confirm(`Remove ${target.hostname} from the swarm?${down}`))) {
      throw new CancelledError(`Removal of ${target.hostname} cancelled; nothing was changed.`, 'Run it with --yes to skip the question (for scripts).');
    }
    const done: RemovalStep[] = [];
    const journal = new StepJournal();
    try {
      await journal.guard(['node', 'rm', target.hostname, ...(flags.force ? ['--force'] : [])], () =>
        removeNode({ manager: otherManager(cluster, target), nodes: cluster.nodes, ...(own ? { own } : {}) }, target, plan, { timeoutMs }, registryPlatforms, { ...opEvents(context, journal), done: (step) => done.push(step) }),
      );
    } finally {
      recordSteps(inventory, swarm, done);
      if (done.length > 0) await context.saveInventory(inventory);
    }
    if (context.io.json) printJson(context.io, { node: target.hostname, removed: true, steps: plan.steps });
    else context.reporter.step(`${target.hostname} is out of the swarm; it stays in ${inventory.file} (piswarm bootstrap --only ${target.hostname} joins it again)`);
    return ExitCode.ok;
  });
}

/** Role changes and the removal, in the inventory, so a later bootstrap does not undo them. */
function recordSteps(inventory: Inventory, swarm: readonly SwarmNodeView[], steps: readonly RemovalStep[]): void {
  for (const step of steps) {
    const node = swarm.find((n) => n.hostname === step.node);
    const known = node && inventoryNodeFor(node, inventory.nodes());
    if (!known) continue;
    if (step.kind === 'promote') inventory.upsertNode(known.mac, { role: 'manager' });
    if (step.kind === 'demote') inventory.upsertNode(known.mac, { role: 'worker' });
    if (step.kind === 'remove') inventory.leaveSwarm(known.mac);
  }
}

/** Runs `work` on the swarm node the command names, with the cluster open. */
function withNode<T>(context: Context, flags: NodeFlags, work: (access: { cluster: Cluster; inventory: Inventory; swarm: SwarmNodeView[]; target: SwarmNodeView }) => Promise<T>): Promise<T> {
  const ref = flags.args[0];
  if (!ref) throw new UsageError('Which node?', 'Name it by hostname, IP or MAC: piswarm node drain worker-01 (piswarm node ls lists them).');
  return withCluster(context, async (cluster, inventory) => {
    const swarm = await readSwarmNodes(cluster.manager);
    return work({ cluster, inventory, swarm, target: findSwarmNode(swarm, inventory.nodes(), ref) });
  });
}

/**
 * A reachable manager other than `target` (a node being demoted or removed cannot do it itself);
 * the cluster's manager when there is none, for the quorum checks to refuse with their reasons.
 */
export function otherManager(cluster: Cluster, target: SwarmNodeView): NodeSession {
  return cluster.nodes.find((s) => s.facts.swarm.state === 'manager' && s.swarmNodeId !== target.id) ?? cluster.manager;
}

/** Steps as ✓ lines (JSON events with --json), drain progress as a line whenever it changes. */
export function opEvents(context: Context, journal?: StepJournal): NodeOpEvents {
  let shown = '';
  const json = (event: object) => context.io.stderr.write(`${JSON.stringify(event)}\n`);
  return {
    step: (message) => {
      journal?.note(message);
      if (context.io.json) json({ event: 'step', message });
      else context.reporter.step(message);
    },
    warn: (message) => context.reporter.warn(message),
    progress: (state: DrainProgress) => {
      const line = state.services.map((s) => `${s.name} ${s.runningElsewhere}/${s.expected} elsewhere${s.leftOnNode ? `, ${s.leftOnNode} still on the node` : ''}`).join('; ');
      if (line === shown) return;
      shown = line;
      if (context.io.json) json({ event: 'progress', services: state.services });
      else context.io.stderr.write(`· ${line}\n`);
    },
  };
}

function describeDrainPlan(plan: DrainPlan, surged: readonly string[]): string {
  const lines = [`Draining ${plan.node} would:`];
  if (surged.length) lines.push(`  pause it and scale ${surged.join(', ')} up first, and back after`);
  for (const m of plan.moves) lines.push(`  move ${m.tasks} task(s) of ${m.service} to ${m.to.join(', ')}`);
  for (const b of plan.blocked) lines.push(`  leave ${b.tasks} task(s) of ${b.service} pending: ${b.reason}`);
  if (plan.moves.length + plan.blocked.length === 0) lines.push('  move nothing: it runs no replicated task');
  return lines.join('\n');
}
