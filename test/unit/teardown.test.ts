import { describe, expect, it } from 'vitest';
import { Inventory } from '../../cli/core/inventory.js';
import { teardownSwarm } from '../../cli/services/swarm/teardown.js';
import { ConnectionLostError } from '../../cli/errors.js';
import { fakeConnector, FakeSwarm } from '../helpers/fake-swarm.js';

const IDS: Record<string, string> = { '10.0.0.11': 'm1', '10.0.0.12': 'm2', '10.0.0.13': 'w1' };

/** The fake swarm's nodes over fake SSH, and events that keep what they heard. */
function ports(fake: FakeSwarm, cutAt?: (host: string, call: string) => boolean) {
  const { connector, openApi, heal } = fakeConnector(fake, IDS, { cutAt });
  const said: string[] = [];
  const events = { step: (node: string, step: string) => void said.push(`${node}: ${step}`), done: () => undefined, failed: (node: string, error: Error) => void said.push(`${node} failed: ${error.message}`) };
  const reporter = { step: () => undefined, warn: () => undefined, debug: () => undefined } as never;
  return { said, heal, ports: { connector, credentials: {}, events, reporter, openApi } };
}

const inventory = () =>
  Inventory.parse('piswarm.yaml', ['cluster:', '  swarmId: c1', 'nodes:', ...Object.entries(IDS).flatMap(([ip, id], i) => [`  b8:27:eb:00:00:0${i + 1}:`, `    hostname: ${id}`, `    ip: ${ip}`, `    role: ${id.startsWith('m') ? 'manager' : 'worker'}`])].join('\n'));

describe('swarm teardown through the engine', () => {
  it('removes the stacks, demotes the other managers while there is quorum, the workers leave, the leader last', async () => {
    const fake = new FakeSwarm([{ id: 'm1', role: 'manager' }, { id: 'm2', role: 'manager' }, { id: 'w1', role: 'worker' }], [{ id: 's1', name: 'hello_web', stack: 'hello', replicas: 2 }, { id: 's2', name: 'loose', replicas: 1 }]);
    fake.objects.push({ kind: 'secret', id: 'x1', name: 'hello_token', labels: { 'com.docker.stack.namespace': 'hello' } });
    const inv = inventory();
    const { ports: p } = ports(fake);
    const result = await teardownSwarm(inv, { concurrency: 4, timeoutMs: 5000 }, p);
    expect(result.removed).toEqual(['stack hello', 'service loose']);
    expect(fake.writes.slice(0, 4)).toEqual(['rm service s1', 'rm secret x1', 'rm service s2', 'node m2 {"role":"worker"}']);
    // The others leave in parallel (m2 once its engine says it is a worker), the leader last.
    expect(fake.writes.slice(4, 6).sort()).toEqual(['leave m2', 'leave w1']);
    expect(fake.writes.slice(6)).toEqual(['leave m1 --force']);
    expect(result.nodes.map((n) => `${n.node} ${n.result}`)).toEqual(['m1 left (last)', 'm2 left', 'w1 left']);
    expect(inv.swarmId).toBeUndefined();
  });

  it('refuses when no manager of the swarm answers, changing nothing', async () => {
    const fake = new FakeSwarm([{ id: 'w1', role: 'worker' }], []);
    const inv = Inventory.parse('piswarm.yaml', 'cluster:\n  swarmId: c1\nnodes:\n  b8:27:eb:00:00:01:\n    hostname: m1\n    ip: 10.0.0.99\n  b8:27:eb:00:00:03:\n    hostname: w1\n    ip: 10.0.0.13\n');
    const { ports: p } = ports(fake);
    await expect(teardownSwarm(inv, { concurrency: 4, timeoutMs: 5000 }, p)).rejects.toThrow('No reachable node manages the swarm c1; unreachable: m1.');
    expect(fake.writes).toEqual([]);
    expect(inv.swarmId).toBe('c1');
  });

  it('keeps the leader and the swarm when a member loses its connection while leaving, and a rerun finishes', async () => {
    const fake = new FakeSwarm([{ id: 'm1', role: 'manager' }, { id: 'w1', role: 'worker' }], []);
    const inv = Inventory.parse('piswarm.yaml', 'cluster:\n  swarmId: c1\nnodes:\n  b8:27:eb:00:00:01:\n    hostname: m1\n    ip: 10.0.0.11\n  b8:27:eb:00:00:03:\n    hostname: w1\n    ip: 10.0.0.13\n');
    let once = true;
    const { ports: p, heal } = ports(fake, (host, call) => host === '10.0.0.13' && call === 'swarmLeave' && once && !(once = false));
    const first = await teardownSwarm(inv, { concurrency: 4, timeoutMs: 5000 }, p);
    expect(first.nodes.map((n) => `${n.node} ${n.ok}`)).toEqual(['m1 false', 'w1 false']);
    expect(first.nodes[1]!.error).toBe('w1: the SSH connection was lost while trying to leave the swarm (no answer for 15 s).');
    expect(first.nodes[0]!.error).toBe('m1 stays in the swarm, its last manager, until w1 left.');
    expect(fake.writes).toEqual([]);
    expect(inv.swarmId).toBe('c1');

    heal('10.0.0.13');
    const again = await teardownSwarm(inv, { concurrency: 4, timeoutMs: 5000 }, p);
    expect(again.nodes.map((n) => `${n.node} ${n.result}`)).toEqual(['m1 left (last)', 'w1 left']);
    expect(inv.swarmId).toBeUndefined();
  });

  it('says how far it got when the leader is lost mid-way', async () => {
    const fake = new FakeSwarm([{ id: 'm1', role: 'manager' }, { id: 'w1', role: 'worker' }], [{ id: 's1', name: 'hello_web', stack: 'hello', replicas: 1 }, { id: 's2', name: 'loose', replicas: 1 }]);
    const inv = Inventory.parse('piswarm.yaml', 'cluster:\n  swarmId: c1\nnodes:\n  b8:27:eb:00:00:01:\n    hostname: m1\n    ip: 10.0.0.11\n  b8:27:eb:00:00:03:\n    hostname: w1\n    ip: 10.0.0.13\n');
    let removes = 0;
    const { ports: p } = ports(fake, (host, call) => host === '10.0.0.11' && call === 'remove' && ++removes === 2);
    const error = await teardownSwarm(inv, { concurrency: 4, timeoutMs: 5000 }, p).catch((e: Error) => e);
    expect(error).toBeInstanceOf(ConnectionLostError);
    expect(error.message).toBe('m1: the SSH connection was lost while trying to remove the service loose (no answer for 15 s). Already done: stack hello removed.');
    expect(inv.swarmId).toBe('c1');
  });
});
