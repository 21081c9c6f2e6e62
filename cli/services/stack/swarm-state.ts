import type { ServiceState, TaskState } from '../../core/convergence.js';
import { readServices } from '../swarm/service-state.js';
import type { NodeSession } from '../swarm/node-session.js';

/** The stack's services (named without the stack prefix) and tasks; `globalDesired` says how many nodes each global service may use. */
export async function readStackState(manager: NodeSession, stack: string, globalDesired: ReadonlyMap<string, number>): Promise<{ services: ServiceState[]; tasks: TaskState[] }> {
  const { services, tasks } = await readServices(manager, { stack });
  return {
    services: services.map((s): ServiceState => {
      const short = s.name.startsWith(`${stack}_`) ? s.name.slice(stack.length + 1) : s.name;
      return { id: s.id, name: short, mode: s.mode, desired: s.replicas ?? globalDesired.get(short) ?? 0, runsOnce: s.runsOnce, updateState: s.updateState, updateMessage: s.updateMessage };
    }),
    tasks,
  };
}
