import { isProcessAlive, type CommandRunner } from '../../adapters/process.js';
import { PiswarmError } from '../../errors.js';
import { readLabState } from './lab-state.js';
import { joinCgroupLines, nodeCgroupDirs, nodeInitPid } from './processes.js';
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
  const init = await nodeInitPid(node.anchorPid);
  if (!init) throw new PiswarmError(`Lab node ${options.node} is rebooting.`, { hint: 'Try again in a moment.' });
  // Every namespace of the node, its PID namespace too: a reboot typed at the console is the node's.
  const enter = ['nsenter', '-t', String(init), '--net', '--mount', '--uts', '--pid', '--', ...options.command];
  // In a --cpu lab the console's commands are the node's too: held to its share, counted with it.
  const cgroups = await nodeCgroupDirs(init);
  if (cgroups.length === 0) return runner.runAttached(enter[0]!, enter.slice(1));
  const join = joinCgroupLines(cgroups).join('; ');
  return runner.runAttached('sh', ['-c', `${join}; exec "$@"`, 'sh', ...enter]);
}
