import type { TaskState } from '../../core/convergence.js';
import { parseJsonLines } from '../../core/json-lines.js';
import { isSelected, servicesStateScript, type ServiceSelector } from '../../core/service-scripts.js';
import { parseServiceSpec, parseTask, type ServiceSpecView } from '../../core/swarm-objects.js';
import type { NodeSession } from './node-session.js';

export interface ServicesState {
  services: ServiceSpecView[];
  tasks: TaskState[];
}

/** The selected services and their tasks (with `currentOnly`, only those meant to run now), as a manager sees them. */
export async function readServices(manager: NodeSession, selector: ServiceSelector, currentOnly = false): Promise<ServicesState> {
  const { stdout } = await manager.run('read the services and their tasks', servicesStateScript(selector, currentOnly));
  const [servicePart, taskPart] = stdout.split('\n---\n');
  const services = parseJsonLines(servicePart ?? '').map(parseServiceSpec).filter((s) => isSelected(selector, s)).sort((a, b) => a.name.localeCompare(b.name));
  const ids = new Set(services.map((s) => s.id));
  return { services, tasks: parseJsonLines(taskPart ?? '').map(parseTask).filter((t) => ids.has(t.serviceId)) };
}
