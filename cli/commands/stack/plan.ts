import type { Context } from '../../context.js';
import { stackNameOf } from '../../core/compose-file.js';
import { ExitCode, UsageError } from '../../errors.js';
import { printJson, printLines } from '../../io.js';
import { planDeploy, type DeployPlan } from '../../services/stack/plan-stack.js';
import { formatTable } from '../../ui/table.js';
import { registryPlatforms, withCluster } from '../cluster-access.js';
import { readComposeInput } from './compose-input.js';

export interface PlanRequest {
  paths: string[];
  name: string;
  env: NodeJS.ProcessEnv;
  prune: boolean;
  skipArchCheck: boolean;
}

/** `stack deploy --dry-run` (the whole plan) and `stack diff` (only what would change): every check, nothing changed. */
export async function planComposeFiles(context: Context, request: PlanRequest, changesOnly: boolean): Promise<number> {
  const input = await readComposeInput(request.paths, request.env);
  for (const warning of input.stack.warnings) context.reporter.warn(warning);
  return withCluster(context, async (cluster) => {
    const plan = await planDeploy(cluster.manager, input.stack, request.name, { prune: request.prune, skipArchCheck: request.skipArchCheck }, { ...registryPlatforms, readFile: input.readObject });
    for (const warning of plan.warnings) context.reporter.warn(warning);
    if (context.io.json) printJson(context.io, plan);
    else printLines(context.io, formatPlan(plan, changesOnly));
    if (!changesOnly) context.reporter.step(`Nothing was changed (--dry-run): piswarm stack deploy without it does the above${plan.missing.length ? ', once the missing objects exist' : ''}`);
    return plan.missing.length > 0 ? ExitCode.failed : ExitCode.ok;
  });
}

export function formatPlan(plan: DeployPlan, changesOnly: boolean): string {
  const shown = changesOnly ? plan.services.filter((s) => s.action !== 'unchanged' && s.action !== 'keep') : plan.services;
  const rows = shown.flatMap((s) => (s.changes.length === 0 ? [[s.name, s.action, describe(s.action)]] : s.changes.map((change, i) => (i === 0 ? [s.name, s.action, change] : ['', '', change]))));
  const lines = rows.length > 0 ? [formatTable(['SERVICE', 'ACTION', 'WHAT'], rows)] : [`Stack ${plan.stack}: no service would change.`];
  const objects = plan.objects.filter((o) => o.create || !changesOnly);
  if (objects.length > 0) lines.push('', formatTable(['OBJECT', 'FROM', 'ACTION'], objects.map((o) => [`${o.kind} ${o.name}`, o.key, o.create ? 'create' : 'exists (same content)'])));
  if (!changesOnly && plan.images.length > 0) lines.push('', formatTable(['IMAGE', 'ARCHITECTURES'], plan.images.map((i) => [i.image, i.verdict])));
  if (plan.missing.length > 0) lines.push('', `Missing in the swarm (external: true): ${plan.missing.join(', ')}. A deploy would stop on it.`);
  return lines.join('\n');
}

function describe(action: string): string {
  return { create: 'new service', remove: 'not in the file (--prune)', keep: 'not in the file; left running (--prune removes it)', unchanged: 'no change' }[action] ?? '';
}

export interface StackDiffFlags {
  args: string[];
  composeFile?: string[];
  name?: string;
  prune: boolean;
}

export async function stackDiffAction(context: Context, flags: StackDiffFlags): Promise<number> {
  const paths = [...flags.args, ...(flags.composeFile ?? [])];
  if (paths.length === 0) throw new UsageError('No compose file given.', 'Name one: piswarm stack diff stacks/hello-world.yml');
  return planComposeFiles(context, { paths, name: flags.name ?? stackNameOf(paths[0]!), env: process.env, prune: flags.prune, skipArchCheck: true }, true);
}
