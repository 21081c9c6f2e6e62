import type { Context } from '../../context.js';
import { printJson } from '../../io.js';
import { labDown } from '../../services/lab/lab-down.js';

export async function labDownAction(context: Context, flags: { name: string }): Promise<number> {
  const { removed } = await labDown(context.runner, context.reporter, { name: flags.name });
  if (!removed) context.reporter.step(`No lab named ${flags.name}; nothing to do`);
  if (context.io.json) printJson(context.io, { name: flags.name, removed });
  return 0;
}
