import type { Context } from '../../context.js';
import { parseJsonLines } from '../../core/json-lines.js';
import { STACK_LS_SCRIPT, stackPsScript, stackRmScript } from '../../core/stack-scripts.js';
import { ExitCode, UsageError } from '../../errors.js';
import { printJson, printLines } from '../../io.js';
import type { NodeSession } from '../../services/swarm/node-session.js';
import { formatTable } from '../../ui/table.js';
import { withCluster } from '../cluster-access.js';

/** Runs one piece of work on a manager of the inventory's swarm. */
const onManager = <T>(context: Context, work: (manager: NodeSession) => Promise<T>) => withCluster(context, (cluster) => work(cluster.manager));

export async function stackLsAction(context: Context): Promise<number> {
  const stacks = parseJsonLines<Record<string, string>>((await onManager(context, (m) => m.run('list the stacks', STACK_LS_SCRIPT))).stdout);
  if (context.io.json) printJson(context.io, stacks.map((s) => ({ name: s.Name, services: Number(s.Services) })));
  else printLines(context.io, stacks.length ? formatTable(['NAME', 'SERVICES'], stacks.map((s) => [s.Name!, s.Services!])) : 'No stacks deployed.');
  return ExitCode.ok;
}

export async function stackPsAction(context: Context, flags: { args: string[] }): Promise<number> {
  const name = requireName(flags.args);
  const tasks = parseJsonLines<Record<string, string>>((await onManager(context, (m) => m.run(`list the tasks of ${name}`, stackPsScript(name)))).stdout);
  if (context.io.json) printJson(context.io, tasks.map((t) => ({ name: t.Name, node: t.Node, desired: t.DesiredState, current: t.CurrentState, error: t.Error || undefined, image: t.Image })));
  else printLines(context.io, tasks.length ? formatTable(['TASK', 'NODE', 'DESIRED', 'CURRENT', 'ERROR'], tasks.map((t) => [t.Name!, t.Node!, t.DesiredState!, t.CurrentState!, t.Error || '-'])) : `Stack ${name} has no tasks.`);
  return ExitCode.ok;
}

export async function stackRmAction(context: Context, flags: { args: string[] }): Promise<number> {
  const name = requireName(flags.args);
  const out = await onManager(context, (m) => m.run(`remove stack ${name}`, stackRmScript(name)));
  context.reporter.debug(out.stdout.trim());
  if (/Nothing found in stack/i.test(out.stdout + out.stderr)) {
    context.reporter.warn(`No stack named ${name}; nothing was removed.`);
    return ExitCode.failed;
  }
  if (context.io.json) printJson(context.io, { removed: name });
  else context.reporter.step(`Stack ${name} removed`);
  return ExitCode.ok;
}

function requireName(args: string[]): string {
  if (!args[0]) throw new UsageError('Which stack?', 'Name it: piswarm stack ps hello-world (piswarm stack ls lists them).');
  return args[0];
}
