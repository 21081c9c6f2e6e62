import type { ServiceMode } from './compose-file.js';

/** One swarm task, from `docker inspect --type task`. */
export interface TaskState {
  id: string;
  serviceId: string;
  nodeId?: string;
  state: string;
  desiredState: string;
  /** When the task entered `state` (ms since the epoch). */
  since: number;
  error?: string;
  exitCode?: number;
}

/** One service of the stack, from `docker service inspect`. */
export interface ServiceState {
  id: string;
  name: string;
  mode: ServiceMode;
  /** Replicas, or completions for a replicated job; for global modes, the nodes it may run on. */
  desired: number;
  /**
   * Replicated, but its tasks are not restarted once they exit 0: done when that many completed.
   * How one-off work (the sensor simulator) is written for Docker before 23, whose stack files have no jobs.
   */
  runsOnce?: boolean;
  /** The service's update status (rollback_started, paused, …) and its message, if any. */
  updateState?: string;
  updateMessage?: string;
}

export interface ServiceProgress {
  name: string;
  desired: number;
  /** Tasks running (healthy, where there is a healthcheck), and of those, running for the whole window. */
  running: number;
  stable: number;
  /** Tasks that completed (jobs, and services that run once). */
  completed: number;
  done: boolean;
}

export interface Convergence {
  services: ServiceProgress[];
  converged: boolean;
  /** Why the stack cannot converge: the service, the node its task ran on, and the engine's words. */
  failure?: { service: string; node?: string; error: string };
  /** When a running task will have been up for the whole window: check again then. */
  recheckAt?: number;
}

/** Engine errors no retry will fix: the image cannot be had, or no node may take the task. */
const HOPELESS = /No such image|pull access denied|manifest unknown|not found|unauthorized|no basic auth credentials|no suitable node|exec format error/i;

export function isHopeless(task: TaskState): boolean {
  return HOPELESS.test(task.error ?? '');
}

/**
 * Whether the stack has converged: every replicated service has its replicas running (healthy)
 * for at least `windowMs` — a task that crashes after 2 s has not converged — every job has its
 * completions, and nothing is rolling back. A task that failed with an error no retry fixes, or
 * `failLimit` failed tasks of one service since the deploy, is a failure.
 */
export function assessConvergence(
  services: readonly ServiceState[],
  tasks: readonly TaskState[],
  options: {
    now: number;
    windowMs: number;
    failLimit: number;
    since: number;
    nodeName: (id: string | undefined) => string | undefined;
    /** Also wait for tasks no longer wanted (scaled down, replaced) to have stopped. */
    untilStopped?: boolean;
  },
): Convergence {
  const progress: ServiceProgress[] = [];
  let failure: Convergence['failure'];
  let recheckAt: number | undefined;
  for (const service of services) {
    const own = tasks.filter((t) => t.serviceId === service.id);
    const wanted = own.filter((t) => t.desiredState === 'running');
    const running = wanted.filter((t) => t.state === 'running');
    const stable = running.filter((t) => options.now - t.since >= options.windowMs);
    for (const t of running) if (options.now - t.since < options.windowMs) recheckAt = Math.min(recheckAt ?? Infinity, t.since + options.windowMs);
    const completed = own.filter((t) => t.state === 'complete').length;
    const isJob = service.mode === 'replicated-job' || service.mode === 'global-job';
    const stopping = options.untilStopped ? own.filter((t) => t.desiredState !== 'running' && t.state === 'running').length : 0;
    const done =
      isJob || (service.runsOnce && completed >= service.desired)
        ? completed >= service.desired
        : stable.length === service.desired && wanted.length === service.desired && stopping === 0;
    progress.push({ name: service.name, desired: service.desired, running: running.length, stable: stable.length, completed, done });

    if (failure) continue;
    if (service.updateState?.startsWith('rollback') || service.updateState === 'paused') {
      failure = { service: service.name, error: `update ${service.updateState.replace('_', ' ')}: ${service.updateMessage ?? 'no reason given'}` };
      continue;
    }
    // During a stop-first update the old task holds its host-mode port a moment longer: the new
    // one waits for it ("host-mode port already in use"), which is no failure.
    const waitsForPort = (t: TaskState) => t.state === 'pending' && service.updateState === 'updating' && /host-mode port already in use/i.test(t.error ?? '');
    const failed = own.filter((t) => t.since >= options.since && (t.state === 'failed' || t.state === 'rejected' || (t.state === 'pending' && t.error && !waitsForPort(t))));
    const hopeless = failed.find(isHopeless);
    const last = hopeless ?? (failed.length >= options.failLimit ? failed.sort((a, b) => b.since - a.since)[0] : undefined);
    if (last) failure = { service: service.name, node: options.nodeName(last.nodeId), error: describeTask(last) };
  }
  return { services: progress, converged: !failure && progress.every((p) => p.done), ...(failure ? { failure } : {}), ...(recheckAt ? { recheckAt } : {}) };
}

function describeTask(task: TaskState): string {
  const why = task.error ?? (task.exitCode !== undefined ? `exited with code ${task.exitCode}` : task.state);
  return `task ${task.state}: ${why}`;
}
