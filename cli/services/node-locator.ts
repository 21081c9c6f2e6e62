import type { InventoryNode, Inventory } from '../core/inventory.js';
import { contains, parseIpv4 } from '../core/ipv4.js';
import { planSweep, type InterfaceNetwork } from '../core/sweep-plan.js';
import type { Reporter } from '../io.js';
import { sweep, type SweepPorts } from './discover.js';

export interface LocatorPorts extends SweepPorts {
  localNetworks: () => InterfaceNetwork[];
}

export interface NodeMove {
  hostname: string;
  from: string;
  to: string;
}

/**
 * Routers hand out new addresses; the MAC stays. Checks that each node still answers at its
 * inventory address with its own MAC; for those that do not, sweeps the local LAN the address was
 * on and follows the MAC to the new address, updating the inventory (the caller saves it).
 */
export async function relocateMovedNodes(inventory: Inventory, nodes: readonly InventoryNode[], ports: LocatorPorts, reporter: Reporter): Promise<NodeMove[]> {
  const withIp = nodes.filter((n) => n.ip);
  const checks = await Promise.all(withIp.map((n) => ports.probe(n.ip!)));
  const neighbours = await ports.neighbours();
  // A routed node has no neighbour entry: then the answer alone has to do.
  const lost = withIp.filter((n, i) => {
    const mac = neighbours.get(n.ip!);
    return checks[i]!.state === 'silent' || (mac !== undefined && mac !== n.mac);
  });
  if (lost.length === 0) return [];

  const plan = planSweep({ cidrs: [], local: ports.localNetworks() });
  const wanted = plan.networks.filter((n) => lost.some((node) => contains(n.network, parseIpv4(node.ip!)!)));
  if (wanted.length === 0 && plan.networks.length === 0) return [];
  reporter.debug(`Not at their saved address: ${lost.map((n) => `${n.hostname} (${n.ip})`).join(', ')}; looking for them by MAC`);
  const hosts = await sweep({ ...plan, networks: wanted.length > 0 ? wanted : plan.networks }, ports, inventory);

  const moves: NodeMove[] = [];
  for (const node of lost) {
    const found = hosts.find((h) => h.mac === node.mac);
    if (!found || found.ip === node.ip) continue;
    inventory.upsertNode(node.mac, { ip: found.ip });
    moves.push({ hostname: node.hostname, from: node.ip!, to: found.ip });
    // A warning, not a step: a moving address breaks a swarm manager, so it is worth fixing.
    reporter.warn(`${node.hostname} moved ${node.ip} → ${found.ip} (found by its MAC ${node.mac}); a DHCP reservation keeps it put`);
  }
  return moves;
}

/**
 * Connects to nodes with `connect` (which returns those that failed); only nodes that did not
 * answer at their saved address are looked for by MAC, and tried again there: a probe ahead of
 * every connection would cost each Pi a login process of its own. Returns the nodes still failing
 * and the moves (the inventory is updated; the caller saves it).
 */
export async function connectFollowingMoves<F extends { node: InventoryNode }>(
  inventory: Inventory,
  nodes: readonly InventoryNode[],
  connect: (nodes: readonly InventoryNode[]) => Promise<F[]>,
  ports: { locator?: LocatorPorts; reporter: Reporter },
): Promise<{ failures: F[]; moved: NodeMove[] }> {
  const failures = await connect(nodes);
  const moved = ports.locator && failures.length > 0 ? await relocateMovedNodes(inventory, failures.map((f) => f.node), ports.locator, ports.reporter) : [];
  if (moved.length === 0) return { failures, moved };
  const found = (f: F) => moved.some((m) => m.hostname === f.node.hostname);
  const again = await connect(failures.filter(found).map((f) => inventory.findNode(f.node.hostname)!));
  return { failures: [...failures.filter((f) => !found(f)), ...again], moved };
}
