import type { Context } from '../../context.js';
import { labExec } from '../../services/lab/lab-exec.js';

export async function labExecAction(context: Context, flags: { name: string; args: string[] }): Promise<number> {
  const [node, ...command] = flags.args;
  return labExec(context.runner, { name: flags.name, node: node!, command });
}
