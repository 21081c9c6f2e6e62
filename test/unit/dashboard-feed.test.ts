import { describe, expect, it } from 'vitest';
import type { DashboardSnapshot } from '../../cli/core/dashboard.js';
import { Inventory } from '../../cli/core/inventory.js';
import { startDashboardFeed } from '../../cli/services/dashboard/dashboard-feed.js';
import type { Cluster } from '../../cli/services/swarm/cluster.js';
import type { NodeSession } from '../../cli/services/swarm/node-session.js';
import type { SwarmApi } from '../../cli/core/swarm-api.js';
import { until } from '../helpers/wait.js';

/**
 * The feed against fake manager sessions whose engines answer (one node, one service) until they
 * are told to fail: enough to see stale marking and the fallback to another
 * manager without a lab (the lab tests run the real thing).
 */
function fakeManager(hostname: string, state: { down: boolean }): NodeSession {
  const node = { ID: 'n1', Description: { Hostname: 'pi-01', Platform: { Architecture: 'aarch64' } }, Spec: { Role: 'manager', Availability: 'active' }, Status: { State: 'ready' }, ManagerStatus: { Leader: true, Reachability: 'reachable' } };
  const service = { ID: 's1', Spec: { Name: 'hello_web', Mode: { Replicated: { Replicas: 1 } }, TaskTemplate: { ContainerSpec: { Image: 'hello:1' } } } };
  const task = { ID: 't1', ServiceID: 's1', NodeID: 'n1', DesiredState: 'running', Status: { State: 'running', Timestamp: '2026-11-23T12:00:00Z' } };
  return {
    node: { hostname, mac: `mac-${hostname}` },
    facts: { swarm: { state: 'manager', clusterId: 'c', nodeId: `id-${hostname}` } },
    async engine<T>(step: string, request: (api: Partial<SwarmApi>) => Promise<T>) {
      if (state.down) throw new Error(`${hostname}: can't ${step}: connection lost`);
      return request({ nodes: async () => [node], services: async () => [service], tasks: async () => [task] });
    },
    async readFiles() {
      if (state.down) throw new Error(`${hostname}: connection lost`);
      return ['cpu  1 0 1 8 0 0 0 0', 'MemTotal: 100 kB\nMemAvailable: 50 kB', undefined];
    },
    async events(_types: string[], _seconds: number, _onEvent: unknown, signal: AbortSignal) {
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
    },
    close: () => undefined,
  } as unknown as NodeSession;
}


describe('dashboard feed', () => {
  it('marks figures stale when the manager stops answering, then reads through another manager', async () => {
    const first = { down: false };
    const second = { down: false };
    const m1 = fakeManager('pi-01', first);
    const m2 = fakeManager('pi-02', second);
    const cluster = { manager: m1, nodes: [m1, m2], unreachable: [], moved: [], close: () => undefined } as Cluster;
    const seen: DashboardSnapshot[] = [];
    // Opening the cluster again fails while no manager answers, as openCluster does.
    const open = async () => {
      if (first.down && second.down) throw new Error('No reachable swarm manager.');
      return cluster;
    };
    const feed = startDashboardFeed(open, cluster, Inventory.empty('piswarm.yaml'), { resourceMs: 60_000, refreshGapMs: 0, retryMs: 50 }, (s) => seen.push(s));
    try {
      await until(() => feed.snapshot().services.length === 1, 10_000, 'the first snapshot', 10);
      expect(feed.snapshot()).toMatchObject({ manager: 'pi-01', stale: false, services: [{ name: 'hello_web', running: 1, desired: 1 }] });

      first.down = true;
      feed.refresh();
      await until(() => feed.snapshot().manager === 'pi-02', 10_000, 'the feed to read through pi-02', 10);
      expect(seen.some((s) => s.stale && /^pi-01: can't [a-z ]+: connection lost$/.test(s.problem ?? ''))).toBe(true);
      expect(feed.snapshot().stale).toBe(false);
      expect(feed.snapshot().events[0]?.text).toBe('reading the swarm through pi-02 now');

      second.down = true;
      feed.refresh();
      await until(() => feed.snapshot().problem === 'No reachable swarm manager.', 10_000, 'the problem to be shown', 10);
      expect(feed.snapshot().stale).toBe(true);
      expect(feed.manager()).toBeUndefined();
      // The last figures stay on screen, marked stale.
      expect(feed.snapshot().services).toHaveLength(1);

      // The cluster opened again answers: the figures are current once more.
      first.down = false;
      second.down = false;
      await until(() => !feed.snapshot().stale, 10_000, 'fresh figures', 10);
      expect(feed.snapshot().events[0]?.text).toMatch(/connected again, through pi-01/);
    } finally {
      await feed.stop();
    }
  });

  it("runs doctor's checks at start and every healthMs, and shows each node's worst finding", async () => {
    const m1 = fakeManager('pi-01', { down: false });
    const cluster = { manager: m1, nodes: [m1], unreachable: [], moved: [], close: () => undefined } as unknown as Cluster;
    let runs = 0;
    const health = async () => ({ 'pi-01': runs++ === 0 ? { status: 'warn' as const, text: 'log-rotation' } : { status: 'ok' as const, text: 'ok' } });
    const feed = startDashboardFeed(async () => cluster, cluster, Inventory.empty('piswarm.yaml'), { resourceMs: 60_000, refreshGapMs: 0, retryMs: 50, health, healthMs: 100 }, () => undefined);
    try {
      await until(() => feed.snapshot().health?.['pi-01']?.text === 'log-rotation', 5000, 'the first doctor run', 10);
      await until(() => feed.snapshot().health?.['pi-01']?.status === 'ok', 5000, 'the next doctor run', 10);
      expect(runs).toBeGreaterThanOrEqual(2);
    } finally {
      await feed.stop();
    }
  });
});
