import { isHopeless, type TaskState } from './convergence.js';
import { describePlatform, meetsConstraints, nodeCanRun, nodePlatform, type ImagePlatform, type SwarmNodeView } from './placement.js';
import { perNodeLimit, type ServiceSpecView } from './swarm-objects.js';

/** What draining one node would do, worked out before touching it. */
export interface DrainPlan {
  node: string;
  /** Replicated services with tasks on the node: how many, and the nodes the scheduler could use. */
  moves: Array<{ service: string; tasks: number; to: string[] }>;
  /** Tasks that fit on no other node, and why each other node cannot take them. */
  blocked: Array<{ service: string; tasks: number; reason: string }>;
  /** Services with every task on this node: none runs between the drain and the replacements starting. */
  alone: Array<{ service: string; tasks: number; replicas: number }>;
  warnings: string[];
}

/** States of a task that holds its node's ports and reservations (as the scheduler counts them). */
const ACTIVE = new Set(['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running']);

function isActiveTask(task: TaskState): boolean {
  return task.desiredState === 'running' && ACTIVE.has(task.state);
}

interface NodeLoad {
  nanoCpus: number;
  memoryBytes: number;
  ports: Map<string, string>;
  perService: Map<string, number>;
}

/**
 * Simulates the scheduler placing every replicated task of `target` on the other nodes: ready
 * and active, meeting the service's constraints, with an image variant for their architecture
 * (`platforms`, where known), room for its reservations, its host-mode ports free and under its
 * per-node limit. Tasks are spread as the scheduler does: fewest of the service first.
 */
export function planDrain(
  target: SwarmNodeView,
  nodes: readonly SwarmNodeView[],
  services: readonly ServiceSpecView[],
  tasks: readonly TaskState[],
  platforms: ReadonlyMap<string, readonly ImagePlatform[]>,
): DrainPlan {
  const active = tasks.filter(isActiveTask);
  const load = new Map(nodes.map((n) => [n.id, loadOf(n, active, services)]));
  const plan: DrainPlan = { node: target.hostname, moves: [], blocked: [], alone: [], warnings: [] };
  for (const service of services) {
    const own = active.filter((t) => t.serviceId === service.id);
    const here = own.filter((t) => t.nodeId === target.id).length;
    if (here === 0) continue;
    if (service.mode === 'global' || service.mode === 'global-job') {
      plan.warnings.push(`${service.name} is global: its task on ${target.hostname} stops and does not move (it comes back when the node is active again).`);
      continue;
    }
    if (service.localMounts.length > 0) {
      plan.warnings.push(`${service.name} keeps ${service.localMounts.join(', ')} on ${target.hostname}: a task started on another node does not get that data.`);
    }
    if (here === own.length) plan.alone.push({ service: service.name, tasks: here, replicas: service.replicas ?? here });
    const to = new Set<string>();
    let placed = 0;
    for (; placed < here; placed++) {
      const reasons: string[] = [];
      const fits = nodes.filter((node) => {
        const why = node.id === target.id ? 'the node being drained' : refusal(node, service, load.get(node.id)!, platforms.get(service.image));
        if (why && node.id !== target.id) reasons.push(`${node.hostname}: ${why}`);
        return !why;
      });
      const best = fits.sort((a, b) => countOf(load.get(a.id)!, service) - countOf(load.get(b.id)!, service))[0];
      if (!best) {
        plan.blocked.push({ service: service.name, tasks: here - placed, reason: reasons.join('; ') || 'no other node in the swarm' });
        break;
      }
      occupy(load.get(best.id)!, service);
      to.add(best.hostname);
    }
    if (placed > 0) plan.moves.push({ service: service.name, tasks: placed, to: [...to].sort() });
  }
  return plan;
}

function loadOf(node: SwarmNodeView, active: readonly TaskState[], services: readonly ServiceSpecView[]): NodeLoad {
  const load: NodeLoad = { nanoCpus: 0, memoryBytes: 0, ports: new Map(), perService: new Map() };
  for (const task of active.filter((t) => t.nodeId === node.id)) {
    const service = services.find((s) => s.id === task.serviceId);
    if (service) occupy(load, service);
  }
  return load;
}

function occupy(load: NodeLoad, service: ServiceSpecView): void {
  load.nanoCpus += service.reservations.nanoCpus;
  load.memoryBytes += service.reservations.memoryBytes;
  for (const port of service.hostPorts) load.ports.set(port, service.name);
  load.perService.set(service.id, countOf(load, service) + 1);
}

function countOf(load: NodeLoad, service: ServiceSpecView): number {
  return load.perService.get(service.id) ?? 0;
}

/** Why `node` cannot take one more task of `service`; undefined when it can. */
function refusal(node: SwarmNodeView, service: ServiceSpecView, load: NodeLoad, variants: readonly ImagePlatform[] | undefined): string | undefined {
  if (node.state !== 'ready') return `${node.state}`;
  if (node.availability !== 'active') return `availability ${node.availability}`;
  if (!meetsConstraints(node, service.constraints)) return `does not meet ${service.constraints.join(', ')}`;
  if (variants && !nodeCanRun(node.arch, variants)) return `${service.image} has no ${describePlatform(nodePlatform(node.arch))} variant`;
  if (countOf(load, service) >= perNodeLimit(service)) {
    return service.hostPorts.length > 0 ? `already runs one (port ${service.hostPorts.join(', ')} in host mode)` : `already runs ${service.maxReplicasPerNode} (max_replicas_per_node)`;
  }
  const taken = service.hostPorts.find((p) => load.ports.has(p));
  if (taken) return `port ${taken} held by ${load.ports.get(taken)}`;
  const { nanoCpus, memoryBytes } = service.reservations;
  if (nanoCpus > 0 && node.nanoCpus && load.nanoCpus + nanoCpus > node.nanoCpus) {
    return `reserves ${cpus(nanoCpus)} CPU, ${cpus(node.nanoCpus - load.nanoCpus)} of ${cpus(node.nanoCpus)} free`;
  }
  if (memoryBytes > 0 && node.memoryBytes && load.memoryBytes + memoryBytes > node.memoryBytes) {
    return `reserves ${mib(memoryBytes)} MiB, ${mib(node.memoryBytes - load.memoryBytes)} of ${mib(node.memoryBytes)} MiB free`;
  }
  return undefined;
}

const cpus = (nano: number) => String(Math.round(nano / 1e7) / 100);
const mib = (bytes: number) => String(Math.floor(bytes / 2 ** 20));

export interface DrainProgress {
  services: Array<{ name: string; expected: number; runningElsewhere: number; leftOnNode: number }>;
  done: boolean;
  /** A replacement the scheduler cannot place or start, in the engine's words. */
  failure?: { service: string; error: string };
}

/**
 * How far a drain has got: done when every affected service has `expected` tasks running on other
 * nodes and none still runs on the drained node (stopping ones included: a consumer finishing its
 * messages counts as still there). Services in `stranded` (drained with --force although their
 * tasks fit nowhere) are only waited for to leave the node. A node that is down (`nodeDown`)
 * never reports its tasks stopped: none counts as left on it (they stop when it comes back).
 */
export function assessDrain(nodeId: string, affected: readonly ServiceSpecView[], tasks: readonly TaskState[], options: { since: number; stranded: ReadonlyMap<string, number>; nodeDown?: boolean }): DrainProgress {
  const services = affected.map((service) => {
    const own = tasks.filter((t) => t.serviceId === service.id);
    return {
      name: service.name,
      expected: Math.max(0, (service.replicas ?? 0) - (options.stranded.get(service.name) ?? 0)),
      runningElsewhere: own.filter((t) => t.nodeId !== nodeId && t.desiredState === 'running' && t.state === 'running').length,
      leftOnNode: options.nodeDown ? 0 : own.filter((t) => t.nodeId === nodeId && ACTIVE.has(t.state)).length,
    };
  });
  const failed = tasks.find((t) => t.since >= options.since && t.desiredState === 'running' && isHopeless(t));
  const service = failed && affected.find((s) => s.id === failed.serviceId && !options.stranded.has(s.name));
  return {
    services,
    done: services.every((s) => s.runningElsewhere >= s.expected && s.leftOnNode === 0),
    ...(failed && service ? { failure: { service: service.name, error: failed.error! } } : {}),
  };
}
