import type { Context } from '../../context.js';
import { ExitCode, UsageError } from '../../errors.js';
import { printJson, printLines } from '../../io.js';
import { listStacks, removeStack, stackTasks } from '../../services/stack/manage-stacks.js';
import type { NodeSession } from '../../services/swarm/node-session.js';
import { formatTable } from '../../ui/table.js';
import { withCluster } from '../cluster-access.js';

/** Runs one piece of work on a manager of the inventory's swarm. */
const onManager = <T>(context: Context, work: (manager: NodeSession) => Promise<T>) => withCluster(context, (cluster) => work(cluster.manager));

export async function stackLsAction(context: Context): Promise<number> {
  const stacks = await onManager(context, listStacks);
  if (context.io.json) printJson(context.io, stacks);
  else printLines(context.io, stacks.length ? formatTable(['NAME', 'SERVICES'], stacks.map((s) => [s.name, String(s.services)])) : 'No stacks deployed.');
  return ExitCode.ok;
}

export async function stackPsAction(context: Context, flags: { args: string[] }): Promise<number> {
  const name = requireName(flags.args);
  const tasks = await onManager(context, (m) => stackTasks(m, name));
  if (context.io.json) printJson(context.io, tasks);
  else printLines(context.io, tasks.length ? formatTable(['TASK', 'NODE', 'DESIRED', 'CURRENT', 'ERROR'], tasks.map((t) => [t.name, t.node, t.desired, t.current, t.error ?? '-'])) : `Stack ${name} has no tasks.`);
  return ExitCode.ok;
}

export async function stackRmAction(context: Context, flags: { args: string[] }): Promise<number> {
  const name = requireName(flags.args);
  const removed = await onManager(context, (m) => removeStack(m, name));
  for (const what of removed) context.reporter.debug(`removed ${what}`);
  if (removed.length === 0) {
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
