import type { Context } from '../../context.js';
import { stackNameOf } from '../../core/compose-file.js';
import { ExitCode, UsageError } from '../../errors.js';
import { printJson } from '../../io.js';
import { readComposeInput, textToSend } from './compose-input.js';

export interface StackConfigFlags {
  args: string[];
  composeFile?: string[];
  name?: string;
}

/** Prints exactly what `stack deploy` would send to the manager, after every local check; touches no node. */
export async function stackConfigAction(context: Context, flags: StackConfigFlags): Promise<number> {
  const paths = [...flags.args, ...(flags.composeFile ?? [])];
  if (paths.length === 0) throw new UsageError('No compose file given.', 'Name one: piswarm stack config stacks/hello-world.yml (add -c OVERRIDE.yml to layer another).');
  const input = await readComposeInput(paths, process.env);
  const text = await textToSend(input, flags.name ?? stackNameOf(paths[0]!));
  for (const warning of input.stack.warnings) context.reporter.warn(warning);
  if (context.io.json) printJson(context.io, { text, services: input.stack.services, warnings: input.stack.warnings });
  else context.io.stdout.write(text);
  return ExitCode.ok;
}
