import type { TaskState } from '../../core/convergence.js';
import { isSelected, type ServiceSelector } from '../../core/service-selector.js';
import { parseServiceSpec, parseTask, type ServiceSpecView } from '../../core/swarm-objects.js';
import type { NodeSession } from './node-session.js';

export interface ServicesState {
  services: ServiceSpecView[];
  tasks: TaskState[];
}

/** The selected services and their tasks (with `currentOnly`, only those meant to run now), as a manager sees them. */
export async function readServices(manager: NodeSession, selector: ServiceSelector, currentOnly = false): Promise<ServicesState> {
  const [rawServices, rawTasks] = await manager.engine('read the services and their tasks', (api) => Promise.all([api.services(), api.tasks({ currentOnly })]));
  const services = rawServices.map(parseServiceSpec).filter((s) => isSelected(selector, s)).sort((a, b) => a.name.localeCompare(b.name));
  const ids = new Set(services.map((s) => s.id));
  return { services, tasks: rawTasks.map(parseTask).filter((t) => ids.has(t.serviceId)) };
}
