import type { ServiceMode } from '../../core/compose-file.js';
import type { ServiceState, TaskState } from '../../core/convergence.js';
import type { SwarmNodeView } from '../../core/placement.js';
import { NODE_INSPECT_SCRIPT, stackStateScript } from '../../core/stack-scripts.js';
import type { NodeSession } from '../swarm/node-session.js';

const jsonLines = (text: string) => text.split('\n').filter((l) => l.trim().startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);

/** The swarm's nodes, as the scheduler sees them. */
export async function readSwarmNodes(manager: NodeSession): Promise<SwarmNodeView[]> {
  const { stdout } = await manager.run('list the swarm nodes', NODE_INSPECT_SCRIPT);
  return jsonLines(stdout).map((n) => ({
    id: n.ID,
    hostname: n.Description?.Hostname ?? n.ID,
    role: n.Spec?.Role,
    arch: n.Description?.Platform?.Architecture ?? 'unknown',
    os: n.Description?.Platform?.OS ?? 'linux',
    labels: n.Spec?.Labels ?? {},
    engineLabels: n.Description?.Engine?.Labels ?? {},
    state: n.Status?.State ?? 'unknown',
    availability: n.Spec?.Availability ?? 'active',
    leader: n.ManagerStatus?.Leader === true,
    managerAddr: n.ManagerStatus?.Addr,
    engine: n.Description?.Engine?.EngineVersion,
  }));
}

/** The stack's services and tasks; `globalDesired` says how many nodes each global service may use. */
export async function readStackState(manager: NodeSession, stack: string, globalDesired: ReadonlyMap<string, number>): Promise<{ services: ServiceState[]; tasks: TaskState[] }> {
  const { stdout } = await manager.run(`read the state of stack ${stack}`, stackStateScript(stack));
  const [servicePart, taskPart] = stdout.split('\n---\n');
  const services = jsonLines(servicePart ?? '').map((s): ServiceState => {
    const mode = s.Spec?.Mode ?? {};
    const kind: ServiceMode = mode.Global ? 'global' : mode.ReplicatedJob ? 'replicated-job' : mode.GlobalJob ? 'global-job' : 'replicated';
    const name: string = s.Spec?.Name ?? s.ID;
    const short = name.startsWith(`${stack}_`) ? name.slice(stack.length + 1) : name;
    const desired = kind === 'replicated' ? (mode.Replicated?.Replicas ?? 1) : kind === 'replicated-job' ? (mode.ReplicatedJob?.TotalCompletions ?? 1) : (globalDesired.get(short) ?? 0);
    return { id: s.ID, name: short, mode: kind, desired, updateState: s.UpdateStatus?.State, updateMessage: s.UpdateStatus?.Message };
  });
  const tasks = jsonLines(taskPart ?? '').map(
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
