import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterEvidence, NodeEvidence } from '../../cli/core/doctor/check.js';
import { diagnoseCluster, worstFinding } from '../../cli/core/doctor/checks.js';
import { fixedCmdline, planFixes } from '../../cli/core/doctor/fixes.js';
import { parseProbe, probeScript, type NodeProbe } from '../../cli/core/doctor/probe.js';
import type { SwarmNodeView } from '../../cli/core/placement.js';

const NOW = new Date('2026-12-01T12:00:00Z');
const probe = (change: Partial<NodeProbe> = {}): NodeProbe => ({
  arch: 'aarch64', cpu64: true, model: 'Raspberry Pi 4 Model B Rev 1.4', pageSize: 4096, memTotalKb: 3_900_000, memoryCgroup: true,
  cmdline: { '/boot/firmware/cmdline.txt': 'console=serial0,115200 root=PARTUUID=1 rootwait cgroup_enable=memory cgroup_memory=1\n' },
  vxlan: '', iptables: { version: 'iptables v1.8.9 (nf_tables)', nftRules: 20 }, disk: { path: '/var/lib/docker', sizeKb: 30_000_000, availKb: 20_000_000 },
  rootOptions: 'rw,noatime', dataOptions: 'rw,noatime', daemonJson: '{"log-opts": {"max-size": "10m"}}', ntpSynchronized: 'yes', throttled: '0x0', temperature: 48_000,
  rebootRequired: false, closedPorts: [], triedPorts: ['10.0.0.12:7946'], ...change,
});
const engine = { version: '24.0.7', dockerRootDir: '/var/lib/docker', loggingDriver: 'json-file', warnings: [] };
const node = (hostname: string, change: Partial<NodeEvidence> = {}): NodeEvidence => ({ hostname, probe: probe(), engine, clock: { offsetMs: 3, uncertaintyMs: 5 }, dhcp: false, ...change });
const manager = (hostname: string, change: Partial<SwarmNodeView> = {}): SwarmNodeView => ({ id: hostname, hostname, role: 'manager', arch: 'aarch64', os: 'linux', labels: {}, engineLabels: {}, state: 'ready', availability: 'active', reachable: true, ...change });
const cluster = (nodes: NodeEvidence[], swarm: SwarmNodeView[] = nodes.map((n) => manager(n.hostname, { role: 'worker' }))): ClusterEvidence => ({ nodes, swarm, now: NOW });
const check = (evidence: ClusterEvidence, hostname: string, id: string) => diagnoseCluster(evidence).find((r) => r.node === hostname)!.checks.find((c) => c.id === id)!;

describe('doctor: the node probe on a real shell', () => {
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => server.close());

  it('reads this machine as it would a node: kernel, memory cgroup, disk, mounts, and which ports answer', () => {
    const root = mkdtempSync(join(tmpdir(), 'piswarm-doctor-'));
    // A port nothing listens on: the one just freed by a closed server is as good as any.
    const tried = [`127.0.0.1:${port}`, '127.0.0.1:1'];
    const output = execFileSync('sh', ['-c', probeScript(root, '127.0.0.1', tried)], { encoding: 'utf8' });
    const found = parseProbe(output, root, tried);
    expect(found.arch).toBe(execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim());
    expect(found.pageSize).toBe(Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' })));
    expect(found.memTotalKb).toBe(Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))![1]));
    expect(found.memoryCgroup).toBe(true);
    const df = execFileSync('df', ['-P', '-k', root], { encoding: 'utf8' }).split('\n')[1]!.split(/\s+/);
    expect(found.disk).toMatchObject({ path: root, sizeKb: Number(df[1]) });
    expect(found.rootOptions).toMatch(/^r[ow],/);
    expect(found.closedPorts).toEqual(['127.0.0.1:1']);
    // The loopback address is no lease.
    expect(found.dhcp).toBe(false);
    // The vxlan probe made its interface and removed it again.
    expect(execFileSync('ip', ['link', 'show'], { encoding: 'utf8' })).not.toContain('piswarm-vx0');
    expect(found.vxlan).toBe('');
  });
});

describe('doctor: the checks', () => {
  it('finds nothing wrong on a healthy Pi, and only says so', () => {
    const reports = diagnoseCluster(cluster([node('pi-01')], [manager('pi-01', { leader: true })]));
    const notOk = reports[0]!.checks.filter((c) => c.status !== 'ok');
    // One manager is odd, so Raft is fine; only the certificate is missing from this made-up node.
    expect(notOk.map((c) => `${c.id} ${c.status}`)).toEqual(['certificate skipped']);
    expect(worstFinding(reports[0]!)).toEqual({ status: 'ok', text: 'ok' });
  });

  it('finds the cgroup flag where the firmware does not read it, and plans the fix on the right file', () => {
    const second = node('pi-01', { probe: probe({ cmdline: { '/boot/firmware/cmdline.txt': 'console=tty1 root=PARTUUID=1 rootwait\ncgroup_enable=memory cgroup_memory=1\n' } }) });
    expect(check(cluster([second]), 'pi-01', 'cmdline')).toMatchObject({ status: 'fail', found: 'cgroup_enable=memory is on line 2 of /boot/firmware/cmdline.txt, which the firmware ignores (cmdline.txt is one line)', autoFix: 'cmdline' });
    // Bookworm: the flag in the old place is ignored.
    const old = node('pi-01', { probe: probe({ cmdline: { '/boot/firmware/cmdline.txt': 'console=tty1 root=PARTUUID=1\n', '/boot/cmdline.txt': 'console=tty1 cgroup_enable=memory\n' }, memoryCgroup: false }) });
    const evidence = cluster([old]);
    expect(check(evidence, 'pi-01', 'cmdline').found).toBe('cgroup_enable=memory is in /boot/cmdline.txt, but this system boots from /boot/firmware/cmdline.txt');
    expect(check(evidence, 'pi-01', 'memory-cgroup').status).toBe('fail');
    const fixes = planFixes(diagnoseCluster(evidence), new Map([['pi-01', old.probe!]]));
    // One fix for the two findings, on the file the firmware reads.
    expect(fixes.filter((f) => f.fix === 'cmdline')).toEqual([expect.objectContaining({ then: 'a reboot', input: 'console=tty1 root=PARTUUID=1 cgroup_enable=memory cgroup_memory=1\n' })]);
    expect(fixedCmdline('a b cgroup_disable=memory\nc\n')).toBe('a b c cgroup_enable=memory cgroup_memory=1');
  });

  it('log rotation: json-file with no max-size warns; the fix keeps the rest of daemon.json', () => {
    const bare = node('pi-01', { probe: probe({ daemonJson: '{"insecure-registries": ["10.0.0.1:5000"]}' }) });
    const result = check(cluster([bare]), 'pi-01', 'log-rotation');
    expect(result).toMatchObject({ status: 'warn', autoFix: 'log-rotation' });
    const [fix] = planFixes(diagnoseCluster(cluster([bare])), new Map([['pi-01', bare.probe!]]));
    expect(JSON.parse(fix!.input!)).toEqual({ 'insecure-registries': ['10.0.0.1:5000'], 'log-driver': 'json-file', 'log-opts': { 'max-size': '10m', 'max-file': '3' } });
    expect(check(cluster([node('pi-01', { probe: probe({ daemonJson: '{' }) })]), 'pi-01', 'log-rotation').status).toBe('fail');
    expect(check(cluster([node('pi-01', { engine: { ...engine, loggingDriver: 'journald' }, probe: probe({ daemonJson: undefined }) })]), 'pi-01', 'log-rotation').status).toBe('ok');
  });

  it('power: under-voltage now fails, since boot warns, and off a Pi the check is skipped', () => {
    expect(check(cluster([node('pi-01', { probe: probe({ throttled: '0x50005' }) })]), 'pi-01', 'throttling')).toMatchObject({ status: 'fail', found: 'under-voltage, throttled now (0x50005)' });
    expect(check(cluster([node('pi-01', { probe: probe({ throttled: '0x50000' }) })]), 'pi-01', 'throttling')).toMatchObject({ status: 'warn', found: 'under-voltage, throttled since boot (0x50000)' });
    const pc = node('pc', { probe: probe({ model: undefined, arch: 'x86_64' }) });
    expect(check(cluster([pc]), 'pc', 'throttling')).toMatchObject({ status: 'skipped', found: 'skipped: not a Raspberry Pi' });
    expect(check(cluster([pc]), 'pc', 'temperature').status).toBe('skipped');
  });

  it('a 32-bit OS on a 64-bit Pi, 16 KiB pages and a read-only card', () => {
    const evidence = cluster([node('pi-01', { probe: probe({ arch: 'armv7l', pageSize: 16384, rootOptions: 'ro,relatime' }) })]);
    expect(check(evidence, 'pi-01', 'arch').status).toBe('warn');
    expect(check(evidence, 'pi-01', 'page-size').status).toBe('warn');
    expect(check(evidence, 'pi-01', 'read-only').found).toMatch(/^\/ mounted read-only/);
  });

  it('Raft: an even count warns, an unreachable manager warns, a lost quorum fails; workers are skipped', () => {
    const nodes = ['m1', 'm2', 'm3'].map((h) => node(h));
    expect(check(cluster(nodes.slice(0, 2), [manager('m1', { leader: true }), manager('m2')]), 'm1', 'raft').found).toContain('an even count');
    const one = [manager('m1', { leader: true }), manager('m2'), manager('m3', { reachable: false, state: 'down' })];
    expect(check(cluster(nodes, one), 'm1', 'raft')).toMatchObject({ status: 'warn' });
    expect(check(cluster(nodes, one), 'm3', 'swarm-node')).toMatchObject({ status: 'fail', found: "down in the managers' view (manager)" });
    const two = [manager('m1', { leader: true }), manager('m2', { reachable: false }), manager('m3', { reachable: false })];
    expect(check(cluster(nodes, two), 'm1', 'raft').status).toBe('fail');
    expect(check(cluster(nodes, [manager('m1'), manager('m2', { role: 'worker' }), manager('m3')]), 'm2', 'raft').status).toBe('skipped');
  });

  it('clocks: a node 5 s off warns, 2 minutes off fails, against this machine and the other nodes', () => {
    const nodes = [node('a'), node('b', { clock: { offsetMs: 5_000, uncertaintyMs: 10 } }), node('c', { clock: { offsetMs: -120_000, uncertaintyMs: 10 } })];
    expect(check(cluster(nodes), 'b', 'clock').status).toBe('fail');
    expect(check(cluster(nodes.slice(0, 2)), 'b', 'clock')).toMatchObject({ status: 'warn', found: '+5.000 s from this machine (±0.010 s), at most 4.997 s from the other nodes' });
    expect(check(cluster(nodes.slice(0, 2)), 'a', 'clock').status).toBe('warn');
  });

  it('Docker versions that differ, a dead engine, an unreachable node, a manager on DHCP', () => {
    const nodes = [node('a'), node('b', { engine: { ...engine, version: '20.10.24' } }), node('c', { engine: undefined, engineError: 'connect ENOENT /var/run/docker.sock' }), node('d', { sshError: 'connection refused', probe: undefined })];
    const evidence = cluster(nodes, [manager('a', { leader: true }), ...['b', 'c', 'd'].map((h) => manager(h, { role: 'worker' }))]);
    expect(check(evidence, 'a', 'docker-version').found).toBe('24.0.7 here; b has 20.10.24');
    expect(check(evidence, 'c', 'docker')).toMatchObject({ status: 'fail', found: 'Docker does not answer: connect ENOENT /var/run/docker.sock' });
    expect(check(evidence, 'c', 'log-rotation').status).toBe('ok');
    expect(check(evidence, 'd', 'ssh').status).toBe('fail');
    expect(check(evidence, 'd', 'disk').found).toBe('skipped: the node does not answer over SSH');
    expect(check(cluster([node('a', { dhcp: true })], [manager('a', { leader: true })]), 'a', 'address').status).toBe('warn');
    expect(check(cluster([node('a', { dhcp: true })]), 'a', 'address').status).toBe('ok');
  });

  it('certificates: one about to expire warns, an expired one fails', () => {
    const pem = (days: number) => {
      const dir = mkdtempSync(join(tmpdir(), 'piswarm-cert-'));
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=swarm-node', '-days', String(days), '-keyout', join(dir, 'k'), '-out', join(dir, 'c')], { stdio: 'ignore' });
      return readFileSync(join(dir, 'c'), 'utf8');
    };
    const at = (days: number, now = new Date()) => check({ ...cluster([node('a', { probe: probe({ nodeCertificate: pem(days) }) })]), now, certExpirySeconds: 90 * 86_400 }, 'a', 'certificate');
    expect(at(90)).toMatchObject({ status: 'ok' });
    expect(at(90).found).toContain('last 90 days (--cert-expiry)');
    expect(at(3).status).toBe('warn');
    expect(at(3, new Date(Date.now() + 5 * 86_400_000)).status).toBe('fail');
  });
});
