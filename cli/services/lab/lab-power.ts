import { isProcessAlive, type CommandRunner } from '../../adapters/process.js';
import { hypriotDefaults } from '../../core/boot-config.js';
import type { LabNodePlan } from '../../core/lab-plan.js';
import { PiswarmError } from '../../errors.js';
import { powerOffNode, startNode, waitForNode } from './lab-node.js';
import { readLabState, writeLabState, type LabState } from './lab-state.js';
import { assertRoot } from './prerequisites.js';

/** What can be done to one node to rehearse a fault: its power, and its network cable. */
export type NodeFault = 'stop' | 'start' | 'cut' | 'heal';

export interface NodeFaultResult {
  node: string;
  action: NodeFault;
  /** False when the node already was that way (off, on, unplugged, plugged in). */
  changed: boolean;
}

/**
 * Powers a lab node off (every process gone, its disk kept) or on (it boots again), or unplugs
 * and plugs back its network cable (its end of the veth down or up: the node runs on, unreachable).
 */
export async function applyNodeFault(runner: CommandRunner, options: { name: string; node: string; action: NodeFault; readyTimeoutMs: number }): Promise<NodeFaultResult> {
  assertRoot(`piswarm lab ${options.action}`);
  const state = await readLabState(options.name);
  if (!state) throw new PiswarmError(`No lab named ${options.name} is running.`, { hint: 'Start one with `sudo piswarm lab up`.' });
  const node = state.plan.nodes.find((n) => n.hostname === options.node);
  if (!node) throw new PiswarmError(`Lab ${options.name} has no node ${options.node}.`, { hint: `Nodes: ${state.plan.nodes.map((n) => n.hostname).join(', ')}.` });
  const anchor = state.nodes[node.hostname]?.anchorPid;
  const on = anchor !== undefined && isProcessAlive(anchor);
  const result = (changed: boolean): NodeFaultResult => ({ node: node.hostname, action: options.action, changed });
  switch (options.action) {
    case 'stop':
      if (!on) return result(false);
      await powerOffNode(anchor);
      return result(true);
    case 'start':
      if (on) return result(false);
      await powerOn(runner, state, node, options.readyTimeoutMs);
      return result(true);
    case 'cut':
    case 'heal': {
      const up = options.action === 'heal';
      const link = await runner.run('ip', ['-o', 'link', 'show', node.hostVeth], { allowFailure: true });
      if (link.code !== 0) throw new PiswarmError(`${node.hostname} has no network cable to ${options.action}: it is not running.`, { hint: `Start it first: sudo piswarm lab start ${node.hostname}` });
      if (/[<,]UP[,>]/.test(link.stdout) === up) return result(false);
      await runner.run('ip', ['link', 'set', node.hostVeth, up ? 'up' : 'down']);
      return result(true);
    }
  }
}

/** Boots a stopped node again: its first boot is behind it, so only its daemons start. */
async function powerOn(runner: CommandRunner, state: LabState, node: LabNodePlan, readyTimeoutMs: number): Promise<void> {
  const anchorPid = await startNode(runner, state.plan, node, hypriotDefaults(node.hostname), state.cpu);
  state.nodes[node.hostname] = { ...state.nodes[node.hostname], anchorPid, startedAt: new Date().toISOString() };
  await writeLabState(state);
  await waitForNode(state.plan, node, anchorPid, readyTimeoutMs);
}
