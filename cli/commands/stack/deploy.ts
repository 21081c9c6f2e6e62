import type { Context } from '../../context.js';
import { stackNameOf } from '../../core/compose-file.js';
import { ExitCode, UsageError } from '../../errors.js';
import { printJson, printLines } from '../../io.js';
import { deployStack } from '../../services/stack/deploy-stack.js';
import type { Cluster } from '../../services/swarm/cluster.js';
import { convergenceProgress } from '../../ui/convergence-progress.js';
import { formatTable } from '../../ui/table.js';
import { registryPlatforms, withCluster } from '../cluster-access.js';
import { parseIntegerFlag } from '../parse.js';
import { StepJournal } from '../step-journal.js';
import { readComposeInput } from './compose-input.js';
import { planComposeFiles } from './plan.js';

export interface StackDeployFlags {
  args: string[];
  composeFile?: string[];
  name?: string;
  timeout: string;
  window: string;
  skipArchCheck: boolean;
  dryRun: boolean;
  prune: boolean;
}

const STACK_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export async function stackDeployAction(context: Context, flags: StackDeployFlags): Promise<number> {
  const paths = [...flags.args, ...(flags.composeFile ?? [])];
  if (paths.length === 0) throw new UsageError('No compose file given.', 'Name one: piswarm stack deploy stacks/hello-world.yml (add -c OVERRIDE.yml to layer another).');
  const timeoutMs = parseIntegerFlag('--timeout', flags.timeout, 1, 86_400) * 1000;
  const windowMs = parseIntegerFlag('--window', flags.window, 0, 600) * 1000;
  const name = flags.name ?? stackNameOf(paths[0]!);
  if (!STACK_NAME.test(name)) throw new UsageError(`"${name}" is not a stack name.`, 'Use lower-case letters, digits, "-" and "_" (--name).');
  if (flags.dryRun) return planComposeFiles(context, { paths, name, env: process.env, prune: flags.prune, skipArchCheck: flags.skipArchCheck }, false);
  const finish = ['stack', 'deploy', ...paths.flatMap((p, i) => (i === 0 ? [p] : ['-c', p])), ...(flags.name ? ['--name', name] : []), ...(flags.prune ? ['--prune'] : [])];
  return deployComposeFiles(context, { paths, name, timeoutMs, windowMs, skipArchCheck: flags.skipArchCheck, prune: flags.prune, env: process.env, finish });
}

export interface ComposeDeployRequest {
  paths: string[];
  name: string;
  timeoutMs: number;
  windowMs: number;
  skipArchCheck: boolean;
  /** Remove the stack's services the files no longer have. */
  prune?: boolean;
  /** Where the files' ${VARIABLES} come from. */
  env: NodeJS.ProcessEnv;
  /** The command that deploys them again (what a lost connection's message offers to finish). */
  finish: string[];
}

/** Checks, deploys and follows compose files to convergence, printing the result; through `open` when the caller has the cluster open. */
export async function deployComposeFiles(context: Context, request: ComposeDeployRequest, open?: Cluster): Promise<number> {
  const { paths, name, timeoutMs, windowMs } = request;
  // Validated before any connection: a broken file reaches no node.
  const { stack, readObject, sourceOf } = await readComposeInput(paths, request.env);
  for (const warning of stack.warnings) context.reporter.warn(warning);

  const deploy = async (cluster: Cluster) => {
    for (const down of cluster.unreachable) context.reporter.warn(`${down.node} is unreachable (${down.error}); its events are not watched.`);
    const ports = { ...registryPlatforms, readFile: readObject, sourceOf };
    const journal = new StepJournal();
    const result = await journal.guard(request.finish, () =>
      deployStack(cluster.manager, cluster.nodes, stack, { name, timeoutMs, windowMs, failLimit: 3, skipArchCheck: request.skipArchCheck, prune: request.prune ?? false }, ports, {
        warn: (message) => context.reporter.warn(message),
        step: (message) => {
          journal.note(message);
          context.reporter.debug(message);
        },
        deployed: (output) => context.reporter.debug(output),
        progress: convergenceProgress(context.io, 'up for the whole window'),
      }),
    );
    if (context.io.json) printJson(context.io, result);
    else {
      printLines(context.io, formatTable(['SERVICE', 'MODE', 'RUNNING'], result.services.map((s) => [s.name, stack.services.find((c) => c.name === s.name)?.mode ?? '-', `${s.desired === s.completed && s.completed > 0 ? `${s.completed} completed` : `${s.stable}/${s.desired}`}`])));
      const window = stack.services.some((s) => !s.mode.endsWith('job')) ? ` (every task up for ${windowMs / 1000} s)` : '';
      context.reporter.step(`Stack ${name} converged in ${result.seconds.toFixed(1)} s${window}`);
    }
    return ExitCode.ok;
  };
  return open ? deploy(open) : withCluster(context, deploy);
}
