import type { Context } from '../../context.js';
import { printJson } from '../../io.js';
import { applyNodeFault, type NodeFault } from '../../services/lab/lab-power.js';
import { parseIntegerFlag } from '../parse.js';

const SAID: Record<NodeFault, [done: string, already: string]> = {
  stop: ['powered off (its disk kept)', 'was already off'],
  start: ['booted again', 'was already on'],
  cut: ['unplugged from the network', 'was already unplugged'],
  heal: ['plugged back into the network', 'was already plugged in'],
};

/** `lab stop|start|cut|heal NODE`: one fault, or its end, on one node. */
export function labFaultAction(action: NodeFault) {
  return async (context: Context, flags: { name: string; timeout: string; args: string[] }): Promise<number> => {
    const readyTimeoutMs = parseIntegerFlag('--timeout', flags.timeout, 1, 3600) * 1000;
    const result = await applyNodeFault(context.runner, { name: flags.name, node: flags.args[0]!, action, readyTimeoutMs });
    context.reporter.step(`${result.node} ${SAID[action][result.changed ? 0 : 1]}`);
    if (context.io.json) printJson(context.io, result);
    return 0;
  };
}
