import { describe, expect, it } from 'vitest';
import { Inventory } from '../../cli/core/inventory.js';
import { openCluster } from '../../cli/services/swarm/cluster.js';
import { fakeConnector, FakeSwarm } from '../helpers/fake-swarm.js';

const MAC = { m1: 'b8:27:eb:00:00:01', w1: 'b8:27:eb:00:00:03' };
const inventory = () => Inventory.parse('piswarm.yaml', `cluster:\n  swarmId: c1\nnodes:\n  ${MAC.m1}:\n    hostname: m1\n    ip: 10.0.0.11\n    role: manager\n  ${MAC.w1}:\n    hostname: w1\n    ip: 10.0.0.13\n    role: worker\n`);
const reporter = () => {
  const warned: string[] = [];
  return { warned, reporter: { step: () => undefined, warn: (m: string) => void warned.push(m), debug: () => undefined } as never };
};

/** The LAN as the locator sees it: hosts by address with their MACs; every probe recorded. */
function lan(hosts: Record<string, string>) {
  const probed: string[] = [];
  return {
    probed,
    locator: {
      probe: async (ip: string) => {
        probed.push(ip);
        return { ip, state: hosts[ip] ? ('ssh' as const) : ('silent' as const) };
      },
      neighbours: async () => new Map(Object.entries(hosts)),
      prepare: async () => undefined,
      localNetworks: () => [{ interface: 'eth0', cidr: '10.0.0.5/24' }],
    },
  };
}

describe('opening the cluster', () => {
  const fake = new FakeSwarm([{ id: 'm1', role: 'manager' }, { id: 'w1', role: 'worker' }], []);

  it('connects straight to the saved addresses, and probes nothing when every node answers there', async () => {
    const { connector, openApi } = fakeConnector(fake, { '10.0.0.11': 'm1', '10.0.0.13': 'w1' });
    const { probed, locator } = lan({ '10.0.0.11': MAC.m1, '10.0.0.13': MAC.w1 });
    const cluster = await openCluster(inventory(), { connector, openApi, credentials: {}, timeoutMs: 1000, locator, ...reporter() });
    expect(cluster.nodes.map((n) => n.node.hostname)).toEqual(['m1', 'w1']);
    expect(cluster.manager.node.hostname).toBe('m1');
    expect(probed).toEqual([]);
    cluster.close();
  });

  it('looks for a node that does not answer by its MAC, follows it to its new address, and says so', async () => {
    const { connector, openApi, tried } = fakeConnector(fake, { '10.0.0.11': 'm1', '10.0.0.43': 'w1' });
    const { locator } = lan({ '10.0.0.11': MAC.m1, '10.0.0.43': MAC.w1 });
    const inv = inventory();
    const { warned, reporter: quiet } = reporter();
    const cluster = await openCluster(inv, { connector, openApi, credentials: {}, timeoutMs: 1000, locator, reporter: quiet });
    expect(cluster.moved).toEqual([{ hostname: 'w1', from: '10.0.0.13', to: '10.0.0.43' }]);
    expect(cluster.unreachable).toEqual([]);
    expect(cluster.nodes.map((n) => `${n.node.hostname} ${n.node.ip}`)).toEqual(['m1 10.0.0.11', 'w1 10.0.0.43']);
    expect(tried.sort()).toEqual(['10.0.0.11', '10.0.0.13', '10.0.0.43']);
    expect(inv.findNode('w1')?.ip).toBe('10.0.0.43');
    expect(warned[0]).toContain('w1 moved 10.0.0.13 → 10.0.0.43');
    cluster.close();
  });
});
