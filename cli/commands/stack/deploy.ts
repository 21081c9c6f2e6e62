import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Context } from '../../context.js';
import { loadCompose, stackNameOf } from '../../core/compose-file.js';
import { ExitCode, UsageError } from '../../errors.js';
import { printJson, printLines } from '../../io.js';
import { deployStack } from '../../services/stack/deploy-stack.js';
import { convergenceProgress } from '../../ui/convergence-progress.js';
import { formatTable } from '../../ui/table.js';
import { registryPlatforms, withCluster } from '../cluster-access.js';
import { parseIntegerFlag } from '../parse.js';

export interface StackDeployFlags {
  args: string[];
  composeFile?: string[];
  name?: string;
  timeout: string;
  window: string;
  skipArchCheck: boolean;
}

const STACK_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export async function stackDeployAction(context: Context, flags: StackDeployFlags): Promise<number> {
  const paths = [...flags.args, ...(flags.composeFile ?? [])];
  if (paths.length === 0) throw new UsageError('No compose file given.', 'Name one: piswarm stack deploy stacks/hello-world.yml (add -c OVERRIDE.yml to layer another).');
  const timeoutMs = parseIntegerFlag('--timeout', flags.timeout, 1, 86_400) * 1000;
  const windowMs = parseIntegerFlag('--window', flags.window, 0, 600) * 1000;
  const name = flags.name ?? stackNameOf(paths[0]!);
  if (!STACK_NAME.test(name)) throw new UsageError(`"${name}" is not a stack name.`, 'Use lower-case letters, digits, "-" and "_" (--name).');
  return deployComposeFiles(context, { paths, name, timeoutMs, windowMs, skipArchCheck: flags.skipArchCheck, env: process.env });
}

export interface ComposeDeployRequest {
  paths: string[];
  name: string;
  timeoutMs: number;
  windowMs: number;
  skipArchCheck: boolean;
  /** Where the files' ${VARIABLES} come from. */
  env: NodeJS.ProcessEnv;
}

/** Checks, deploys and follows compose files to convergence, printing the result. */
export async function deployComposeFiles(context: Context, request: ComposeDeployRequest): Promise<number> {
  const { paths, name, timeoutMs, windowMs } = request;
  const files = await Promise.all(
    paths.map(async (path) => ({
      path,
      text: await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new UsageError(`Can't read the compose file ${path} (${error.code}).`, 'Check the path.');
      }),
    })),
  );
  // Validated before any connection: a broken file reaches no node.
  const stack = loadCompose(files, request.env);

  return withCluster(context, async (cluster) => {
    for (const down of cluster.unreachable) context.reporter.warn(`${down.node} is unreachable (${down.error}); its events are not watched.`);
    const ports = {
      ...registryPlatforms,
      // Relative to the first compose file, as Docker resolves them.
      readFile: (file: string) =>
        readFile(resolve(dirname(paths[0]!), file), 'utf8').catch((error: NodeJS.ErrnoException) => {
          throw new UsageError(`Can't read ${file}, which ${paths[0]} names for a secret or config (${error.code}).`, 'Create the file, or fix the path (relative to the compose file).');
        }),
    };
    const result = await deployStack(cluster.manager, cluster.nodes, stack, { name, timeoutMs, windowMs, failLimit: 3, skipArchCheck: request.skipArchCheck }, ports, {
      warn: (message) => context.reporter.warn(message),
      deployed: (output) => context.reporter.debug(output),
      progress: convergenceProgress(context.io, 'up for the whole window'),
    });
    if (context.io.json) printJson(context.io, result);
    else {
      printLines(context.io, formatTable(['SERVICE', 'MODE', 'RUNNING'], result.services.map((s) => [s.name, stack.services.find((c) => c.name === s.name)?.mode ?? '-', `${s.desired === s.completed && s.completed > 0 ? `${s.completed} completed` : `${s.stable}/${s.desired}`}`])));
      const window = stack.services.some((s) => !s.mode.endsWith('job')) ? ` (every task up for ${windowMs / 1000} s)` : '';
      context.reporter.step(`Stack ${name} converged in ${result.seconds.toFixed(1)} s${window}`);
    }
    return ExitCode.ok;
  });
}
