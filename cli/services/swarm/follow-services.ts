import { assessConvergence, type Convergence, type ServiceState } from '../../core/convergence.js';
import type { ServiceSelector } from '../../core/service-selector.js';
import { PiswarmError } from '../../errors.js';
import type { NodeSession } from './node-session.js';
import { readServices } from './service-state.js';
import { readSwarmNodes } from './swarm-nodes.js';
import { watchSwarm } from './watch-swarm.js';

/**
 * Follows services until each runs all its tasks (stable for `windowMs`), one fails for good, or
 * time is up; `what` names them in errors ("the restored services").
 */
export async function followServices(manager: NodeSession, nodes: readonly NodeSession[], selector: ServiceSelector, options: { timeoutMs: number; windowMs: number; since: number; what: string; waitPending?: boolean }, onProgress: (state: Convergence) => void): Promise<Convergence> {
  const swarmNodes = await readSwarmNodes(manager);
  const nodeName = (id: string | undefined) => swarmNodes.find((n) => n.id === id)?.hostname;
  const { state, done } = await watchSwarm(nodes, options.timeoutMs, async () => {
    const read = await readServices(manager, selector);
    const { services } = read;
    // Tasks that waited for a node (pinned to labels just added) are waited for, not failed.
    const tasks = options.waitPending ? read.tasks.map((t) => (t.state === 'pending' ? { ...t, error: undefined } : t)) : read.tasks;
    const states = services.map((s): ServiceState => {
      // A global service wants a task on each node the scheduler chose: as many as it made.
      const wanted = tasks.filter((t) => t.serviceId === s.id && t.desiredState === 'running').length;
      return { id: s.id, name: s.name, mode: s.mode, desired: s.replicas ?? Math.max(1, wanted), runsOnce: s.runsOnce, updateState: s.updateState, updateMessage: s.updateMessage };
    });
    const state = assessConvergence(states, tasks, { now: Date.now(), windowMs: options.windowMs, failLimit: 3, since: options.since, nodeName });
    onProgress(state);
    if (state.failure) {
      throw new PiswarmError(`${state.failure.service}, one of ${options.what}, did not converge${state.failure.node ? ` on ${state.failure.node}` : ''}: ${state.failure.error}`, { hint: 'See `piswarm service ls`; fix the cause and run the command again (what is done is kept).' });
    }
    return { state, done: state.converged, ...(state.recheckAt ? { recheckAt: state.recheckAt } : {}) };
  });
  if (!done) {
    throw new PiswarmError(`${options.what} did not converge within ${options.timeoutMs / 1000} s: ${state.services.filter((s) => !s.done).map((s) => `${s.name} ${s.stable}/${s.desired}`).join(', ')}.`, { hint: 'See `piswarm service ls`, or give it longer with --timeout.' });
  }
  return state;
}
