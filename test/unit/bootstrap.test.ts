import { describe, expect, it } from 'vitest';
import { Inventory } from '../../cli/core/inventory.js';
import { bootstrap, type BootstrapOptions } from '../../cli/services/swarm/bootstrap.js';
import { fakeConnector, FakeSwarm } from '../helpers/fake-swarm.js';

const IPS: Record<string, string> = { '10.0.0.11': 'pi-01', '10.0.0.12': 'pi-02', '10.0.0.13': 'pi-03' };
const options: BootstrapOptions = { managers: 1, only: [], keepPassword: true, lockPassword: false, force: false, acceptChangedHostKey: false, concurrency: 4, timeoutMs: 1000 };
const inventory = (extra = '') =>
  Inventory.parse('piswarm.yaml', ['nodes:', ...Object.entries(IPS).flatMap(([ip, name], i) => [`  b8:27:eb:00:00:0${i + 1}:`, `    hostname: ${name}`, `    ip: ${ip}`, ...(name === 'pi-03' ? [extra] : [])])].join('\n'));

/** Three fresh Pis (no swarm on any), reached over fake SSH; what bootstrap said of each. */
function lab(nodes = Object.values(IPS), onExec?: NonNullable<Parameters<typeof fakeConnector>[2]>['onExec']) {
  const fake = new FakeSwarm(nodes.map((id) => ({ id, role: 'worker' as const, state: 'none' as const })), []);
  const { connector, openApi, scripts } = fakeConnector(fake, Object.fromEntries(Object.entries(IPS).filter(([, id]) => nodes.includes(id))), { onExec });
  const done: string[] = [];
  const events = { step: () => undefined, done: (node: string, summary: string) => void done.push(`${node}: ${summary}`), failed: (node: string, error: Error) => void done.push(`${node} failed: ${error.message}`) };
  const reporter = { step: () => undefined, warn: () => undefined, debug: () => undefined } as never;
  const userKey = { path: '/home/u/.ssh/id_ed25519', privateKey: Buffer.from('key'), publicKey: 'ssh-ed25519 AAAA u@laptop', generated: false };
  return { fake, scripts, done, ports: { connector, openApi, credentials: { password: 'hypriot' }, userKey, events, reporter } };
}

describe('bootstrap through the engine', () => {
  it('inits the swarm on the first manager, joins the others with the join token in the API only, labels, and records it all', async () => {
    const { fake, scripts, done, ports } = lab();
    const inv = inventory('    labels:\n      sensors: "true"');
    const result = await bootstrap(inv, options, ports as never);
    expect(fake.writes.slice(0, 1)).toEqual(['init pi-01 10.0.0.11']);
    expect(fake.writes.slice(1, 3).sort()).toEqual(['join pi-02 as worker via 10.0.0.11', 'join pi-03 as worker via 10.0.0.11']);
    expect(fake.writes.slice(3)).toEqual(['node pi-03 {"addLabels":{"sensors":"true"}}']);
    expect(result.swarmId).toBe('c1');
    expect(result.leader).toBe('pi-01');
    expect(done.sort()).toEqual(['pi-01: swarm initialised', 'pi-02: joined as worker', 'pi-03: joined as worker, labels applied']);
    expect(inv.swarmId).toBe('c1');
    expect(inv.findNode('pi-01')).toMatchObject({ role: 'manager', swarmNodeId: 'pi-01' });
    expect(inv.findNode('pi-03')).toMatchObject({ role: 'worker', swarmNodeId: 'pi-03' });
    // Docker is not asked through any shell (beyond the helpers every script defines), and no join token reached one.
    const bodies = scripts.map((s) => s.split('\n').filter((line) => !/^(as_root|dk)\(\)/.test(line)).join('\n'));
    expect(bodies.filter((s) => /\bdk\b|docker|SWMTKN/.test(s))).toEqual([]);
  });

  it('changes nothing on a second run, and says so', async () => {
    const { fake, ports } = lab();
    const inv = inventory();
    await bootstrap(inv, options, ports as never);
    const writes = fake.writes.length;
    const again = await bootstrap(inv, options, ports as never);
    expect(fake.writes.length).toBe(writes);
    expect(again.nodes.map((n) => n.changes)).toEqual([[], [], []]);
  });

  it('joins the nodes that answer when one does not, and names the one that did not', async () => {
    const { fake, ports } = lab(['pi-01', 'pi-02']);
    const inv = inventory();
    const result = await bootstrap(inv, options, ports as never);
    expect(fake.writes.sort()).toEqual(['init pi-01 10.0.0.11', 'join pi-02 as worker via 10.0.0.11']);
    expect(result.nodes.map((n) => `${n.node} ${n.ok}`)).toEqual(['pi-01 true', 'pi-02 true', 'pi-03 false']);
    expect(result.nodes[2]!.error).toContain('10.0.0.13 does not answer');
  });

  it('says a node whose cable was pulled mid-step lost its connection, what was done on it already, and counts it as not done', async () => {
    // pi-02's key goes in and its password is replaced; the cable is pulled while password logins are being turned off.
    const { fake, done, ports } = lab(Object.values(IPS), (host, script) => {
      if (host !== '10.0.0.12') return undefined;
      if (/authorized_keys|chpasswd/.test(script)) return { code: 0, stdout: 'changed\n', stderr: '' };
      return /PasswordAuthentication/i.test(script) ? 'cut' : undefined;
    });
    const result = await bootstrap(inventory(), { ...options, keepPassword: false }, ports as never);
    const pi02 = result.nodes.find((n) => n.node === 'pi-02')!;
    expect(pi02.ok).toBe(false);
    expect(pi02.error).toBe(
      'pi-02: the SSH connection was lost while trying to turn off SSH password logins (no answer for 15 s). Already done: key installed; password replaced.',
    );
    expect(pi02.hint).toContain('That step may or may not have finished');
    expect(pi02.role).toBeUndefined();
    // The others are unharmed; pi-02 never joined.
    expect(fake.writes.filter((w) => w.startsWith('join')).sort()).toEqual(['join pi-03 as worker via 10.0.0.11']);
    expect(done.filter((d) => d.startsWith('pi-02'))).toEqual([`pi-02 failed: ${pi02.error}`]);
  });
});
