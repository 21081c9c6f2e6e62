import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Inventory } from '../../cli/core/inventory.js';
import type { BootstrapResult } from '../../cli/services/swarm/bootstrap.js';
import type { TeardownResult } from '../../cli/services/swarm/teardown.js';
import { piswarm, startPiswarm } from '../helpers/cli.js';
import { labEnv, labLeftovers, netnsPids } from '../helpers/lab.js';
import { until } from '../helpers/wait.js';

const NAME = 'boot';
const SUBNET = '10.85.0.0/24';
const ip = (n: number) => `10.85.0.${10 + n}`;
const mac = (n: number) => `b8:27:eb:55:00:${(10 + n).toString(16).padStart(2, '0')}`;
/** The user's machine: a home with no SSH key and no agent, as on a fresh laptop. */
const home = mkdtempSync(join(tmpdir(), 'piswarm-bootstrap-home-'));
const user = { HOME: home, SSH_AUTH_SOCK: '' };
const lab = (command: string, ...args: string[]) => piswarm(['lab', command, '--name', NAME, ...args], { env: labEnv });
const inventoryIn = (dir: string) => join(dir, 'piswarm.yaml');
const cli = (inventory: string, args: string[], input?: string) => piswarm(['--inventory', inventory, ...args], { env: user, input });
const readInventory = (file: string) => Inventory.parse(file, readFileSync(file, 'utf8'));
/** What a manager's engine says about the swarm: hostname → role and status. */
const nodeList = async (manager: string) => {
  const out = await lab('exec', manager, '--', 'docker', 'node', 'ls', '--format', '{{.Hostname}} {{.Status}} {{if .ManagerStatus}}manager{{else}}worker{{end}}');
  expect(out.code, out.stderr).toBe(0);
  return Object.fromEntries(out.stdout.trim().split('\n').map((line) => { const [host, status, role] = line.split(' '); return [host!, `${role} ${status}`]; }));
};
const swarmState = async (node: string) => (await lab('exec', node, '--', 'docker', 'info', '--format', '{{.Swarm.LocalNodeState}}')).stdout.trim();
/** Logs in as a user with no key would: only the password, over the real SSH server. */
const passwordLogin = (node: number, password: string) =>
  piswarm(['--inventory', inventoryOnly(node), 'run', '--password-stdin', '--', 'true'], { env: { HOME: mkdtempSync(join(tmpdir(), 'piswarm-nokey-')), SSH_AUTH_SOCK: '' }, input: `${password}\n` });
const inventoryOnly = (node: number) => {
  const file = join(mkdtempSync(join(tmpdir(), 'piswarm-one-')), 'piswarm.yaml');
  writeFileSync(file, `nodes:\n  ${mac(node)}:\n    hostname: pi-0${node}\n    ip: ${ip(node)}\n`);
  return file;
};

/**
 * Every command line seen on this machine (lab nodes share its process table) that matches
 * `pattern`, sampled every few milliseconds until stop().
 */
function sampleCommandLines(pattern: RegExp): { stop(): string[] } {
  const seen = new Set<string>();
  const timer = setInterval(() => {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const line = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
        if (pattern.test(line)) seen.add(line.slice(0, 200));
      } catch {
        // The process ended between the listing and the read.
      }
    }
  }, 5);
  return { stop: () => (clearInterval(timer), [...seen]) };
}

/** Until sshd on node n answers again (it re-executes itself on SIGHUP). */
const sshdAnswers = (n: number) => until(() => spawnSync('ssh-keyscan', ['-T', '2', ip(n)], { encoding: 'utf8' }).stdout.includes('ssh-'), 15_000, `sshd on pi-0${n}`);

const small = inventoryIn(mkdtempSync(join(tmpdir(), 'piswarm-bootstrap-3-')));
const big = inventoryIn(mkdtempSync(join(tmpdir(), 'piswarm-bootstrap-5-')));
let labPids: number[] = [];

beforeAll(async () => {
  await lab('down');
  const up = await lab('up', '--nodes', '8', '--subnet', SUBNET);
  expect(up.code, up.stderr).toBe(0);
  labPids = Array.from({ length: 8 }, (_, i) => netnsPids(`${NAME}-pi-0${i + 1}`)).flat();
});

afterAll(async () => {
  // Always tear down, whatever failed above: CI runs on this same machine afterwards.
  await lab('down');
  expect(labLeftovers(NAME, labPids)).toEqual([]);
});

describe('piswarm bootstrap on pristine lab Pis', () => {
  it('refuses more managers than nodes before touching any node', async () => {
    const run = await cli(small, ['bootstrap', '--nodes', `${ip(1)},${ip(2)},${ip(3)}`, '--managers', '5']);
    expect(run.code, run.stderr).toBe(64);
    expect(run.stderr).toContain('--managers 5 is more than the 3 node(s)');
    expect(run.stderr).toContain('Hint: Use --managers 3 or fewer');
    expect(await swarmState('pi-01')).toBe('inactive');
    // Still the HypriotOS default: nothing was changed on the nodes.
    expect((await passwordLogin(1, 'hypriot')).code).toBe(0);
  });

  it('3 nodes / 1 manager: secures every node and forms the swarm; the default password no longer opens it', async () => {
    // A login user outside group docker: its engine is reached through sudo (docker system dial-stdio).
    expect((await lab('exec', 'pi-03', '--', 'gpasswd', '-d', 'pirate', 'docker')).code).toBe(0);
    const sampler = sampleCommandLines(/SWMTKN-1-[0-9a-z]{20,}/);
    const first = startPiswarm(['--inventory', small, 'bootstrap', '--nodes', `${ip(1)},${ip(2)},${ip(3)}`, '--json'], { env: user });
    // A second bootstrap of the same nodes while the first runs: refused at once, naming the first, changing nothing.
    await until(() => existsSync(`${small}.lock`), 10_000, 'the first bootstrap to take the lock');
    const second = await piswarm(['--inventory', small, 'bootstrap', '--nodes', `${ip(1)},${ip(2)},${ip(3)}`], { env: { ...user, PISWARM_LOCK_WAIT: '0' } });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`another piswarm bootstrap (pid ${first.child.pid}, since `);
    const run = await first.result;
    expect(existsSync(`${small}.lock`)).toBe(false);
    // The join tokens travelled in API request bodies only: no process on any node had one in its command line.
    expect(sampler.stop()).toEqual([]);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as BootstrapResult;
    expect(result.nodes.map((n) => [n.node, n.role, n.ok])).toEqual([
      ['pi-01', 'manager', true],
      ['pi-02', 'worker', true],
      ['pi-03', 'worker', true],
    ]);
    expect(result.nodes[1]!.changes).toEqual(['key installed', 'password replaced', 'password login off', 'card cleared of passwords, password login', 'joined as worker']);
    // The card's boot partition, as the node itself reads it, no longer holds the default password.
    const card = await lab('exec', 'pi-02', '--', 'cat', '/boot/user-data');
    expect(card.stdout).toContain('hostname: pi-02');
    expect(card.stdout).not.toContain('hypriot\n');
    expect(card.stdout).toContain('ssh_pwauth: false');
    expect(await nodeList('pi-01')).toEqual({ 'pi-01': 'manager Ready', 'pi-02': 'worker Ready', 'pi-03': 'worker Ready' });
    // No join token anywhere the user or a log could see it.
    expect(run.stdout + run.stderr + readFileSync(small, 'utf8')).not.toContain('SWMTKN');

    const inventory = readInventory(small);
    expect(inventory.swarmId).toBe(result.swarmId);
    expect(inventory.nodes().map((n) => [n.hostname, n.role, Boolean(n.swarmNodeId), Boolean(n.hostKey), n.arch])).toEqual([
      ['pi-01', 'manager', true, true, 'x86_64'],
      ['pi-02', 'worker', true, true, 'x86_64'],
      ['pi-03', 'worker', true, true, 'x86_64'],
    ]);

    const password = await passwordLogin(2, 'hypriot');
    expect(password.code).toBe(1);
    expect(password.stdout).toContain('refused the login for user pirate');
    const key = await cli(small, ['run', '--', 'hostname']);
    expect(key.code, key.stderr).toBe(0);
    expect(key.stdout).toMatch(/pi-01[\s\S]*pi-02[\s\S]*pi-03/);
  });

  it('changes nothing when run again, and says so', async () => {
    const run = await cli(small, ['bootstrap']);
    expect(run.stdout).not.toContain('card cleared');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('already as wanted, nothing changed');
    expect(run.stdout.match(/nothing to change/g)).toHaveLength(3);
  });

  it('stops a node whose host key changed before sending it anything, until the new key is accepted', async () => {
    const regen = await lab('exec', 'pi-02', '--', 'sh', '-c', 'rm -f /etc/ssh/ssh_host_* && ssh-keygen -A >/dev/null && kill -HUP $(cat /run/sshd.pid)');
    expect(regen.code, regen.stderr).toBe(0);
    const pinned = readInventory(small).findNode('pi-02')!.hostKey;
    const run = await cli(small, ['bootstrap']);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toMatch(/The SSH host key of pi-02 has changed: pinned SHA256:\S+, presented SHA256:\S+\. Nothing was sent to it\./);
    expect(run.stdout).toMatch(/pi-01 .* nothing to change/);
    expect(readInventory(small).findNode('pi-02')!.hostKey).toBe(pinned);

    const accepted = await cli(small, ['bootstrap', '--only', 'pi-02', '--accept-new-host-key']);
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(readInventory(small).findNode('pi-02')!.hostKey).not.toBe(pinned);
  });

  it('refuses an even number of managers with the quorum table, before touching any node', async () => {
    const run = await cli(small, ['bootstrap', '--managers', '2']);
    expect(run.code).toBe(64);
    expect(run.stderr).toContain('2 managers need 2 up to keep quorum, so they survive 0 failure(s)');
    expect(run.stderr).toContain('Hint: Use 1, 3, 5 or 7 managers (1 → quorum 1, survives 0;');
    expect(await nodeList('pi-01')).toEqual({ 'pi-01': 'manager Ready', 'pi-02': 'worker Ready', 'pi-03': 'worker Ready' });
  });

  it('5 nodes / 3 managers with one node down: the others join, the summary names it, --only finishes it', async () => {
    writeFileSync(big, `nodes:\n${[4, 5, 6, 7, 8].map((n) => `  ${mac(n)}:\n    hostname: pi-0${n}\n    ip: ${ip(n)}\n    labels: {zone: lab${n % 2}}\n`).join('')}`);
    expect((await lab('exec', 'pi-08', '--', 'sh', '-c', 'kill $(cat /run/sshd.pid)')).code).toBe(0);

    const first = await cli(big, ['bootstrap', '--managers', '3']);
    expect(first.code, first.stderr).toBe(3);
    expect(first.stdout).toMatch(/pi-08 +10\.85\.0\.18 +- +FAILED/);
    expect(first.stderr).toContain("Can't reach pi-08 (10.85.0.18:22) over SSH (connection refused)");
    expect(first.stderr).toContain('To finish, once fixed: piswarm bootstrap --only pi-08');
    expect(await nodeList('pi-04')).toEqual({ 'pi-04': 'manager Ready', 'pi-05': 'manager Ready', 'pi-06': 'manager Ready', 'pi-07': 'worker Ready' });

    expect((await lab('exec', 'pi-08', '--', '/usr/sbin/sshd')).code).toBe(0);
    // A Match block that turns password login back on for the LAN is caught and named, not reported done.
    const reload = "&& kill -HUP $(cat /run/sshd.pid)";
    expect((await lab('exec', 'pi-08', '--', 'sh', '-c', `printf '\\nMatch Address 10.85.0.0/24\\n    PasswordAuthentication yes\\n' >> /etc/ssh/sshd_config ${reload}`)).code).toBe(0);
    await sshdAnswers(8);
    const caught = await cli(big, ['bootstrap', '--only', 'pi-08']);
    expect(caught.code).not.toBe(0);
    expect(caught.stderr).toContain('a Match block in /etc/ssh/sshd_config (or a file it includes) turns password login back on for pirate from 10.85.0.1');
    expect((await lab('exec', 'pi-08', '--', 'sh', '-c', `sed -i '/^Match Address 10.85.0.0/,$d' /etc/ssh/sshd_config ${reload}`)).code).toBe(0);
    await sshdAnswers(8);
    // The first run got as far as putting the key in, the password out and the new sshd_config in
    // place; the card is cleared only after the sshd check passed.
    const rest = await cli(big, ['bootstrap', '--only', 'pi-08', '--json']);
    expect(rest.code, rest.stderr).toBe(0);
    expect((JSON.parse(rest.stdout) as BootstrapResult).nodes.map((n) => [n.node, n.changes])).toEqual([['pi-08', ['card cleared of passwords, password login', 'joined as worker', 'labels applied']]]);
    expect(await nodeList('pi-05')).toEqual({ 'pi-04': 'manager Ready', 'pi-05': 'manager Ready', 'pi-06': 'manager Ready', 'pi-07': 'worker Ready', 'pi-08': 'worker Ready' });
    const labels = await lab('exec', 'pi-04', '--', 'docker', 'node', 'inspect', 'pi-08', '--format', '{{.Spec.Labels.zone}}');
    expect(labels.stdout.trim()).toBe('lab0');
  });

  it('lists the swarm nodes with their roles, the leader, and their IP and MAC from the inventory', async () => {
    const run = await cli(big, ['node', 'ls', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const rows = JSON.parse(run.stdout) as Array<{ hostname: string; role: string; leader: boolean; status: string; ip: string; mac: string }>;
    expect(rows.map((r) => [r.hostname, r.role, r.status, r.ip, r.mac])).toEqual([
      ['pi-04', 'manager', 'ready', ip(4), mac(4)],
      ['pi-05', 'manager', 'ready', ip(5), mac(5)],
      ['pi-06', 'manager', 'ready', ip(6), mac(6)],
      ['pi-07', 'worker', 'ready', ip(7), mac(7)],
      ['pi-08', 'worker', 'ready', ip(8), mac(8)],
    ]);
    expect(rows.filter((r) => r.leader).map((r) => r.hostname)).toEqual(['pi-04']);
    expect(run.stderr).toBe('');
  });

  it('follows a node that DHCP moved, by its MAC, in every command that reaches the swarm', async () => {
    const netns = `${NAME}-pi-07`;
    execFileSync('ip', ['-n', netns, 'addr', 'del', `${ip(7)}/24`, 'dev', 'eth0']);
    execFileSync('ip', ['-n', netns, 'addr', 'add', '10.85.0.47/24', 'dev', 'eth0']);
    execFileSync('ip', ['-n', netns, 'route', 'replace', 'default', 'via', '10.85.0.1']);
    const run = await cli(big, ['node', 'ls', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`pi-07 moved ${ip(7)} → 10.85.0.47 (found by its MAC ${mac(7)})`);
    expect((JSON.parse(run.stdout) as Array<{ hostname: string; ip: string }>).find((r) => r.hostname === 'pi-07')?.ip).toBe('10.85.0.47');
    expect(readInventory(big).findNode('pi-07')?.ip).toBe('10.85.0.47');
    const again = await cli(big, ['bootstrap', '--only', 'pi-07']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/pi-07 +10\.85\.0\.47 +worker +nothing to change/);
  });

  it('says clearly when the password is wrong, and changes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'piswarm-wrong-'));
    const file = inventoryIn(dir);
    writeFileSync(file, `nodes:\n  ${mac(3)}:\n    hostname: pi-03\n    ip: ${ip(3)}\n`);
    // A user without the key bootstrap installed (another laptop), guessing the password.
    const run = await piswarm(['--inventory', file, 'bootstrap', '--password-stdin'], { env: { HOME: dir, SSH_AUTH_SOCK: '' }, input: 'not-the-password\n' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('pi-03 (10.85.0.13:22) refused the login for user pirate');
    expect(run.stderr).toContain('Check the password');
    expect(await nodeList('pi-01')).toEqual({ 'pi-01': 'manager Ready', 'pi-02': 'worker Ready', 'pi-03': 'worker Ready' });
  });

  it('refuses a node that is in another swarm unless --force, which moves it', async () => {
    const refused = await cli(big, ['bootstrap', '--nodes', ip(3)]);
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toContain('pi-03 was left out: it is a worker of another swarm (managers 10.85.0.11:2377)');
    expect(refused.stderr).toContain('piswarm bootstrap --only pi-03 --force');
    expect(await swarmState('pi-03')).toBe('active');
    expect(Object.keys(await nodeList('pi-04'))).not.toContain('pi-03');

    const moved = await cli(big, ['bootstrap', '--only', 'pi-03', '--force']);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toContain('left its old swarm, joined as worker');
    expect((await nodeList('pi-04'))['pi-03']).toBe('worker Ready');
  });

  it('teardown leaves every node out of any swarm, and the inventory forgets the swarm but keeps the nodes', async () => {
    const declined = await cli(big, ['swarm', 'teardown']);
    expect(declined.code).toBe(2);
    expect(await swarmState('pi-04')).toBe('active');

    for (const file of [big, small]) {
      const run = await cli(file, ['--yes', 'swarm', 'teardown', '--json']);
      expect(run.code, run.stderr).toBe(0);
      const result = JSON.parse(run.stdout) as TeardownResult;
      expect(result.nodes.every((n) => n.ok)).toBe(true);
      const inventory = readInventory(file);
      expect(inventory.swarmId).toBeUndefined();
      expect(inventory.nodes().every((n) => n.swarmNodeId === undefined && n.role !== undefined)).toBe(true);
    }
    for (let n = 1; n <= 8; n++) expect(await swarmState(`pi-0${n}`)).toBe('inactive');
  });

  it('reports every node when the first manager is down, without crashing', async () => {
    expect((await lab('exec', 'pi-01', '--', 'sh', '-c', 'kill $(cat /run/sshd.pid)')).code).toBe(0);
    try {
      const run = await cli(small, ['bootstrap']);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain("Can't reach pi-01 (10.85.0.11:22) over SSH (connection refused)");
      expect(run.stderr).toContain('pi-01, the swarm\'s first manager, is not ready');
      expect(run.stderr).not.toContain('    at ');
    } finally {
      await lab('exec', 'pi-01', '--', '/usr/sbin/sshd');
    }
  });
});
