import type { ServiceMode } from './compose-file.js';
import type { TaskState } from './convergence.js';
import { eligibleNodes, type SwarmNodeView } from './placement.js';
import type { ServiceSpecView } from './swarm-objects.js';

export interface ServiceRow {
  name: string;
  stack?: string;
  mode: ServiceMode;
  running: number;
  /** Replicas; for a global service, the nodes it may run on. */
  desired: number;
  image: string;
  /** The last update's state when it did not simply complete (rollback_started, paused, …). */
  update?: string;
}

/** One row per service: tasks running against what it should have, as `docker service ls` counts them. */
export function serviceRows(services: readonly ServiceSpecView[], tasks: readonly TaskState[], nodes: readonly SwarmNodeView[]): ServiceRow[] {
  return services
    .map((s) => ({
      name: s.name,
      ...(s.stack ? { stack: s.stack } : {}),
      mode: s.mode,
      running: tasks.filter((t) => t.serviceId === s.id && t.desiredState === 'running' && t.state === 'running').length,
      desired: s.replicas ?? eligibleNodes(nodes, s.constraints).length,
      image: s.image,
      ...(s.updateState && s.updateState !== 'completed' ? { update: s.updateState } : {}),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
