import { formatLogLine, parseLogLine, sinceSeconds } from '../../core/service-logs.js';
import { resolveServiceName } from '../../core/service-names.js';
import type { EngineJson } from '../../core/swarm-api.js';
import type { NodeSession } from './node-session.js';

export interface LogOptions {
  follow: boolean;
  since?: string;
  tail?: number;
}

/**
 * A service's logs from every task on every node, as a manager's engine collects them, each line
 * naming its task and node; `wanted` may be a stack's short service name. Ends with the logs, or
 * when `signal` aborts a follow.
 */
export async function serviceLogs(manager: NodeSession, wanted: string, options: LogOptions, write: (line: string) => void, signal: AbortSignal): Promise<void> {
  const services = await manager.engine('list the services', (api) => api.services());
  const name = resolveServiceName(wanted, services.map((s) => s.Spec.Name as string));
  const service = services.find((s) => s.Spec.Name === name)!;
  const names = { tasks: new Map<string, string>(), nodes: new Map<string, string>() };
  const learn = async () => {
    const [tasks, nodes] = await manager.engine('list the tasks', (api) => Promise.all([api.tasks(), api.nodes()]));
    for (const t of tasks.filter((t: EngineJson) => t.ServiceID === service.ID)) names.tasks.set(t.ID, `${name}.${t.Slot ?? t.NodeID}`);
    for (const n of nodes) names.nodes.set(n.ID, n.Description?.Hostname ?? n.ID);
  };
  await learn();
  // A task started while following is named once it is known; until then by its ID.
  let relearning: Promise<void> | undefined;
  const context = {
    taskName: (id: string) => {
      if (!names.tasks.has(id)) relearning ??= learn().catch(() => undefined).finally(() => (relearning = undefined));
      return names.tasks.get(id);
    },
    nodeName: (id: string) => names.nodes.get(id),
  };
  const since = options.since ? sinceSeconds(options.since, Date.now()) : undefined;
  await manager.engine(`read the logs of ${name}`, (api) => api.serviceLogs(service.ID, { follow: options.follow, since, tail: options.tail }, (raw) => write(formatLogLine(parseLogLine(raw), context)), signal));
}
