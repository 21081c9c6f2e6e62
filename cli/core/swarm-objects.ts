import type { ServiceMode } from './compose-file.js';
import type { TaskState } from './convergence.js';
import { specFacts, type ServiceFacts } from './stack-plan.js';

/**
 * Services and tasks as `docker service inspect` / `docker inspect --type task` print them,
 * reduced to what piswarm's checks need.
 */

/** A service's spec as the scheduler uses it: placement, reservations and host-mode ports. */
export interface ServiceSpecView {
  id: string;
  name: string;
  /** The stack it belongs to, from its namespace label. */
  stack?: string;
  mode: ServiceMode;
  /** Replicas, or total completions of a replicated job; undefined for global modes. */
  replicas?: number;
  image: string;
  constraints: string[];
  /** At most this many of its tasks on one node (0: no limit). */
  maxReplicasPerNode: number;
  reservations: { nanoCpus: number; memoryBytes: number };
  /** Ports published in host mode ("8080/tcp"): one task per node may hold each. */
  hostPorts: string[];
  /** A replicated service whose tasks are not restarted after they exit 0 (restart condition none or on-failure). */
  runsOnce: boolean;
  /** What `stack diff` compares with a compose file. */
  facts: ServiceFacts;
  /** Named volumes and bind mounts: data that stays on the node when a task moves. */
  localMounts: string[];
  updateState?: string;
  updateMessage?: string;
  /** Scaled up by a drain of this node that has not scaled it back yet (a drain cut short), from these replicas. */
  surge?: { nodeId: string; replicas: number };
}

/** The label a drain's surge leaves on a service until it scales it back: "NODE_ID:REPLICAS". */
export const SURGE_LABEL = 'io.piswarm.surge';

export function parseServiceSpec(s: any): ServiceSpecView {
  const spec = s.Spec ?? {};
  const mode = spec.Mode ?? {};
  const kind: ServiceMode = mode.Global ? 'global' : mode.ReplicatedJob ? 'replicated-job' : mode.GlobalJob ? 'global-job' : 'replicated';
  const task = spec.TaskTemplate ?? {};
  const container = task.ContainerSpec ?? {};
  const replicas = kind === 'replicated' ? (mode.Replicated?.Replicas ?? 1) : kind === 'replicated-job' ? (mode.ReplicatedJob?.TotalCompletions ?? 1) : undefined;
  const ports: any[] = spec.EndpointSpec?.Ports ?? [];
  const mounts: any[] = container.Mounts ?? [];
  // Digests pinned by the engine are not part of the name users know.
  const image = String(container.Image ?? '').replace(/@sha256:[0-9a-f]+$/, '');
  const constraints: string[] = task.Placement?.Constraints ?? [];
  const reservations = { nanoCpus: task.Resources?.Reservations?.NanoCPUs ?? 0, memoryBytes: task.Resources?.Reservations?.MemoryBytes ?? 0 };
  return {
    id: s.ID,
    name: spec.Name ?? s.ID,
    stack: spec.Labels?.['com.docker.stack.namespace'],
    mode: kind,
    ...(replicas !== undefined ? { replicas } : {}),
    image,
    constraints,
    maxReplicasPerNode: task.Placement?.MaxReplicas ?? 0,
    reservations,
    hostPorts: ports.filter((p) => p.PublishMode === 'host' && p.PublishedPort).map((p) => `${p.PublishedPort}/${p.Protocol ?? 'tcp'}`),
    runsOnce: kind === 'replicated' && ['none', 'on-failure'].includes(task.RestartPolicy?.Condition ?? 'any'),
    facts: specFacts(s, { image, mode: kind, ...(replicas !== undefined ? { replicas } : {}), constraints, reservations }),
    localMounts: mounts.filter((m) => m.Type === 'bind' || (m.Type === 'volume' && (m.VolumeOptions?.DriverConfig?.Name ?? 'local') === 'local')).map((m) => m.Source || m.Target),
    updateState: s.UpdateStatus?.State,
    updateMessage: s.UpdateStatus?.Message,
    ...surgeOf(spec.Labels?.[SURGE_LABEL]),
  };
}

function surgeOf(label: string | undefined): Pick<ServiceSpecView, 'surge'> {
  const match = /^([0-9a-z]+):(\d+)$/.exec(label ?? '');
  return match ? { surge: { nodeId: match[1]!, replicas: Number(match[2]) } } : {};
}

export function parseTask(t: any): TaskState {
  return {
    id: t.ID,
    serviceId: t.ServiceID,
    nodeId: t.NodeID || undefined,
    state: t.Status?.State,
    desiredState: t.DesiredState,
    since: Date.parse(t.Status?.Timestamp),
    error: t.Status?.Err || undefined,
    exitCode: t.Status?.ContainerStatus?.ExitCode || undefined,
  };
}

/** At most how many of the service's tasks one node can hold: host-mode ports allow one. */
export function perNodeLimit(service: ServiceSpecView): number {
  const limits = [service.maxReplicasPerNode || Infinity, service.hostPorts.length > 0 ? 1 : Infinity];
  return Math.min(...limits);
}
