import { isProcessAlive, type CommandRunner } from '../../adapters/process.js';
import { PiswarmError } from '../../errors.js';
import { readLabState } from './lab-state.js';
import { assertRoot } from './prerequisites.js';

/** Runs a command inside a node's namespaces (its console), with the terminal attached. */
export async function labExec(runner: CommandRunner, options: { name: string; node: string; command: string[] }): Promise<number> {
  assertRoot('piswarm lab exec');
  const state = await readLabState(options.name);
  if (!state) throw new PiswarmError(`No lab named ${options.name} is running.`, { hint: 'Start one with `sudo piswarm lab up`.' });
  const node = state.nodes[options.node];
  if (!node || !isProcessAlive(node.anchorPid)) {
    throw new PiswarmError(`Lab node ${options.node} is not running.`, {
      hint: `Nodes: ${Object.keys(state.nodes).join(', ')}. \`sudo piswarm lab up\` restarts stopped ones.`,
    });
  }
  return runner.runAttached('nsenter', ['-t', String(node.anchorPid), '--net', '--mount', '--uts', '--', ...options.command]);
}
