import { UsageError } from '../errors.js';
import { eligibleNodes, type SwarmNodeView } from './placement.js';
import { resolveServiceName } from './service-names.js';
import { perNodeLimit, type ServiceSpecView } from './swarm-objects.js';

export interface ScaleTarget {
  name: string;
  replicas: number;
  /** Labels set (null: removed) in the same update. */
  labels?: Record<string, string | null>;
}

/** Parses `NAME=N` arguments, as `docker service scale` takes them. */
export function parseScaleTargets(args: readonly string[]): ScaleTarget[] {
  if (args.length === 0) throw new UsageError('Which service, and how many replicas?', 'Say NAME=N: piswarm service scale hello-world_web=9 (piswarm service ls lists them).');
  const targets = args.map((arg) => {
    const match = /^([^=\s]+)=(\d{1,4})$/.exec(arg);
    if (!match) throw new UsageError(`"${arg}" is not NAME=N.`, 'Give a service name and a replica count from 0 to 9999, e.g. hello-world_web=9.');
    return { name: match[1]!, replicas: Number(match[2]) };
  });
  const seen = new Set<string>();
  for (const t of targets) {
    if (seen.has(t.name)) throw new UsageError(`${t.name} is named twice.`, 'Give each service once.');
    seen.add(t.name);
  }
  return targets;
}

/** The service a user means: by ID (or a prefix of one), else by name as resolveServiceName reads names. */
export function resolveService(services: readonly ServiceSpecView[], name: string): ServiceSpecView {
  const byId = services.find((s) => s.id === name || (name.length >= 6 && s.id.startsWith(name)));
  if (byId) return byId;
  const full = resolveServiceName(name, services.map((s) => s.name));
  return services.find((s) => s.name === full)!;
}

/** Why a service cannot have `replicas` tasks running in this swarm; undefined when it can. */
export function scaleProblem(service: ServiceSpecView, replicas: number, nodes: readonly SwarmNodeView[]): string | undefined {
  if (service.mode !== 'replicated') {
    return `${service.name} is a ${service.mode} service: ${service.mode.startsWith('global') ? 'it runs one task per eligible node' : 'a job runs to completion'}, so it has no replica count to scale.`;
  }
  const limit = perNodeLimit(service);
  if (limit === Infinity) return undefined;
  const eligible = eligibleNodes(nodes, service.constraints);
  if (replicas <= limit * eligible.length) return undefined;
  const why = service.hostPorts.length > 0 ? `publishes ${service.hostPorts.join(', ')} in host mode, so a node runs at most one of its tasks` : `allows ${limit} task(s) per node (max_replicas_per_node)`;
  return `${service.name} ${why}, and ${eligible.length} node(s) may run it (${eligible.map((n) => n.hostname).join(', ') || 'none'}): at most ${limit * eligible.length} replicas, not ${replicas}.`;
}
