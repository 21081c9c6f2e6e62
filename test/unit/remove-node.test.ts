import { describe, expect, it } from 'vitest';
import { planRemoval, type RemovalStep } from '../../cli/core/removal-plan.js';
import { removeNode } from '../../cli/services/swarm/remove-node.js';
import { readSwarmNodes } from '../../cli/services/swarm/swarm-nodes.js';
import { FakeSwarm } from '../helpers/fake-swarm.js';

const ports = { fetchPlatforms: async () => [] };

/** Carries out the plan for `id` as `piswarm node rm` does; returns the steps heard done. */
async function remove(fake: FakeSwarm, id: string, options: { sshReachable: boolean; force: boolean }) {
  const manager = fake.session('m1');
  const nodes = await readSwarmNodes(manager);
  const target = nodes.find((n) => n.id === id)!;
  const plan = planRemoval(target, nodes, options);
  expect(plan.refusal).toBeUndefined();
  const done: string[] = [];
  const events = { step: () => undefined, warn: () => undefined, done: (step: RemovalStep) => void done.push(`${step.kind} ${step.node}`) };
  await removeNode({ manager, nodes: [manager], ...(options.sshReachable ? { own: fake.session(id) } : {}) }, target, plan, { timeoutMs: 5000 }, ports, events);
  return done;
}

describe('node removal through the engine', () => {
  it('removes a manager of three as promote → demote → drain → leave → rm, the service never short', async () => {
    const fake = new FakeSwarm(
      [{ id: 'm1', role: 'manager' }, { id: 'm2', role: 'manager' }, { id: 'm3', role: 'manager' }, { id: 'w1', role: 'worker' }],
      [{ id: 's1', name: 'hello_web', replicas: 2 }, { id: 's2', name: 'hello_solo', replicas: 1 }],
      { s1: ['m1', 'm3'], s2: ['m3'] },
    );
    const done = await remove(fake, 'm3', { sshReachable: true, force: false });
    expect(done).toEqual(['promote w1', 'demote m3', 'drain m3', 'leave m3', 'remove m3']);
    expect(fake.writes).toEqual([
      'node w1 {"role":"manager"}',
      'node m3 {"role":"worker"}',
      'node m3 {"availability":"pause"}',
      'scale hello_solo 2',
      'node m3 {"availability":"drain"}',
      'scale hello_solo 1',
      'leave m3',
      'rm node m3',
    ]);
    expect(fake.nodes.map((n) => `${n.id} ${n.role}`)).toEqual(['m1 manager', 'm2 manager', 'w1 manager']);
    expect(fake.lowest).toEqual({ hello_web: 2, hello_solo: 1 });
  });

  it('forgets a dead worker by force: nothing to drain or leave', async () => {
    const fake = new FakeSwarm([{ id: 'm1', role: 'manager' }, { id: 'w1', role: 'worker', state: 'down' }], []);
    expect(await remove(fake, 'w1', { sshReachable: false, force: true })).toEqual(['remove w1']);
    expect(fake.writes).toEqual(['rm node w1 --force']);
  });

  it('tells a dead manager from its replacement of the same hostname: the new one promoted, the dead one demoted and removed', async () => {
    const fake = new FakeSwarm(
      [{ id: 'm1', role: 'manager' }, { id: 'old', hostname: 'manager-02', role: 'manager', state: 'down' }, { id: 'm3', role: 'manager' }, { id: 'new', hostname: 'manager-02', role: 'worker' }],
      [],
    );
    const manager = fake.session('m1');
    const nodes = await readSwarmNodes(manager);
    const target = nodes.find((n) => n.id === 'old')!;
    const plan = planRemoval({ ...target, reachable: false }, nodes.map((n) => (n.id === 'old' ? { ...n, reachable: false } : n)), { sshReachable: false, force: true, promote: 'manager-02' });
    expect(plan.steps.map((s) => `${s.kind} ${s.node}`)).toEqual(['promote manager-02', 'demote manager-02', 'remove manager-02']);
    await removeNode({ manager, nodes: [manager] }, target, plan, { timeoutMs: 5000 }, ports, { step: () => undefined, warn: () => undefined, done: () => undefined });
    expect(fake.writes).toEqual(['node new {"role":"manager"}', 'node old {"role":"worker"}', 'rm node old --force']);
  });
});
