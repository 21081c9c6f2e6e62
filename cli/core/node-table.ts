import { UsageError } from '../errors.js';
import type { TaskState } from './convergence.js';
import type { InventoryNode } from './inventory.js';
import type { SwarmNodeView } from './placement.js';

export interface NodeRow {
  hostname: string;
  role: 'manager' | 'worker';
  leader: boolean;
  status: string;
  availability: string;
  arch: string;
  engine?: string;
  tasks: number;
  ip?: string;
  mac?: string;
}

/** Tasks meant to run on each node (by node ID), as `docker node ps` counts them. */
export function tasksPerNode(tasks: readonly TaskState[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const t of tasks) if (t.nodeId && t.desiredState === 'running') counts.set(t.nodeId, (counts.get(t.nodeId) ?? 0) + 1);
  return counts;
}

/** The inventory's entry for a swarm node: by swarm node ID, else hostname. */
export function inventoryNodeFor(node: SwarmNodeView, inventory: readonly InventoryNode[]): InventoryNode | undefined {
  return inventory.find((n) => n.swarmNodeId === node.id) ?? inventory.find((n) => n.hostname === node.hostname);
}

/** The swarm node a user named: by hostname, swarm node ID, or the inventory's hostname, MAC or IP. */
export function findSwarmNode(swarm: readonly SwarmNodeView[], inventory: readonly InventoryNode[], ref: string): SwarmNodeView {
  const needle = ref.toLowerCase();
  const direct = swarm.find((n) => n.hostname.toLowerCase() === needle || n.id === ref);
  if (direct) return direct;
  const known = inventory.find((n) => n.mac === needle || n.hostname.toLowerCase() === needle || n.ip === ref);
  const viaInventory = known && swarm.find((n) => n.id === known.swarmNodeId || n.hostname === known.hostname);
  if (viaInventory) return viaInventory;
  throw new UsageError(
    known ? `${ref} is in the inventory but not in the swarm.` : `No node "${ref}" in the swarm.`,
    `Swarm nodes: ${swarm.map((n) => n.hostname).join(', ')} (piswarm node ls).${known ? ' To join it: piswarm bootstrap --only ' + known.hostname + '.' : ''}`,
  );
}

/**
 * The swarm's nodes joined with the inventory (by swarm node ID, else hostname), and what is
 * wrong: a manager advertising an address other than the one the inventory reaches it at has
 * moved (DHCP), and the other managers can no longer reach it there.
 */
export function nodeRows(swarm: readonly SwarmNodeView[], inventory: readonly InventoryNode[], tasks: ReadonlyMap<string, number>): { rows: NodeRow[]; warnings: string[] } {
  const warnings: string[] = [];
  const rows = swarm.map((node): NodeRow => {
    const known = inventoryNodeFor(node, inventory);
    const advertised = node.managerAddr?.replace(/:\d+$/, '');
    if (node.role === 'manager' && advertised && known?.ip && advertised !== known.ip) {
      warnings.push(
        `${node.hostname} (a manager) advertises ${node.managerAddr} but is at ${known.ip} now: its address changed, and the other managers look for it at the old one. Give it its old address back (a DHCP reservation, or a static address with flash --ip), or remove it and join it again.`,
      );
    }
    return {
      hostname: node.hostname,
      role: node.role,
      leader: node.leader === true,
      status: node.state,
      availability: node.availability,
      arch: node.arch,
      ...(node.engine ? { engine: node.engine } : {}),
      tasks: tasks.get(node.id) ?? 0,
      ...(known?.ip ? { ip: known.ip } : {}),
      ...(known?.mac ? { mac: known.mac } : {}),
    };
  });
  return { rows: rows.sort((a, b) => Number(b.role === 'manager') - Number(a.role === 'manager') || a.hostname.localeCompare(b.hostname)), warnings };
}
