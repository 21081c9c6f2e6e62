import type { SwarmNodeView } from '../../core/placement.js';
import type { NodeSession } from './node-session.js';

/** The swarm's nodes as a manager sees them: what bootstrap, teardown, stacks and node ls work from. */
export async function readSwarmNodes(manager: NodeSession): Promise<SwarmNodeView[]> {
  const nodes = await manager.engine('list the swarm nodes', (api) => api.nodes());
  // Sorted by hostname: the API lists nodes in no particular order, and messages name them in turn.
  return nodes.map((n): SwarmNodeView => ({
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
    reachable: n.ManagerStatus?.Reachability === 'reachable',
    managerAddr: n.ManagerStatus?.Addr,
    engine: n.Description?.Engine?.EngineVersion,
    nanoCpus: n.Description?.Resources?.NanoCPUs ?? 0,
    memoryBytes: n.Description?.Resources?.MemoryBytes ?? 0,
  })).sort((a, b) => a.hostname.localeCompare(b.hostname));
}
