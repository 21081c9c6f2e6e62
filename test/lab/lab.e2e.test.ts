import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint, sameHostKey } from '../../cli/core/host-key.js';
import { Inventory } from '../../cli/core/inventory.js';
import type { LabStatus } from '../../cli/services/lab/lab-status.js';
import type { NodeRunResult } from '../../cli/services/run-command.js';
import { nodeInitPid } from '../../cli/services/lab/processes.js';
import { piswarm } from '../helpers/cli.js';
import { daemonHostPid, labEnv, labLeftovers, netnsPids, TEST_LAB_ROOT } from '../helpers/lab.js';
import { until } from '../helpers/wait.js';

const NAME = 'e2e';
const SUBNET = '10.79.0.0/24';
const lab = (command: string, ...args: string[]) => piswarm(['lab', command, '--name', NAME, ...args], { env: labEnv });
const dir = mkdtempSync(join(tmpdir(), 'piswarm-e2e-'));
const inventoryFile = join(dir, 'piswarm.yaml');
/** `piswarm run` as a user whose home is `dir`; the password goes on stdin unless it is null (key only). */
const runOnLab = (args: string[], password: string | null = 'hypriot') =>
  piswarm(['run', '--inventory', inventoryFile, '--json', ...(password === null ? [] : ['--password-stdin']), ...args], {
    input: password === null ? '' : `${password}\n`,
    env: { ...labEnv, SSH_AUTH_SOCK: '', HOME: dir },
  });
const readInventory = () => Inventory.parse(inventoryFile, readFileSync(inventoryFile, 'utf8'));
const byNode = (results: NodeRunResult[]) => Object.fromEntries(results.map((r) => [r.node, r]));
const nodeHostKey = async (node: string) => (await lab('exec', node, '--', 'cat', '/etc/ssh/ssh_host_ed25519_key.pub')).stdout.trim();

let status: LabStatus;

beforeAll(async () => {
  await lab('down');
});

afterAll(async () => {
  // Always tear down, whatever failed above: CI runs on this same machine afterwards.
  await lab('down');
});

describe('virtual Pi lab, end to end', () => {
  it('brings up three simulated Pis with real sshd and dockerd', async () => {
    const up = await lab('up', '--nodes', '3', '--subnet', SUBNET, '--json');
    expect(up.code, up.stderr).toBe(0);
    status = JSON.parse(up.stdout) as LabStatus;
    expect(status.nodes.map((n) => [n.name, n.ip, n.sshd, n.dockerd])).toEqual([
      ['pi-01', '10.79.0.11', 'running', 'running'],
      ['pi-02', '10.79.0.12', 'running', 'running'],
      ['pi-03', '10.79.0.13', 'running', 'running'],
    ]);
    expect(status.nodes.every((n) => n.mac.startsWith('b8:27:eb:'))).toBe(true);
    expect(status.nodes[0]!.sshBanner).toMatch(/^SSH-2\.0-OpenSSH/);
    expect(status.registry).toEqual({ address: '10.79.0.1:5000', state: 'running' });
    expect(status.armEmulation).toBe(true);

    const fromStatus = await lab('status', '--json');
    expect(fromStatus.code).toBe(0);
    expect((JSON.parse(fromStatus.stdout) as LabStatus).nodes.map((n) => n.mac)).toEqual(status.nodes.map((n) => n.mac));
  });

  it('lets a node reach the lab registry on the bridge', async () => {
    const probe = await lab('exec', 'pi-02', '--', process.execPath, '-e', "fetch('http://10.79.0.1:5000/v2/').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(2))");
    expect(probe.code).toBe(0);
  });

  it('is safe to run twice: running nodes are left alone', async () => {
    const before = JSON.parse(readFileSync(join(TEST_LAB_ROOT, NAME, 'state.json'), 'utf8'));
    const again = await lab('up', '--nodes', '3', '--subnet', SUBNET);
    expect(again.code, again.stderr).toBe(0);
    const after = JSON.parse(readFileSync(join(TEST_LAB_ROOT, NAME, 'state.json'), 'utf8'));
    expect(after.nodes).toEqual(before.nodes);
  });

  it('refuses to shrink a running lab', async () => {
    const shrink = await lab('up', '--nodes', '2', '--subnet', SUBNET);
    expect(shrink.code).toBe(1);
    expect(shrink.stderr).toContain('Lab e2e has 3 nodes; --nodes 2 would remove some.');
  });

  it('reaches every node as pirate over SSH: own hostname, own Docker engine, host keys pinned', async () => {
    writeFileSync(
      inventoryFile,
      ['# written by hand, as discover --save will', 'cluster:', '  name: e2e', 'nodes:', ...status.nodes.flatMap((n) => [`  ${n.mac}:`, `    hostname: ${n.name}`, `    ip: ${n.ip}`])].join('\n') + '\n',
    );
    const run = await runOnLab(['--', 'hostname; docker info --format "{{.ID}}"']);
    expect(run.code, run.stderr).toBe(0);
    const results = byNode(JSON.parse(run.stdout));
    const engineIds = new Set<string>();
    for (const node of ['pi-01', 'pi-02', 'pi-03']) {
      const [hostname, engineId] = results[node]!.stdout!.trim().split('\n');
      expect(hostname).toBe(node);
      expect(engineId).toMatch(/^[A-Z0-9]{4}(:[A-Z0-9]{4}){11}$/);
      engineIds.add(engineId!);
    }
    expect(engineIds.size).toBe(3);

    const inventory = readInventory();
    expect(readFileSync(inventoryFile, 'utf8')).toContain('# written by hand');
    for (const node of inventory.nodes()) {
      const actual = await nodeHostKey(node.hostname);
      expect(sameHostKey(node.hostKey!, actual)).toBe(true);
      expect(results[node.hostname]!.hostKeyPinned).toBe(fingerprint(actual));
    }
  });

  it("runs the node's own docker CLI over SSH, the engine's version, as on a Pi", async () => {
    const run = await runOnLab(['--node', 'pi-01', '--', "docker version --format '{{.Client.Version}} {{.Server.Version}}'"]);
    expect(run.code, run.stderr).toBe(0);
    const [client, server] = (JSON.parse(run.stdout) as NodeRunResult[])[0]!.stdout!.trim().split(' ');
    expect(client).toBe(server);
  });

  it('refuses a node whose host key changed, naming both fingerprints, and accepts it only when asked', async () => {
    const pinned = readInventory().findNode('pi-02')!.hostKey!;
    const regen = await lab('exec', 'pi-02', '--', 'sh', '-c', 'rm -f /etc/ssh/ssh_host_* && ssh-keygen -A >/dev/null && kill -HUP $(cat /run/sshd.pid)');
    expect(regen.code).toBe(0);
    const fresh = await nodeHostKey('pi-02');
    expect(sameHostKey(fresh, pinned)).toBe(false);
    // sshd re-executes itself on SIGHUP: wait until the handshake presents the new key.
    const ip = status.nodes.find((n) => n.name === 'pi-02')!.ip;
    const onTheWire = () => spawnSync('ssh-keyscan', ['-t', 'ed25519', '-T', '2', ip], { encoding: 'utf8' }).stdout.replace(/^\S+\s+/, '');
    await until(() => sameHostKey(onTheWire() || 'none', fresh), 15_000, 'pi-02 to present its new host key');

    const refused = await runOnLab(['--', 'hostname']);
    expect(refused.code).toBe(3);
    const results = byNode(JSON.parse(refused.stdout));
    expect(results['pi-01']!.ok).toBe(true);
    expect(results['pi-03']!.ok).toBe(true);
    expect(results['pi-02']!.ok).toBe(false);
    expect(results['pi-02']!.error).toContain('The SSH host key of pi-02 has changed');
    expect(results['pi-02']!.error).toContain(fingerprint(pinned));
    expect(results['pi-02']!.error).toContain(fingerprint(fresh));
    expect(results['pi-02']!.hint).toContain('--accept-new-host-key');
    expect(readInventory().findNode('pi-02')!.hostKey).toBe(pinned);

    const accepted = await runOnLab(['--node', 'pi-02', '--accept-new-host-key', '--', 'hostname']);
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(sameHostKey(readInventory().findNode('pi-02')!.hostKey!, fresh)).toBe(true);
  });

  it('keeps a password change on its own node', async () => {
    const change = await lab('exec', 'pi-01', '--', 'sh', '-c', 'echo pirate:n3w-secret | chpasswd');
    expect(change.code).toBe(0);
    const run = await runOnLab(['--', 'true']);
    expect(run.code).toBe(3);
    const results = byNode(JSON.parse(run.stdout));
    expect(results['pi-01']!.error).toContain('refused the login for user pirate');
    expect(results['pi-02']!.ok && results['pi-03']!.ok).toBe(true);
    expect((await runOnLab(['--node', 'pi-01', '--', 'true'], 'n3w-secret')).code).toBe(0);
  });

  it('logs in with the user key (~/.ssh/id_ed25519) where it is authorised, without a password', async () => {
    mkdirSync(join(dir, '.ssh'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, '.ssh', 'id_ed25519')]);
    const publicKey = readFileSync(join(dir, '.ssh', 'id_ed25519.pub'), 'utf8').trim();
    const install = await runOnLab(['--node', 'pi-03', '--', `mkdir -p ~/.ssh && echo '${publicKey}' >> ~/.ssh/authorized_keys`]);
    expect(install.code, install.stderr).toBe(0);

    const withKey = await runOnLab(['--node', 'pi-03', '--', 'hostname'], null);
    expect(withKey.code, withKey.stderr).toBe(0);
    expect(byNode(JSON.parse(withKey.stdout))['pi-03']!.stdout).toBe('pi-03\n');
    const elsewhere = await runOnLab(['--node', 'pi-02', '--', 'hostname'], null);
    expect(elsewhere.code).toBe(1);
    expect(byNode(JSON.parse(elsewhere.stdout))['pi-02']!.error).toContain('refused the login for user pirate');
  });

  it('refuses a second lab on a subnet already in use, and makes nothing for it', async () => {
    const clash = await piswarm(['lab', 'up', '--name', 'clash', '--nodes', '1', '--subnet', SUBNET], { env: labEnv });
    expect(clash.code).toBe(1);
    expect(clash.stderr).toContain(`Subnet ${SUBNET} is already in use on this machine (e2ebr0 has address 10.79.0.1/24)`);
    expect(clash.stderr).toContain('--subnet');
    expect(labLeftovers('clash', [])).toEqual([]);
  });

  it("keeps this machine out of a node's reach: reboot restarts that node only, power off stops it, packages are read-only", async () => {
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8');
    const anchor = (JSON.parse(readFileSync(join(TEST_LAB_ROOT, NAME, 'state.json'), 'utf8')) as { nodes: Record<string, { anchorPid: number }> }).nodes['pi-02']!.anchorPid;
    const init = await nodeInitPid(anchor);
    // Only once the node is seen to be its own PID namespace (its PID 1 is its boot script) is it told to reboot.
    const pid1 = await lab('exec', 'pi-02', '--', 'cat', '/proc/1/cmdline');
    expect(pid1.stdout.replace(/\0/g, ' ')).toContain(`nodes/pi-02/boot.sh`);

    const install = await lab('exec', 'pi-02', '--', 'sh', '-c', 'touch /usr/piswarm-was-here; echo "bc hold" | dpkg --set-selections');
    expect(install.code).not.toBe(0);
    expect(install.stderr).toContain('Read-only file system');
    expect(existsSync('/usr/piswarm-was-here')).toBe(false);

    expect((await lab('exec', 'pi-02', '--', 'reboot', '-ff')).code).toBe(0);
    await until(async () => ((await nodeInitPid(anchor)) ?? init) !== init && (await lab('exec', 'pi-02', '--', 'docker', 'info', '--format', '{{.ID}}')).code === 0, 60_000, 'pi-02 to boot again');
    expect((await runOnLab(['--node', 'pi-02', '--', 'hostname'])).code).toBe(0);

    expect((await lab('exec', 'pi-03', '--', 'poweroff', '-ff')).code).toBe(0);
    await until(async () => (JSON.parse((await lab('status', '--json')).stdout) as LabStatus).nodes.find((n) => n.name === 'pi-03')?.sshd === 'down', 30_000, 'pi-03 to be off');
    expect(readFileSync('/proc/sys/kernel/random/boot_id', 'utf8')).toBe(bootId);
    // lab up boots it again, its files as they were.
    const up = await lab('up', '--nodes', '3', '--subnet', SUBNET);
    expect(up.code, up.stderr).toBe(0);
    expect((await runOnLab(['--node', 'pi-03', '--', 'hostname'], null)).code).toBe(0);
  });

  it('rehearses faults on purpose: a node powered off and on, its cable cut and plugged back, a killed sshd started again by lab up', async () => {
    const stop = await lab('stop', 'pi-02', '--json');
    expect(stop.code, stop.stderr).toBe(0);
    expect(JSON.parse(stop.stdout)).toEqual({ node: 'pi-02', action: 'stop', changed: true });
    expect(netnsPids(`${NAME}-pi-02`)).toEqual([]);
    expect((await runOnLab(['--node', 'pi-02', '--', 'true'])).code).not.toBe(0);
    expect((await lab('stop', 'pi-02')).stderr).toContain('pi-02 was already off');
    const start = await lab('start', 'pi-02');
    expect(start.code, start.stderr).toBe(0);
    expect(start.stderr).toContain('pi-02 booted again');
    expect((await runOnLab(['--node', 'pi-02', '--', 'hostname'])).code).toBe(0);

    expect((await lab('cut', 'pi-02')).code).toBe(0);
    expect((await runOnLab(['--node', 'pi-02', '--', 'true'])).code).not.toBe(0);
    // Unplugged, not off: its console still answers.
    expect((await lab('exec', 'pi-02', '--', 'hostname')).stdout.trim()).toBe('pi-02');
    expect((await lab('heal', 'pi-02')).code).toBe(0);
    expect((await runOnLab(['--node', 'pi-02', '--', 'hostname'])).code).toBe(0);
    const unknown = await lab('stop', 'pi-09');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('Lab e2e has no node pi-09.');

    expect((await lab('exec', 'pi-03', '--', 'sh', '-c', 'kill $(cat /run/sshd.pid)')).code).toBe(0);
    await until(async () => (JSON.parse((await lab('status', '--json')).stdout) as LabStatus).nodes.find((n) => n.name === 'pi-03')?.sshd === 'down', 10_000, 'sshd on pi-03 to stop');
    // Repaired within 30 s, or lab up fails.
    const up = await lab('up', '--nodes', '3', '--subnet', SUBNET, '--timeout', '30');
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toContain('pi-03: sshd had stopped; started again');
    expect((await runOnLab(['--node', 'pi-03', '--', 'hostname'], null)).code).toBe(0);
  });

  it('holds a --cpu lab to its share of a core: the node and all it starts, and lab down removes its cgroup', async () => {
    const cpuLab = (command: string, ...args: string[]) => piswarm(['lab', command, '--name', 'cpu', ...args], { env: labEnv });
    const bad = await cpuLab('up', '--nodes', '1', '--subnet', '10.99.0.0/24', '--cpu', '0');
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('--cpu 0 is not a share of a core between 0.01 and 4.');
    try {
      const up = await cpuLab('up', '--nodes', '1', '--subnet', '10.99.0.0/24', '--cpu', '0.25');
      expect(up.code, up.stderr).toBe(0);
      const cgroup = (hierarchy: string) => join('/sys/fs/cgroup', hierarchy, 'piswarm-cpu-pi-01');
      expect(readFileSync(join(cgroup('cpu'), 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('25000');
      const sshd = String(await daemonHostPid('cpu', 'pi-01', 'sshd.pid'));
      expect(readFileSync(join(cgroup('cpu'), 'cgroup.procs'), 'utf8').split('\n')).toContain(sshd);
      // Two seconds of a busy loop on the node get about half a second of CPU.
      const usage = () => Number(readFileSync(join(cgroup('cpuacct'), 'cpuacct.usage'), 'utf8')) / 1e9;
      const before = usage();
      await cpuLab('exec', 'pi-01', '--', 'timeout', '2', 'sh', '-c', 'while :; do :; done');
      const used = usage() - before;
      expect(used).toBeGreaterThan(0.3);
      expect(used).toBeLessThan(0.8);
    } finally {
      expect((await cpuLab('down')).code).toBe(0);
    }
    expect(spawnSync('test', ['-e', '/sys/fs/cgroup/cpu/piswarm-cpu-pi-01']).status).not.toBe(0);
  });

  it('lab down leaves no namespace, link, rule, process, mount, cgroup or file behind', async () => {
    const state = JSON.parse(readFileSync(join(TEST_LAB_ROOT, NAME, 'state.json'), 'utf8'));
    const pids = [state.registryPid, ...status.nodes.flatMap((n) => netnsPids(n.netns))];
    expect(pids.length).toBeGreaterThan(9); // anchor, dockerd, containerd, sshd per node, and the registry
    expect(labLeftovers(NAME, [])).not.toEqual([]);

    const down = await lab('down');
    expect(down.code, down.stderr).toBe(0);
    expect(labLeftovers(NAME, pids)).toEqual([]);
  });
});
