import type { ServiceMode } from '../../core/compose-file.js';
import type { ServiceState, TaskState } from '../../core/convergence.js';
import { parseJsonLines } from '../../core/json-lines.js';
import { stackStateScript } from '../../core/stack-scripts.js';
import type { NodeSession } from '../swarm/node-session.js';

/** The stack's services and tasks; `globalDesired` says how many nodes each global service may use. */
export async function readStackState(manager: NodeSession, stack: string, globalDesired: ReadonlyMap<string, number>): Promise<{ services: ServiceState[]; tasks: TaskState[] }> {
  const { stdout } = await manager.run(`read the state of stack ${stack}`, stackStateScript(stack));
  const [servicePart, taskPart] = stdout.split('\n---\n');
  const services = parseJsonLines(servicePart ?? '').map((s): ServiceState => {
    const mode = s.Spec?.Mode ?? {};
    const kind: ServiceMode = mode.Global ? 'global' : mode.ReplicatedJob ? 'replicated-job' : mode.GlobalJob ? 'global-job' : 'replicated';
    const name: string = s.Spec?.Name ?? s.ID;
    const short = name.startsWith(`${stack}_`) ? name.slice(stack.length + 1) : name;
    const desired = kind === 'replicated' ? (mode.Replicated?.Replicas ?? 1) : kind === 'replicated-job' ? (mode.ReplicatedJob?.TotalCompletions ?? 1) : (globalDesired.get(short) ?? 0);
    return { id: s.ID, name: short, mode: kind, desired, updateState: s.UpdateStatus?.State, updateMessage: s.UpdateStatus?.Message };
  });
  const tasks = parseJsonLines(taskPart ?? '').map(
    (t): TaskState => ({
      id: t.ID,
      serviceId: t.ServiceID,
      nodeId: t.NodeID || undefined,
      state: t.Status?.State,
      desiredState: t.DesiredState,
      since: Date.parse(t.Status?.Timestamp),
      error: t.Status?.Err || undefined,
      exitCode: t.Status?.ContainerStatus?.ExitCode || undefined,
    }),
  );
  return { services, tasks };
}
