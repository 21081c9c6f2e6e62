import { localNetworks } from '../adapters/local-networks.js';
import { homeRegistryAccess } from '../adapters/home-registry.js';
import { inspectImage } from '../adapters/registry-client.js';
import { parseImageRef } from '../core/image-ref.js';
import { createSshProber } from '../adapters/tcp-probe.js';
import type { Context } from '../context.js';
import type { Inventory } from '../core/inventory.js';
import { sweepPorts } from '../services/discover.js';
import type { LocatorPorts } from '../services/node-locator.js';
import { resolveSshCredentials } from '../services/ssh-credentials.js';
import { openCluster, type Cluster, type ClusterPorts } from '../services/swarm/cluster.js';
import type { NodeSession } from '../services/swarm/node-session.js';
import { holdSwarmLock, SWARM_LOCK_DEFAULTS } from '../services/swarm/swarm-lock.js';
import { isGoneHere } from '../adapters/run-lock.js';
import { hostname } from 'node:os';

/** How long a node may take to answer at its saved address before piswarm looks for it by MAC. */
const LOCATE_TIMEOUT_MS = 1000;

/** What lets a command find nodes whose address changed, by their MAC, before connecting. */
export function nodeLocator(context: Context, inventory: Inventory): LocatorPorts {
  return { ...sweepPorts(context.runner, createSshProber(inventory.sshDefaults.port, LOCATE_TIMEOUT_MS)), localNetworks };
}

/**
 * Runs `work` with sessions to every node and a manager of the inventory's swarm, closing them
 * after; nodes that moved are followed by MAC first, and their new addresses (and host keys seen
 * for the first time) saved.
 */
export async function withCluster<T>(context: Context, work: (cluster: Cluster, inventory: Inventory) => Promise<T>): Promise<T> {
  const inventory = await context.loadInventory();
  const cluster = await openInventoryCluster(context, inventory);
  try {
    const release = await swarmLock(context, cluster.manager);
    try {
      return await work(cluster, inventory);
    } finally {
      await release();
    }
  } finally {
    cluster.close();
  }
}

/** For a run that changes the cluster: the swarm's lock, held through `manager` (or the one it returns each time); a no-op otherwise. */
export async function swarmLock(context: Context, manager: NodeSession | (() => NodeSession)): Promise<() => Promise<void>> {
  if (!context.changing) return async () => undefined;
  const me = { command: context.changing.command, pid: process.pid, host: hostname(), since: new Date().toISOString() };
  return holdSwarmLock(manager, me, { ...SWARM_LOCK_DEFAULTS, waitMs: context.changing.lockWaitMs, isGone: isGoneHere });
}

/**
 * Sessions to the inventory's nodes and a manager (moved nodes followed first); the caller closes
 * it. New addresses and host keys seen for the first time are saved at once, before any work.
 */
export async function openInventoryCluster(context: Context, inventory: Inventory): Promise<Cluster> {
  const cluster = await openCluster(inventory, await clusterPorts(context, inventory));
  if (cluster.moved.length > 0 || cluster.pinned.length > 0) await context.saveInventory(inventory);
  return cluster;
}

/** How commands reach the inventory's nodes: its key or the agent, host keys checked, moved nodes followed by MAC. */
export async function clusterPorts(context: Context, inventory: Inventory, timeoutMs = 60_000): Promise<ClusterPorts> {
  const credentials = await resolveSshCredentials({ privateKeyPath: inventory.sshDefaults.privateKey });
  return { connector: context.ssh(), credentials, timeoutMs, locator: nodeLocator(context, inventory), reporter: context.reporter };
}

/** Image platforms from their registries, for the checks that compare them with node architectures. */
export const registryPlatforms = {
  inspectImage: readImage,
  fetchPlatforms: async (image: string) => (await readImage(image)).platforms,
};

/** An image's facts from its registry; the home registry through its CA and login. */
async function readImage(image: string) {
  const ref = parseImageRef(image);
  return inspectImage(ref, 10_000, await homeRegistryAccess(ref.registry));
}
