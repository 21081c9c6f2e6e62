import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MergeReport } from '../../cli/core/discovery-merge.js';
import { Inventory } from '../../cli/core/inventory.js';
import type { NodeRunResult } from '../../cli/services/run-command.js';
import type { DiscoveredHost } from '../../cli/services/discover.js';
import { piswarm } from '../helpers/cli.js';
import { addDecoy, removeDecoy, type Decoy } from '../helpers/decoys.js';
import { labEnv, labLeftovers, netnsPids } from '../helpers/lab.js';

const NAME = 'disc';
const SUBNET = '10.83.0.0/24';
const BRIDGE = `${NAME}br0`;
const PIS = ['10.83.0.11', '10.83.0.12', '10.83.0.13'];
const dir = mkdtempSync(join(tmpdir(), 'piswarm-discover-'));
const inventoryFile = join(dir, 'piswarm.yaml');
const lab = (command: string, ...args: string[]) => piswarm(['lab', command, '--name', NAME, ...args], { env: labEnv });
/** As a user with no SSH keys and no agent: --login falls back to HypriotOS's default password. */
const discover = (...args: string[]) => piswarm(['discover', '--inventory', inventoryFile, ...args], { env: { SSH_AUTH_SOCK: '', HOME: dir } });
const hostsOf = (stdout: string) => (JSON.parse(stdout) as { hosts: DiscoveredHost[] }).hosts;
const readInventory = () => Inventory.parse(inventoryFile, readFileSync(inventoryFile, 'utf8'));
/** Gives a lab Pi a new address, as a DHCP server would after a lease ran out. */
const readdress = (node: string, from: string, to: string) => {
  const netns = `${NAME}-${node}`;
  execFileSync('ip', ['-n', netns, 'addr', 'del', `${from}/24`, 'dev', 'eth0']);
  execFileSync('ip', ['-n', netns, 'addr', 'add', `${to}/24`, 'dev', 'eth0']);
  execFileSync('ip', ['-n', netns, 'route', 'replace', 'default', 'via', '10.83.0.1']);
};
const decoys: Decoy[] = [];
let labPids: number[] = [];

beforeAll(async () => {
  await lab('down');
  const up = await lab('up', '--nodes', '3', '--subnet', SUBNET);
  expect(up.code, up.stderr).toBe(0);
  labPids = PIS.flatMap((_, i) => netnsPids(`${NAME}-pi-0${i + 1}`));
  const decoy = (n: number, serve: 'sshd' | 'hang' | 'nothing', mac: string) =>
    decoys.push(addDecoy({ bridge: BRIDGE, netns: `${NAME}-decoy${n}`, veth: `${NAME}-d${n}`, ip: `10.83.0.${200 + n}`, prefixLength: 24, mac, serve, dir }));
  decoy(1, 'sshd', '02:42:0a:53:00:c9'); // a Linux box with SSH: not a Pi
  decoy(2, 'nothing', '3c:22:fb:12:34:56'); // a laptop with no SSH server
  decoy(3, 'hang', '00:11:32:aa:bb:cc'); // a NAS whose port 22 accepts and then says nothing
});

afterAll(async () => {
  // Always tear down, whatever failed above: CI runs on this same machine afterwards.
  for (const d of decoys) removeDecoy(d);
  await lab('down');
  expect(labLeftovers(NAME, labPids)).toEqual([]);
});

describe('piswarm discover on the lab', () => {
  it('finds exactly the Pis by MAC vendor, not the decoys, and a hanging host does not stall the sweep', async () => {
    const started = Date.now();
    const run = await discover('--interface', BRIDGE, '--timeout', '500', '--json');
    const seconds = (Date.now() - started) / 1000;
    expect(run.code, run.stderr).toBe(0);
    const hosts = hostsOf(run.stdout);
    expect(hosts.map((h) => h.ip)).toEqual(PIS);
    expect(hosts.every((h) => h.isPi && h.vendor === 'Raspberry Pi Foundation' && h.mac!.startsWith('b8:27:eb:') && h.ssh === 'ssh')).toBe(true);
    expect(hosts[0]!.banner!.software).toMatch(/^OpenSSH \d/);
    // The hang decoy holds its connection open; the sweep still ends after connect + banner timeouts.
    expect(seconds).toBeLessThan(5);
  });

  it('shows the other hosts with --all, each for what it is, without logging in to any of them', async () => {
    const run = await discover('--interface', BRIDGE, '--timeout', '500', '--all', '--login', '--json');
    expect(run.code, run.stderr).toBe(0);
    const byIp = Object.fromEntries(hostsOf(run.stdout).map((h) => [h.ip, h]));
    expect(byIp['10.83.0.201']).toMatchObject({ isPi: false, ssh: 'ssh', mac: '02:42:0a:53:00:c9' });
    expect(byIp['10.83.0.201']!.facts).toBeUndefined();
    expect(byIp['10.83.0.202']).toMatchObject({ isPi: false, ssh: 'closed', mac: '3c:22:fb:12:34:56' });
    expect(byIp['10.83.0.203']).toMatchObject({ isPi: false, ssh: 'open', mac: '00:11:32:aa:bb:cc' });
    // The lab's SSH servers saw no login from piswarm on the decoy with sshd.
    expect(byIp['10.83.0.201']!.loginError).toBeUndefined();
  });

  it('logs in to each Pi for its facts, and --save files them by MAC with their host keys', async () => {
    const run = await discover('--interface', BRIDGE, '--login', '--save', '--json');
    expect(run.code, run.stderr).toBe(0);
    const hosts = hostsOf(run.stdout);
    expect(hosts.map((h) => h.facts?.hostname)).toEqual(['pi-01', 'pi-02', 'pi-03']);
    expect(hosts[0]!.facts).toMatchObject({ arch: execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim(), swarm: { state: 'none' } });
    expect(hosts[0]!.facts!.docker).toMatch(/^\d+\.\d+/);
    const nodes = readInventory().nodes();
    expect(nodes.map((n) => [n.hostname, n.ip, n.mac])).toEqual(hosts.map((h) => [h.facts!.hostname, h.ip, h.mac]));
    expect(nodes.every((n) => n.hostKey?.startsWith('ssh-ed25519 '))).toBe(true);
    const saved = (JSON.parse(run.stdout) as { saved: MergeReport }).saved;
    expect(saved.added.map((a) => a.hostname)).toEqual(['pi-01', 'pi-02', 'pi-03']);
    expect(saved.moved).toEqual([]);

    const table = await discover('--interface', BRIDGE, '--login');
    expect(table.stdout).toMatch(/^IP +MAC +VENDOR +HOSTNAME +MODEL \/ ARCH +SSH +DOCKER +SWARM$/m);
    expect(table.stdout).toMatch(/^10\.83\.0\.12 +b8:27:eb:53:00:0c +Raspberry Pi Foundation +pi-02 +- \/ \S+ +OpenSSH \S+.* +none$/m);
  });

  it('follows a Pi to the new address DHCP gave it, and reports the move', async () => {
    readdress('pi-02', '10.83.0.12', '10.83.0.42');
    const run = await discover('--interface', BRIDGE, '--save');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('pi-02 moved 10.83.0.12 → 10.83.0.42');
    expect(run.stdout).not.toMatch(/^10\.83\.0\.12 /m);
    const nodes = readInventory().nodes();
    expect(nodes.map((n) => [n.hostname, n.ip])).toEqual([
      ['pi-01', '10.83.0.11'],
      ['pi-02', '10.83.0.42'],
      ['pi-03', '10.83.0.13'],
    ]);
  });

  it('lets later commands find a node that moved again, by its MAC, before connecting', async () => {
    readdress('pi-02', '10.83.0.42', '10.83.0.43');
    const run = await piswarm(['run', '--inventory', inventoryFile, '--node', 'pi-02', '--json', '--password-stdin', '--', 'hostname'], {
      input: 'hypriot\n',
      env: { SSH_AUTH_SOCK: '', HOME: dir },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('pi-02 moved 10.83.0.42 → 10.83.0.43');
    const [result] = JSON.parse(run.stdout) as NodeRunResult[];
    expect(result).toMatchObject({ node: 'pi-02', ip: '10.83.0.43', ok: true, stdout: 'pi-02\n' });
    // The host key pinned by discover was checked on the way: no new pin.
    expect(result!.hostKeyPinned).toBeUndefined();
    expect(readInventory().findNode('pi-02')!.ip).toBe('10.83.0.43');
  });

  it('refuses an absurdly large range, and says so when no Pi answers', async () => {
    const large = await discover('--cidr', '10.0.0.0/8');
    expect(large.code).toBe(64);
    expect(large.stderr).toContain('--cidr 10.0.0.0/8 has 16777216 addresses; piswarm sweeps at most 4096');
    expect(large.stderr).toContain('Hint: Give the subnet your Pis are on');
    const empty = await discover('--cidr', '10.83.0.64/28');
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toBe('No Raspberry Pi answered on 10.83.0.64/28.\n');
  });
});
