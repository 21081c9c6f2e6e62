import { assessConvergence, type Convergence, type ServiceState } from '../../core/convergence.js';
import { resolveService, scaleProblem, type ScaleTarget } from '../../core/service-scale.js';
import { PiswarmError } from '../../errors.js';
import type { NodeSession } from './node-session.js';
import { readServices } from './service-state.js';
import { readSwarmNodes } from './swarm-nodes.js';
import { watchSwarm } from './watch-swarm.js';

export interface ScaleOptions {
  timeoutMs: number;
  /** How long every task must have been running (and healthy) to count. */
  windowMs: number;
  /** Failed tasks of one service after which the scale is declared failed. */
  failLimit: number;
}

export interface ScaleResult {
  seconds: number;
  changes: Array<{ name: string; from: number; to: number }>;
  services: Convergence['services'];
}

/**
 * Scales replicated services and follows them until each runs exactly its new count (every task
 * up for the window, the surplus stopped). Every target is checked before any is changed.
 */
export async function scaleServices(manager: NodeSession, nodes: readonly NodeSession[], targets: readonly ScaleTarget[], options: ScaleOptions, events: { progress(state: Convergence): void }): Promise<ScaleResult> {
  const [{ services }, swarmNodes] = await Promise.all([readServices(manager, 'all'), readSwarmNodes(manager)]);
  const chosen = targets.map((t) => ({ service: resolveService(services, t.name), replicas: t.replicas, labels: t.labels }));
  const problems = chosen.flatMap((c) => scaleProblem(c.service, c.replicas, swarmNodes) ?? []);
  if (problems.length > 0) throw new PiswarmError(problems.join('\n'), { hint: 'Nothing was changed. Scale within the limit, or add nodes (piswarm node ls).' });

  const started = Date.now();
  await manager.engine('scale the services', async (api) => {
    for (const c of chosen) await api.scaleService(c.service.id, c.replicas, c.labels);
  });
  const nodeName = (id: string | undefined) => swarmNodes.find((n) => n.id === id)?.hostname;
  const down = new Set(swarmNodes.filter((n) => n.state !== 'ready').map((n) => n.id));
  const names = chosen.map((c) => c.service.id);
  const { state, done } = await watchSwarm(nodes, options.timeoutMs, async () => {
    // A task on a node that is down never reports that it stopped: it is not waited for.
    const tasks = (await readServices(manager, { names })).tasks.filter((t) => t.desiredState === 'running' || !down.has(t.nodeId ?? ''));
    // A scale changes no task spec, so a past update's rollback state says nothing about it.
    const wanted = chosen.map((c): ServiceState => ({ id: c.service.id, name: c.service.name, mode: 'replicated', desired: c.replicas }));
    const state = assessConvergence(wanted, tasks, { now: Date.now(), windowMs: options.windowMs, failLimit: options.failLimit, since: started, nodeName, untilStopped: true });
    events.progress(state);
    if (state.failure) {
      const { service, node, error } = state.failure;
      throw new PiswarmError(`${service} did not reach its new replica count: ${node ? `on ${node}: ` : ''}${error}`, {
        hint: `Its tasks keep being retried; see \`docker service ps ${service}\`. Scale it back with piswarm service scale ${service}=${chosen.find((c) => c.service.name === service)?.service.replicas ?? 1}.`,
      });
    }
    return { state, done: state.converged, ...(state.recheckAt ? { recheckAt: state.recheckAt } : {}) };
  });
  if (!done) {
    const behind = state.services.filter((s) => !s.done).map((s) => `${s.name} ${s.stable}/${s.desired} running`);
    throw new PiswarmError(`The services did not settle within ${options.timeoutMs / 1000} s: ${behind.join(', ')}.`, { hint: 'See `docker service ps NAME` on a manager, or give it longer with --timeout.' });
  }
  return { seconds: (Date.now() - started) / 1000, changes: chosen.map((c) => ({ name: c.service.name, from: c.service.replicas ?? 0, to: c.replicas })), services: state.services };
}
