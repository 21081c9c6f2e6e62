import { describeEvent, NODE_RESOURCE_FILES, parseResources, placementGrid, type CpuSample, type DashboardEvent, type DashboardSnapshot, type NodeResources, type QueueView } from '../../core/dashboard.js';
import type { Inventory } from '../../core/inventory.js';
import { nodeRows, tasksPerNode } from '../../core/node-table.js';
import { serviceRows } from '../../core/service-table.js';
import type { Cluster } from '../swarm/cluster.js';
import type { NodeSession } from '../swarm/node-session.js';
import { readServices } from '../swarm/service-state.js';
import { readSwarmNodes } from '../swarm/swarm-nodes.js';

export interface FeedOptions {
  /** How often CPU, memory, temperature (and queues) are read: the slow refresh. */
  resourceMs: number;
  /** At most one read of the swarm per this, however many events arrive. */
  refreshGapMs: number;
  /** How long to wait before trying managers again once none answers. */
  retryMs: number;
  queues?: () => Promise<QueueView[]>;
  /** Each node's worst doctor finding, read at start and every `healthMs` (doctor's checks cost each node two programs). */
  health?: () => Promise<NonNullable<DashboardSnapshot['health']>>;
  healthMs?: number;
}

export interface DashboardFeed {
  snapshot(): DashboardSnapshot;
  /** The manager in use, for actions; undefined while none answers. */
  manager(): NodeSession | undefined;
  cluster(): Cluster;
  /** Adds a line to the event list (an action's outcome). */
  note(event: Omit<DashboardEvent, 'at'>): void;
  /** Reads every node's resources now (the slow refresh does it by itself). */
  readResources(): Promise<void>;
  /** Runs doctor's checks now (the health refresh does it by itself). */
  readHealth(): Promise<void>;
  refresh(): void;
  stop(): Promise<void>;
}

const EVENT_LIMIT = 50;
/**
 * A node's agent reports a task's new state to the managers a little after the container event
 * (a healthchecked task turns "running" after its first healthy check): the swarm is read again
 * this long after the last event, since no event will say so.
 */
const FOLLOW_UPS_MS = [300, 1000];
/** Event streams are restarted after this long, so none outlives a dashboard that died. */
const STREAM_SECONDS = 3600;

/**
 * Keeps a dashboard snapshot current: swarm state re-read (at most every `refreshGapMs`) when any
 * node's engine reports an event, resources read every `resourceMs`, no per-second polling of the
 * cluster. When the manager stops answering, figures are marked stale and the other managers of
 * the inventory are tried, then the whole cluster is opened again.
 */
export function startDashboardFeed(open: () => Promise<Cluster>, first: Cluster, inventory: Inventory, options: FeedOptions, onUpdate: (snapshot: DashboardSnapshot) => void): DashboardFeed {
  let cluster = first;
  let manager: NodeSession | undefined = first.manager;
  let stopped = false;
  let snapshot: DashboardSnapshot = { stale: true, updatedAt: 0, nodes: [], services: [], placement: { services: [], nodes: [], running: [] }, events: [] };
  const resources = new Map<string, NodeResources>();
  const samples = new Map<string, CpuSample>();
  const seenWarnings = new Set<string>();
  let streams: { stop: AbortController; done: Promise<unknown> } | undefined;
  let nodeNames = new Map<string, string>();

  const publish = (change: Partial<DashboardSnapshot>) => {
    snapshot = { ...snapshot, ...change };
    if (!stopped) onUpdate(snapshot);
  };
  const note = (event: Omit<DashboardEvent, 'at'>) => publish({ events: [{ at: Date.now(), ...event }, ...snapshot.events].slice(0, EVENT_LIMIT) });

  async function read(): Promise<void> {
    for (const candidate of managersToTry()) {
      try {
        const [nodes, { services, tasks }] = await Promise.all([readSwarmNodes(candidate), readServices(candidate, 'all', true)]);
        if (candidate !== manager) {
          manager = candidate;
          note({ level: 'warn', text: `reading the swarm through ${candidate.node.hostname} now` });
          watchEvents();
        }
        nodeNames = new Map(nodes.map((n) => [n.id, n.hostname]));
        const { rows, warnings } = nodeRows(nodes, inventory.nodes(), tasksPerNode(tasks));
        for (const warning of warnings.filter((w) => !seenWarnings.has(w))) {
          seenWarnings.add(warning);
          note({ level: 'warn', text: warning });
        }
        publish({
          manager: candidate.node.hostname,
          stale: false,
          problem: undefined,
          updatedAt: Date.now(),
          nodes: rows.map((r) => ({ ...r, ...(resources.has(r.hostname) ? { resources: resources.get(r.hostname) } : {}) })),
          services: serviceRows(services, tasks, nodes),
          placement: placementGrid(services, tasks, nodes),
        });
        return;
      } catch (error) {
        const message = (error as Error).message;
        publish({ stale: true, problem: message.startsWith(`${candidate.node.hostname}:`) ? message : `${candidate.node.hostname}: ${message}` });
      }
    }
    manager = undefined;
    await reopen();
  }

  /** The manager in use first, then every other session that was a manager. */
  function managersToTry(): NodeSession[] {
    const others = cluster.nodes.filter((s) => s !== manager && s.facts.swarm.state === 'manager');
    return [...(manager ? [manager] : []), ...others];
  }

  async function reopen(): Promise<void> {
    if (stopped) return;
    try {
      const next = await open();
      if (stopped) return next.close();
      cluster.close();
      cluster = next;
      manager = next.manager;
      note({ level: 'info', text: `connected again, through ${next.manager.node.hostname}` });
      watchEvents();
      schedule();
    } catch (error) {
      publish({ stale: true, problem: (error as Error).message });
      retryTimer = setTimeout(() => void reopen(), options.retryMs);
    }
  }

  // Reads are throttled: one at a time, at most every refreshGapMs, and one more if asked meanwhile.
  let reading = false;
  let again = false;
  let lastRead = 0;
  let refreshTimer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  function schedule(): void {
    if (stopped || refreshTimer) return;
    if (reading) {
      again = true;
      return;
    }
    refreshTimer = setTimeout(
      async () => {
        refreshTimer = undefined;
        reading = true;
        lastRead = Date.now();
        await read().catch(() => undefined);
        reading = false;
        if (again) {
          again = false;
          schedule();
        }
      },
      Math.max(0, lastRead + options.refreshGapMs - Date.now()),
    );
  }

  let followUps: NodeJS.Timeout[] = [];
  function afterEvent(): void {
    schedule();
    followUps.forEach(clearTimeout);
    followUps = FOLLOW_UPS_MS.map((ms) => setTimeout(schedule, ms));
  }

  function watchEvents(): void {
    streams?.stop.abort();
    const stop = new AbortController();
    const sessions = cluster.nodes;
    const done = Promise.all(
      sessions.map(async (session) => {
        while (!stop.signal.aborted && !stopped) {
          // Swarm-wide events (nodes, services) come from every manager: take them from the one in use.
          const types = session === manager ? ['container', 'service', 'node'] : ['container'];
          const began = Date.now();
          const ran = await session
            .events(
              types,
              STREAM_SECONDS,
              (raw) => {
                const event = describeEvent(raw, (id) => nodeNames.get(id), session.node.hostname);
                if (event) publish({ events: [event, ...snapshot.events].slice(0, EVENT_LIMIT) });
                afterEvent();
              },
              stop.signal,
            )
            .then(
              () => true,
              () => false,
            );
          // A stream that ran its course restarts at once; one that ended early lost its node or
          // manager: look at the swarm, and wait a little before streaming again.
          if (!stop.signal.aborted && !stopped) {
            schedule();
            const lasted = Date.now() - began > STREAM_SECONDS * 500;
            await new Promise((resolve) => setTimeout(resolve, ran && lasted ? 0 : options.retryMs));
          }
        }
      }),
    );
    streams = { stop, done };
  }

  async function readResources(): Promise<void> {
    await Promise.all(
      cluster.nodes.map(async (session) => {
        const name = session.node.hostname;
        try {
          const files = await session.readFiles(NODE_RESOURCE_FILES);
          const parsed = parseResources(files.filter((f) => f !== undefined).join('\n'), samples.get(name));
          if (parsed.sample) samples.set(name, parsed.sample);
          resources.set(name, parsed.resources);
        } catch {
          resources.delete(name);
        }
      }),
    );
    const queues = options.queues ? await options.queues().catch(() => undefined) : undefined;
    publish({
      nodes: snapshot.nodes.map(({ resources: _old, ...row }) => ({ ...row, ...(resources.has(row.hostname) ? { resources: resources.get(row.hostname) } : {}) })),
      ...(queues ? { queues } : {}),
    });
  }

  async function readHealth(): Promise<void> {
    if (!options.health) return;
    const health = await options.health().catch(() => undefined);
    if (health) publish({ health });
  }

  watchEvents();
  schedule();
  void readResources();
  const resourceTimer = setInterval(() => void readResources(), options.resourceMs);
  void readHealth();
  const healthTimer = options.health ? setInterval(() => void readHealth(), options.healthMs ?? 300_000) : undefined;

  return {
    snapshot: () => snapshot,
    manager: () => manager,
    cluster: () => cluster,
    note,
    readResources,
    readHealth,
    refresh: schedule,
    async stop() {
      stopped = true;
      clearInterval(resourceTimer);
      clearInterval(healthTimer);
      clearTimeout(refreshTimer);
      clearTimeout(retryTimer);
      followUps.forEach(clearTimeout);
      streams?.stop.abort();
      await streams?.done;
      cluster.close();
    },
  };
}
