import { describe, expect, it } from 'vitest';
import { holdSwarmLock, SWARM_LOCK_DEFAULTS } from '../../cli/services/swarm/swarm-lock.js';
import { FakeSwarm } from '../helpers/fake-swarm.js';

const holder = (pid: number, host = 'laptop') => ({ command: 'node drain', pid, host, since: '2026-12-01T10:00:00.000Z' });
const options = { ...SWARM_LOCK_DEFAULTS, waitMs: 0, pollMs: 10 };
const swarm = () => new FakeSwarm([{ id: 'm1', role: 'manager' }, { id: 'm2', role: 'manager' }], []);

describe('the swarm lock', () => {
  it('lets one run change the swarm at a time, whichever manager each goes through, and refuses the other naming it', async () => {
    const fake = swarm();
    const release = await holdSwarmLock(fake.session('m1'), holder(100), options);
    const refused = await holdSwarmLock(fake.session('m2'), holder(200, 'desktop'), options).catch((e: Error & { hint?: string }) => e);
    expect(refused.message).toBe('Another piswarm node drain (pid 100 on laptop, since 2026-12-01T10:00:00.000Z) is changing this swarm.');
    expect((refused as { hint?: string }).hint).toContain('docker config rm piswarm-lock (on m2)');
    await release();
    expect(fake.objects).toEqual([]);
    const second = await holdSwarmLock(fake.session('m2'), holder(200, 'desktop'), options);
    await second();
  });

  it('waits for a run that finishes within the wait', async () => {
    const fake = swarm();
    const release = await holdSwarmLock(fake.session('m1'), holder(100), options);
    setTimeout(() => void release(), 100);
    const second = await holdSwarmLock(fake.session('m1'), holder(200), { ...options, waitMs: 5000 });
    expect(fake.objects.map((o) => o.labels['io.piswarm.lock.pid'])).toEqual(['200']);
    await second();
  });

  it('takes over a lock whose holder stopped renewing it, and keeps its own renewed', async () => {
    const fake = swarm();
    fake.objects.push({ kind: 'config', id: 'old', name: 'piswarm-lock', labels: { 'io.piswarm.lock': 'true', 'io.piswarm.lock.pid': '7', 'io.piswarm.lock.renewed': new Date(Date.now() - 61_000).toISOString() } });
    const release = await holdSwarmLock(fake.session('m1'), holder(100), { ...options, renewMs: 20 });
    expect(fake.writes).toEqual(['rm config old', 'create config piswarm-lock']);
    const first = fake.objects[0]!.labels['io.piswarm.lock.renewed']!;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(Date.parse(fake.objects[0]!.labels['io.piswarm.lock.renewed']!)).toBeGreaterThan(Date.parse(first));
    await release();
    expect(fake.objects).toEqual([]);
  });

  it('takes over at once a lock whose holder is known to be gone (died here, its release lost with its connection)', async () => {
    const fake = swarm();
    await holdSwarmLock(fake.session('m1'), holder(100), options);
    const gone = (h: { pid: number; host: string }) => h.host === 'laptop' && h.pid === 100;
    const release = await holdSwarmLock(fake.session('m2'), holder(200), { ...options, isGone: gone });
    expect(fake.objects.map((o) => o.labels['io.piswarm.lock.pid'])).toEqual(['200']);
    await release();
  });

  it('never releases a lock that is not its own', async () => {
    const fake = swarm();
    const release = await holdSwarmLock(fake.session('m1'), holder(100), options);
    // Taken over meanwhile (this run was thought dead): the new holder's lock stays.
    fake.objects[0]!.labels['io.piswarm.lock.pid'] = '300';
    await release();
    expect(fake.objects).toHaveLength(1);
  });
});
