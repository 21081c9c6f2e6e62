import { describe, expect, it } from 'vitest';
import { activateNode, drainNode } from '../../cli/services/swarm/drain-node.js';
import { readSwarmNodes } from '../../cli/services/swarm/swarm-nodes.js';
import type { NodeSession } from '../../cli/services/swarm/node-session.js';
import { FakeSwarm } from '../helpers/fake-swarm.js';
import { sessionOver } from '../helpers/fake-session.js';

const options = { force: false, surge: false, timeoutMs: 5000, dryRun: false };
const ports = { fetchPlatforms: async () => [] };
const events = () => {
  const said: string[] = [];
  return { said, step: (m: string) => void said.push(`step ${m}`), warn: (m: string) => void said.push(`warn ${m}`) };
};
const target = async (manager: NodeSession, id: string) => (await readSwarmNodes(manager)).find((n) => n.id === id)!;

/** m1 manages; w1 and w2 work. web has a task on each worker, solo has its only task on w1. */
function swarm() {
  return new FakeSwarm(
    [{ id: 'm1', role: 'manager' }, { id: 'w1', role: 'worker' }, { id: 'w2', role: 'worker' }],
    [{ id: 's1', name: 'hello_web', replicas: 2 }, { id: 's2', name: 'hello_solo', replicas: 1 }],
    { s1: ['w1', 'w2'], s2: ['w1'] },
  );
}

describe('node drain through the engine', () => {
  it('drains, then waits until every task the node had runs elsewhere', async () => {
    const fake = swarm();
    const manager = fake.session('m1');
    const heard = events();
    const result = await drainNode(manager, [manager], await target(manager, 'w1'), options, ports, heard);
    expect(fake.writes).toEqual(['node w1 {"availability":"drain"}']);
    expect(fake.placement()).toEqual({ hello_web: 'm1 w2', hello_solo: 'm1' });
    expect(result.surged).toEqual([]);
    // Without --surge, the service that lives only on the node is named as one that stops for a moment.
    expect(heard.said.find((m) => m.startsWith('warn'))).toContain('hello_solo has all its 1 task(s) on w1');
  });

  it('with --surge, a service whose every task is on the node scales up elsewhere first, so it never stops', async () => {
    const fake = swarm();
    const manager = fake.session('m1');
    const result = await drainNode(manager, [manager], await target(manager, 'w1'), { ...options, surge: true }, ports, events());
    expect(fake.writes).toEqual(['node w1 {"availability":"pause"}', 'scale hello_solo 2', 'node w1 {"availability":"drain"}', 'scale hello_solo 1']);
    expect(result.surged).toEqual(['hello_solo']);
    expect(fake.lowest.hello_solo).toBe(1);
    expect(fake.placement().hello_solo).not.toContain('w1');
  });

  it('finishes the drain of a node that died during it once the managers see it down, its silent tasks not waited for', async () => {
    const fake = swarm();
    fake.dead.add('w1');
    const manager = fake.session('m1');
    const heard = events();
    // The managers notice a dead node after some heartbeats; until then its tasks still look running.
    setTimeout(() => fake.markDown('w1'), 300);
    const result = await drainNode(manager, [manager], await target(manager, 'w1'), { ...options, timeoutMs: 3000 }, ports, heard);
    expect(result.seconds).toBeGreaterThanOrEqual(0.3);
    expect(fake.placement()).toEqual({ hello_web: 'm1 w2', hello_solo: 'm1' });
    expect(heard.said).toContain('warn w1 is down: its tasks cannot say they stopped, so they are not waited for (they stop for good when it comes back, drained).');
  });

  it('finishes a --surge drain that was cut short after its scale-up: the next drain scales back to the replicas before it', async () => {
    const fake = swarm();
    const api = fake.api('m1');
    let lost = true;
    // The connection goes just as the drain itself is asked for: the service is already scaled up.
    const cutShort = sessionOver({ ...api, updateNode: async (id, change) => (change.availability === 'drain' && lost ? Promise.reject(new Error('socket hang up')) : api.updateNode!(id, change)) }, 'm1');
    await expect(drainNode(cutShort, [cutShort], await target(cutShort, 'w1'), { ...options, surge: true }, ports, events())).rejects.toThrow('socket hang up');
    expect(fake.services.find((s) => s.name === 'hello_solo')).toMatchObject({ replicas: 2, labels: { 'io.piswarm.surge': 'w1:1' } });

    lost = false;
    const manager = fake.session('m1');
    const heard = events();
    await drainNode(manager, [manager], await target(manager, 'w1'), options, ports, heard);
    expect(heard.said).toContain('warn hello_solo was left scaled up by a drain of w1 cut short: it goes back to 1 once w1 is drained.');
    expect(fake.services.find((s) => s.name === 'hello_solo')).toMatchObject({ replicas: 1, labels: {} });
    expect(fake.lowest.hello_solo).toBe(1);
    expect(fake.placement().hello_solo).not.toContain('w1');
  });

  it('refuses a drain that leaves tasks nowhere to run, and changes nothing', async () => {
    const fake = new FakeSwarm([{ id: 'm1', role: 'manager', availability: 'drain' }, { id: 'w1', role: 'worker' }], [{ id: 's1', name: 'hello_web', replicas: 2 }], { s1: ['w1', 'w1'] });
    const manager = fake.session('m1');
    await expect(drainNode(manager, [manager], await target(manager, 'w1'), options, ports, events())).rejects.toThrow('Draining w1 would leave tasks with nowhere to run');
    expect(fake.writes).toEqual([]);
  });

  it('plans a dry run without writing anything', async () => {
    const fake = swarm();
    const manager = fake.session('m1');
    const result = await drainNode(manager, [manager], await target(manager, 'w1'), { ...options, surge: true, dryRun: true }, ports, events());
    expect(result.surged).toEqual(['hello_solo']);
    expect(fake.writes).toEqual([]);
  });

  it('activates a drained node, and says so only when it was not active', async () => {
    const fake = new FakeSwarm([{ id: 'm1', role: 'manager' }, { id: 'w1', role: 'worker', availability: 'drain' }], []);
    const manager = fake.session('m1');
    expect(await activateNode(manager, await target(manager, 'w1'))).toBe(true);
    expect(await activateNode(manager, await target(manager, 'w1'))).toBe(false);
    expect(fake.writes).toEqual(['node w1 {"availability":"active"}']);
  });
});
