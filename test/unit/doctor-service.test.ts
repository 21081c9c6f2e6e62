import { describe, expect, it } from 'vitest';
import { Inventory } from '../../cli/core/inventory.js';
import { applyFixes, diagnose, fixesFor } from '../../cli/services/doctor.js';
import { FakeSwarm, fakeConnector } from '../helpers/fake-swarm.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const inventory = () =>
  Inventory.parse('piswarm.yaml', 'nodes:\n  "b8:27:eb:00:00:11": { hostname: m1, ip: 10.0.0.11, role: manager }\n  "b8:27:eb:00:00:12": { hostname: w1, ip: 10.0.0.12 }\n  "b8:27:eb:00:00:13": { hostname: w2, ip: 10.0.0.13 }\n');

/** What a node's shell says: its clock (w1 is 5 s ahead), and the probe's facts (w1 has no log rotation and cannot reach m1's 2377). */
function shell(host: string, script: string) {
  if (script === 'date +%s%N') return { code: 0, stdout: `${BigInt(NOW + (host === '10.0.0.12' ? 5000 : 0)) * 1_000_000n}\n`, stderr: '' };
  if (!script.includes('piswarm-vx0')) return undefined;
  const ports = host === '10.0.0.12' ? 'closed=10.0.0.11:2377\nopen=10.0.0.11:7946\n' : 'open=10.0.0.12:7946\n';
  const daemon = Buffer.from(host === '10.0.0.12' ? '{}' : '{"log-opts":{"max-size":"10m"}}').toString('base64');
  return { code: 0, stdout: `arch=aarch64\ncpu64=yes\nmodel=Raspberry Pi 4 Model B Rev 1.4\npagesize=4096\nmemcg=yes\nvxlan=\niptables=iptables v1.8.9 (nf_tables)\ndisk=30000000 20000000\nrootopts=rw\ndataopts=rw\ndaemonjson=${daemon}\nntp=yes\nthrottled=0x0\ntemp=45000\ndhcp=no\n${ports}`, stderr: '' };
}

describe('doctor through SSH and the engine', () => {
  it('reads every node in parallel, reports the one that does not answer, and judges clocks and ports across nodes', async () => {
    const fake = new FakeSwarm([{ id: 'm1', role: 'manager' }, { id: 'w1', role: 'worker' }, { id: 'w2', role: 'worker' }], []);
    const ssh = fakeConnector(fake, { '10.0.0.11': 'm1', '10.0.0.12': 'w1' }, { onExec: shell });
    const steps: string[] = [];
    const diagnosis = await diagnose(inventory(), inventory().nodes(), { connector: ssh.connector, openApi: ssh.openApi, credentials: {}, timeoutMs: 1000, reporter: { step: () => undefined, warn: () => undefined, debug: () => undefined }, now: () => NOW }, { node: (n, s) => void steps.push(`${n} ${s}`) });
    diagnosis.close();
    const check = (node: string, id: string) => diagnosis.reports.find((r) => r.node === node)!.checks.find((c) => c.id === id)!;
    expect(check('w2', 'ssh').status).toBe('fail');
    expect(check('w2', 'disk').found).toBe('skipped: the node does not answer over SSH');
    expect(check('w1', 'clock')).toMatchObject({ status: 'warn' });
    expect(check('w1', 'clock').found).toMatch(/^\+5\.000 s from this machine/);
    expect(check('m1', 'clock').status).toBe('warn');
    expect(check('w1', 'swarm-ports')).toMatchObject({ status: 'fail', found: 'cannot open m1:2377 from here' });
    // Only a manager is asked for 2377, every live peer for 7946.
    expect(ssh.scripts.find((s) => s.includes('piswarm-vx0') && s.includes('10.0.0.11:2377'))).toBeDefined();
    expect(check('m1', 'raft')).toMatchObject({ status: 'ok' });
    expect(check('m1', 'log-rotation').status).toBe('ok');
    expect(steps).toContain('w2 done');

    // --fix: log rotation on w1 only, its new daemon.json on standard input.
    const fixes = fixesFor(diagnosis).filter((f) => f.fix === 'log-rotation');
    expect(fixes.map((f) => f.node)).toEqual(['w1']);
    ssh.scripts.length = 0;
    const applied = await applyFixes(diagnosis, fixes);
    expect(applied.map((a) => a.error ?? 'applied')).toEqual(['applied']);
    expect(ssh.scripts[0]).toContain('/etc/docker/daemon.json.piswarm-backup');
    expect(ssh.scripts[0]).toContain('"max-size": "10m"');
  });
});
