import { describe, expect, it } from 'vitest';
import type { ExecResult } from '../../cli/adapters/ssh.js';
import { planUpgrade } from '../../cli/core/upgrade-plan.js';
import { Inventory } from '../../cli/core/inventory.js';
import type { NodeSession } from '../../cli/services/swarm/node-session.js';
import { readSwarmNodes } from '../../cli/services/swarm/swarm-nodes.js';
import { readUpgradeRecord, type UpgradeRecord } from '../../cli/services/swarm/upgrade-record.js';
import { managerFor, runUpgrade, type UpgradeOptions } from '../../cli/services/swarm/upgrade.js';
import { FakeSwarm } from '../helpers/fake-swarm.js';

const options: UpgradeOptions = { action: 'echo upgrade', script: 'echo upgrade', reboot: 'when-needed', surge: false, drainTimeoutMs: 5000, actionTimeoutMs: 5000, bootTimeoutMs: 5000 };
const ports = { reconnect: async () => Promise.reject(new Error('no reboot here')), check: async () => [], fetchPlatforms: async () => [], pollMs: 10 };
const events = () => {
  const said: string[] = [];
  return { said, step: (m: string) => void said.push(m), warn: (m: string) => void said.push(`warn ${m}`) };
};

/** m1 leads m2 and m3; w1 works. web has 2 tasks, on w1 and m2. */
function swarm() {
  return new FakeSwarm(
    [{ id: 'm1', role: 'manager' }, { id: 'm2', role: 'manager' }, { id: 'm3', role: 'manager' }, { id: 'w1', role: 'worker' }],
    [{ id: 's1', name: 'hello_web', replicas: 2 }],
    { s1: ['w1', 'm2'] },
  );
}

/** Every node's session; the action fails on the nodes in `failing`, and no node needs a reboot. */
function sessions(fake: FakeSwarm, failing: Set<string>, ran: string[]): NodeSession[] {
  return fake.nodes.map((n) =>
    fake.session(n.id, async (script): Promise<ExecResult> => {
      if (script === 'echo upgrade') {
        ran.push(n.id);
        return failing.has(n.id) ? { code: 1, stdout: '', stderr: 'E: Could not get lock /var/lib/dpkg/lock-frontend' } : { code: 0, stdout: 'upgrade\n', stderr: '' };
      }
      return { code: 0, stdout: 'no\n', stderr: '' };
    }),
  );
}

const inventory = (fake: FakeSwarm) => Inventory.parse('piswarm.yaml', `nodes:\n${fake.nodes.map((n, i) => `  "b8:27:eb:00:00:${11 + i}": { hostname: ${n.id}, ip: 10.0.0.${11 + i} }\n`).join('')}`);
const fresh = (): UpgradeRecord => ({ action: 'k', done: new Set() });

describe('the upgrade plan', () => {
  it('goes workers first, managers next, the leader last with its leadership moved away', async () => {
    const fake = swarm();
    const plan = planUpgrade(await readSwarmNodes(fake.session('m1')), { only: [], reboot: 'when-needed', done: new Set() });
    expect(plan.order.map((n) => n.hostname)).toEqual(['w1', 'm2', 'm3', 'm1']);
    expect(plan.order[3]!.steps).toEqual(['demote', 'drain', 'run', 'reboot', 'wait', 'check', 'activate', 'promote']);
    expect(plan.order[0]!.steps).toEqual(['drain', 'run', 'reboot', 'wait', 'check', 'activate']);
  });

  it('refuses a swarm with a node down, or 2 managers (one upgraded loses quorum), and says nothing changed', async () => {
    const fake = swarm();
    fake.markDown('w1');
    expect(planUpgrade(await readSwarmNodes(fake.session('m1')), { only: [], reboot: 'always', done: new Set() }).refusal?.message).toBe('w1 is down: an upgrade takes one node at a time out of a healthy swarm only.');
    const two = new FakeSwarm([{ id: 'm1', role: 'manager' }, { id: 'm2', role: 'manager' }], []);
    expect(planUpgrade(await readSwarmNodes(two.session('m1')), { only: [], reboot: 'always', done: new Set() }).refusal?.message).toBe('With 2 managers, upgrading one loses quorum (1 of 2 left, 2 needed).');
  });
});

describe('a rolling upgrade through the engine', () => {
  it('upgrades every node in order, the service never short of a task, every node active and the leader a manager again', async () => {
    const fake = swarm();
    const ran: string[] = [];
    const all = sessions(fake, new Set(), ran);
    const plan = planUpgrade(await readSwarmNodes(all[0]!), { only: [], reboot: 'when-needed', done: new Set() });
    const done = await runUpgrade(all, inventory(fake), plan, fresh(), options, ports, events());
    expect(ran).toEqual(['w1', 'm2', 'm3', 'm1']);
    expect(done.map((d) => d.node)).toEqual(['w1', 'm2', 'm3', 'm1']);
    expect(fake.lowest.hello_web).toBeGreaterThanOrEqual(1);
    expect(fake.nodes.map((n) => `${n.id} ${n.role} ${n.availability}`)).toEqual(['m1 manager active', 'm2 manager active', 'm3 manager active', 'w1 worker active']);
    // The leader was demoted before its drain and promoted after its activation, through another manager.
    const m1 = fake.writes.filter((w) => w.startsWith('node m1'));
    expect(m1).toEqual(['node m1 {"role":"worker"}', 'node m1 {"availability":"drain"}', 'node m1 {"availability":"active"}', 'node m1 {"role":"manager"}']);
    expect(await readUpgradeRecord(all[1]!)).toBeUndefined();
    // Requests (and the swarm lock's renewals) go through a manager other than the one being upgraded.
    expect(managerFor(all, { busy: 'm1' }).node.hostname).toBe('m2');
    expect(managerFor(all, {}).node.hostname).toBe('m1');
  });

  it('stops at the first failure with that node drained, and the same upgrade again resumes there', async () => {
    const fake = swarm();
    const ran: string[] = [];
    const failing = new Set(['m2']);
    const all = sessions(fake, failing, ran);
    const record = fresh();
    const plan = planUpgrade(await readSwarmNodes(all[0]!), { only: [], reboot: 'when-needed', done: record.done });
    const error = await runUpgrade(all, inventory(fake), plan, record, options, ports, events()).catch((e: Error & { hint?: string }) => e);
    expect(error.message).toBe('Upgrade stopped at m2, step "run": m2: can\'t run the upgrade (echo upgrade): E: Could not get lock /var/lib/dpkg/lock-frontend');
    expect((error as { hint?: string }).hint).toContain('m2 is left drained. Done: w1. Once it is fixed, run the same command again: it resumes at m2.');
    expect(fake.nodes.find((n) => n.id === 'm2')!.availability).toBe('drain');
    expect(ran).toEqual(['w1', 'm2']);

    // The record in the swarm says how far it got; a rerun (from another machine, say) reads it.
    const kept = (await readUpgradeRecord(all[0]!))!;
    expect([...kept.done]).toEqual(['w1']);
    expect(kept.current).toBe('m2');
    failing.clear();
    const again = planUpgrade(await readSwarmNodes(all[0]!), { only: [], reboot: 'when-needed', done: kept.done, current: kept.current });
    expect(again.skipped).toEqual(['w1']);
    expect(again.order.map((n) => n.hostname)).toEqual(['m2', 'm3', 'm1']);
    // Another action starts afresh, but the node the stopped run drained goes first, so its capacity is back before the next drain.
    const other = planUpgrade(await readSwarmNodes(all[0]!), { only: [], reboot: 'when-needed', done: new Set(), current: kept.current });
    expect(other.order.map((n) => n.hostname)).toEqual(['m2', 'w1', 'm3', 'm1']);
    // And whatever --only says: nothing else would bring it back.
    expect(planUpgrade(await readSwarmNodes(all[0]!), { only: ['w1'], reboot: 'when-needed', done: new Set(), current: kept.current }).order.map((n) => n.hostname)).toEqual(['m2', 'w1']);
    // m2 was drained by the upgrade, not by hand: it is activated at the end.
    expect(again.order[0]!.keepDrained).toBe(false);
    await runUpgrade(all, inventory(fake), again, kept, options, ports, events());
    expect(ran).toEqual(['w1', 'm2', 'm2', 'm3', 'm1']);
    expect(fake.nodes.every((n) => n.availability === 'active')).toBe(true);
    expect(await readUpgradeRecord(all[0]!)).toBeUndefined();
  });

  it('a leader that fails after its demotion is promoted back by the rerun', async () => {
    const fake = swarm();
    const ran: string[] = [];
    const all = sessions(fake, new Set(['m1']), ran);
    const record = fresh();
    const plan = planUpgrade(await readSwarmNodes(all[0]!), { only: ['m1'], reboot: 'when-needed', done: record.done });
    const error = await runUpgrade(all, inventory(fake), plan, record, options, ports, events()).catch((e: Error & { hint?: string }) => e);
    expect((error as { hint?: string }).hint).toContain('m1 is left drained, a worker until the rerun promotes it back.');
    expect(fake.nodes.find((n) => n.id === 'm1')!.role).toBe('worker');
    const kept = (await readUpgradeRecord(all[1]!))!;
    expect(kept.demoted).toBe('m1');
    const again = planUpgrade(await readSwarmNodes(all[1]!), { only: ['m1'], reboot: 'when-needed', done: kept.done, current: kept.current, demoted: kept.demoted });
    expect(again.order[0]!.steps).toEqual(['drain', 'run', 'reboot', 'wait', 'check', 'activate', 'promote']);
    const fixed = sessions(fake, new Set(), ran);
    await runUpgrade(fixed, inventory(fake), again, kept, options, ports, events());
    expect(fake.nodes.find((n) => n.id === 'm1')).toMatchObject({ role: 'manager', availability: 'active' });
  });

  it("stops at a node that comes back failing doctor's checks, leaving it drained", async () => {
    const fake = swarm();
    const all = sessions(fake, new Set(), []);
    const failing = { id: 'docker', title: 'Docker running', status: 'fail' as const, found: 'Docker does not answer: socket hang up', why: '', fix: 'Start it.' };
    const checking = { ...ports, check: async (node: { hostname: string }) => (node.hostname === 'w1' ? [failing] : []) };
    const plan = planUpgrade(await readSwarmNodes(all[0]!), { only: [], reboot: 'when-needed', done: new Set() });
    const error = await runUpgrade(all, inventory(fake), plan, fresh(), options, checking, events()).catch((e: Error & { hint?: string }) => e);
    expect(error.message).toBe('Upgrade stopped at w1, step "check": w1 came back with docker: Docker does not answer: socket hang up');
    expect((error as { hint?: string }).hint).toContain('w1 is left drained.');
    expect(fake.nodes.find((n) => n.id === 'w1')!.availability).toBe('drain');
  });
});
