import { describe, expect, it } from 'vitest';
import type { Cluster } from '../../cli/services/swarm/cluster.js';
import { loginManagers, prepareRegistryNodes } from '../../cli/services/swarm/home-registry.js';
import { FakeSwarm } from '../helpers/fake-swarm.js';

/** The fake swarm's nodes as an open cluster, each shell recording what it ran and was given. */
function cluster() {
  const fake = new FakeSwarm([{ id: 'm1', role: 'manager' }, { id: 'w1', role: 'worker' }], []);
  const ran: Array<{ node: string; script: string; input?: string }> = [];
  // Each node's shell says it changed something, as on a first run.
  const nodes = ['m1', 'w1'].map((id) =>
    fake.session(id, async (script, options) => {
      ran.push({ node: id, script, input: options?.input });
      return { code: 0, stdout: 'changed\n', stderr: '' };
    }),
  );
  return { fake, ran, cluster: { manager: nodes[0]!, nodes, unreachable: [], moved: [], pinned: [], close: () => undefined } satisfies Cluster };
}

describe('the home registry on the swarm', () => {
  it("labels the registry's node through the engine, and every node trusts the home CA for its names", async () => {
    const { fake, ran, cluster: c } = cluster();
    const changes = await prepareRegistryNodes(c, { node: 'w1', names: ['w1', '10.0.0.12'], caCertificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' });
    expect(fake.writes).toEqual(['node w1 {"addLabels":{"registry":"true"}}']);
    expect(changes).toEqual(['w1 labelled registry=true', 'm1 trusts the home CA', 'w1 trusts the home CA']);
    expect(ran.map((r) => r.node)).toEqual(['m1', 'w1']);
    expect(ran.every((r) => r.input?.startsWith('-----BEGIN CERTIFICATE-----'))).toBe(true);
  });

  it('refuses a node that is not in the swarm, changing nothing', async () => {
    const { fake, ran, cluster: c } = cluster();
    await expect(prepareRegistryNodes(c, { node: 'nope', names: ['nope'], caCertificate: '' })).rejects.toThrow('nope did not answer as a swarm node');
    expect([fake.writes, ran]).toEqual([[], []]);
  });

  it('logs every manager in with the password on standard input only', async () => {
    const { ran, cluster: c } = cluster();
    expect(await loginManagers(c, ['w1'], 'piswarm', 'pa55-word')).toEqual(['m1 logged in']);
    expect(ran).toHaveLength(1);
    expect(ran[0]!.input).toBe('pa55-word\n');
    expect(ran[0]!.script).not.toContain('pa55-word');
  });
});
