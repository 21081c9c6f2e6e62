import { render, renderToString } from 'ink';
import { amqpQueueReader } from '../adapters/amqp-queues.js';
import type { Context } from '../context.js';
import type { DashboardSnapshot } from '../core/dashboard.js';
import { worstFinding } from '../core/doctor/checks.js';
import type { Inventory } from '../core/inventory.js';
import { findSwarmNode } from '../core/node-table.js';
import { ExitCode, UsageError } from '../errors.js';
import { printJson, printLines } from '../io.js';
import { startDashboardFeed, type DashboardFeed } from '../services/dashboard/dashboard-feed.js';
import { checkNodes } from '../services/doctor.js';
import { activateNode, drainNode } from '../services/swarm/drain-node.js';
import { scaleServices } from '../services/swarm/scale-services.js';
import { serviceLogs } from '../services/swarm/service-logs.js';
import type { NodeSession } from '../services/swarm/node-session.js';
import { readSwarmNodes } from '../services/swarm/swarm-nodes.js';
import { DashboardApp, type DashboardActions } from '../ui/dashboard/dashboard-app.js';
import { DashboardView } from '../ui/dashboard/panels.js';
import { clusterPorts, openInventoryCluster, registryPlatforms } from './cluster-access.js';
import { parseIntegerFlag } from './parse.js';

export interface DashboardFlags {
  once: boolean;
  refresh: string;
  amqpUrl?: string;
  queue: string[];
  doctor: boolean;
}

/** How often the dashboard runs doctor's checks (each run starts two programs on every node). */
const DOCTOR_EVERY_MS = 300_000;

/** Each node's worst doctor finding, from doctor's own connections (a node down is its ssh finding). */
function doctorHealth(context: Context, inventory: Inventory) {
  return async () => {
    // No search by MAC: every 5 minutes, a node that is down would cost a sweep of the LAN.
    const ports = { ...(await clusterPorts(context, inventory, 30_000)), locator: undefined };
    const reports = await checkNodes(inventory, inventory.nodes().filter((n) => n.ip), ports);
    return Object.fromEntries(reports.map((r) => [r.node, worstFinding(r)]));
  };
}

export async function dashboardAction(context: Context, flags: DashboardFlags): Promise<number> {
  const resourceMs = parseIntegerFlag('--refresh', flags.refresh, 1, 3600) * 1000;
  // A broker password given on the command line is seen by every user in ps and kept in shell history.
  if (flags.amqpUrl && flags.amqpUrl !== process.env.AMQP_URL && /^amqps?:\/\/[^/@]*:[^/@]*@/.test(flags.amqpUrl)) {
    throw new UsageError('--amqp-url takes no password: on the command line it is seen by every user in ps and kept in shell history.', 'Set AMQP_URL=amqp://USER:PASSWORD@HOST:5672 in the environment instead (or give --amqp-url without the password part).');
  }
  const inventory = await context.loadInventory();
  const open = () => openInventoryCluster(context, inventory);
  const queues = flags.amqpUrl ? amqpQueueReader(flags.amqpUrl, flags.queue) : undefined;
  const live = !flags.once && !context.io.json && Boolean(process.stdout.isTTY);
  const listeners = new Set<(s: DashboardSnapshot) => void>();
  let firstRead: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (firstRead = resolve));
  const health = flags.doctor ? doctorHealth(context, inventory) : undefined;
  const feed = startDashboardFeed(open, await open(), inventory, { resourceMs, refreshGapMs: 200, retryMs: 3000, ...(queues ? { queues: queues.read } : {}), ...(health ? { health, healthMs: DOCTOR_EVERY_MS } : {}) }, (snapshot) => {
    if (snapshot.updatedAt > 0 || snapshot.stale) firstRead();
    for (const listener of listeners) listener(snapshot);
  });
  try {
    if (!live) {
      // One look: the swarm, then every node's resources (CPU needs a second sample, a second later).
      await ready;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await Promise.all([feed.readResources(), feed.readHealth()]);
      const snapshot = feed.snapshot();
      if (context.io.json) printJson(context.io, snapshot);
      else printLines(context.io, renderToString(<DashboardView snapshot={snapshot} />, { columns: process.stdout.columns || 160 }));
      return snapshot.stale ? ExitCode.failed : ExitCode.ok;
    }
    const subscribe = (listener: (s: DashboardSnapshot) => void) => {
      listeners.add(listener);
      listener(feed.snapshot());
      return () => void listeners.delete(listener);
    };
    const app = render(<DashboardApp initial={feed.snapshot()} subscribe={subscribe} actions={dashboardActions(feed)} />, { maxFps: 20, exitOnCtrlC: true, patchConsole: false });
    await app.waitUntilExit();
    return ExitCode.ok;
  } finally {
    await feed.stop();
    await queues?.close();
  }
}

/** The keys' actions, through the same services as `service scale`, `node drain` and `logs`; outcomes go to the event list. */
function dashboardActions(feed: DashboardFeed): DashboardActions {
  const withManager = (what: string, work: (manager: NodeSession) => Promise<string>) => {
    const manager = feed.manager();
    if (!manager) return feed.note({ level: 'error', text: `can't ${what}: no manager answers` });
    feed.note({ level: 'info', text: `${what}…` });
    void work(manager).then(
      (done) => {
        feed.note({ level: 'info', text: done });
        feed.refresh();
      },
      (error: Error) => feed.note({ level: 'error', text: `${what} failed: ${error.message}` }),
    );
  };
  const target = async (manager: NodeSession, hostname: string) => findSwarmNode(await readSwarmNodes(manager), [], hostname);
  const events = { step: (text: string) => feed.note({ level: 'info', text }), warn: (text: string) => feed.note({ level: 'warn', text }) };
  return {
    scale: (service, replicas) =>
      withManager(`scale ${service} to ${replicas}`, async (manager) => {
        const result = await scaleServices(manager, feed.cluster().nodes, [{ name: service, replicas }], { timeoutMs: 300_000, windowMs: 0, failLimit: 3 }, { progress: () => feed.refresh() });
        return `${service}: ${replicas} running (${result.seconds.toFixed(1)} s)`;
      }),
    drain: (hostname) =>
      withManager(`drain ${hostname}`, async (manager) => {
        const result = await drainNode(manager, feed.cluster().nodes, await target(manager, hostname), { force: false, surge: true, timeoutMs: 300_000, dryRun: false }, registryPlatforms, events);
        return `${hostname} drained in ${result.seconds.toFixed(1)} s`;
      }),
    activate: (hostname) =>
      withManager(`activate ${hostname}`, async (manager) => ((await activateNode(manager, await target(manager, hostname))) ? `${hostname} is active` : `${hostname} was already active`)),
    async logs(service) {
      const manager = feed.manager();
      if (!manager) return ['no manager answers'];
      try {
        const lines: string[] = [];
        await serviceLogs(manager, service, { follow: false, tail: 12 }, (line) => lines.push(line), new AbortController().signal);
        return lines.slice(-12);
      } catch (error) {
        return [(error as Error).message];
      }
    },
  };
}
