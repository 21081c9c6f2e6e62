import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { NodeRow } from '../../cli/core/node-table.js';
import { piswarm, startPiswarm } from '../helpers/cli.js';
import { cutDuring as cutHelper } from '../helpers/cut.js';
import { buildLabImages } from '../helpers/lab-images.js';
import { labEnv, labLeftovers, netnsPids } from '../helpers/lab.js';
import { until } from '../helpers/wait.js';

/**
 * Cables pulled in the middle of multi-step commands. The command is frozen (SIGSTOP) the moment
 * it announces the step, the node's cable is pulled with `lab cut`, and the command goes on: so
 * the loss lands in that step every time, and only keepalives can tell (no FIN, no RST).
 */
const NAME = 'cut';
const REGISTRY = '10.86.0.1:5000';
const NODES = ['10.86.0.11', '10.86.0.12', '10.86.0.13', '10.86.0.14'];
const dir = mkdtempSync(join(tmpdir(), 'piswarm-cut-'));
const user = { HOME: dir, SSH_AUTH_SOCK: '' };
const inventory = join(dir, 'piswarm.yaml');
const lab = (command: string, ...args: string[]) => piswarm(['lab', command, '--name', NAME, ...args], { env: labEnv });
const cli = (args: string[]) => piswarm(['--inventory', inventory, ...args], { env: user });
let labPids: number[] = [];

const cutDuring = (args: string[], cue: string, node: string) => cutHelper(NAME, inventory, user, args, cue, node);

async function docker(node: string, script: string): Promise<string> {
  const run = await lab('exec', node, '--', 'sh', '-c', script);
  if (run.code !== 0) throw new Error(`${node}: ${script}: ${run.stderr}`);
  return run.stdout.trim();
}
const nodes = async () => JSON.parse((await cli(['node', 'ls', '--json'])).stdout) as NodeRow[];
const swarmNodes = async () => (await docker('pi-01', "docker node ls --format '{{.Hostname}} {{.Status}} {{.Availability}}'")).split('\n').sort();
const tasksOn = async (service: string) => (await docker('pi-01', `docker service ps ${service} --filter desired-state=running --format '{{.Node}}'`)).split('\n').filter(Boolean).sort();

beforeAll(async () => {
  await lab('down');
  const up = await lab('up', '--nodes', String(NODES.length), '--subnet', '10.86.0.0/24');
  if (up.code !== 0) throw new Error(`lab up failed: ${up.stderr}`);
  labPids = NODES.flatMap((_, i) => netnsPids(`${NAME}-pi-0${i + 1}`));
});

afterAll(async () => {
  // Always tear down, whatever failed above: CI runs on this same machine afterwards.
  await lab('down');
  expect(labLeftovers(NAME, labPids)).toEqual([]);
});

describe('a connection lost in the middle of a command', () => {
  it('bootstrap: says pi-02 lost its connection while joining, what was done on it, counts it as not done; the finish command finishes', async () => {
    const first = await cutDuring(['bootstrap', '--nodes', NODES.join(',')], '· pi-02: joining the swarm', 'pi-02');
    expect(first.code, first.stderr).toBe(3);
    expect(first.stderr).toMatch(/pi-02: the SSH connection was lost while trying to join the swarm \(no answer for 15 s\)\. Already done: key installed; password replaced; password login off/);
    expect(first.stderr).toContain('That step may or may not have finished.');
    expect(first.stderr).toContain('To finish, once fixed: piswarm bootstrap --only pi-02');
    expect(first.stdout).toMatch(/pi-02 +10\.86\.0\.12 +- +FAILED/);
    const saved = parse(readFileSync(inventory, 'utf8')) as { nodes: Record<string, { hostname: string; role?: string }> };
    expect(Object.values(saved.nodes).find((n) => n.hostname === 'pi-02')?.role).toBeUndefined();

    const again = await cli(['bootstrap', '--only', 'pi-02']);
    expect(again.code, again.stderr).toBe(0);
    expect(await swarmNodes()).toEqual(['pi-01 Ready Active', 'pi-02 Ready Active', 'pi-03 Ready Active', 'pi-04 Ready Active']);
    // Secured all the same: the card's password no longer logs in (a machine with no key tries it).
    const mac = Object.entries(saved.nodes).find(([, n]) => n.hostname === 'pi-02')![0];
    const nokey = mkdtempSync(join(tmpdir(), 'piswarm-nokey-'));
    writeFileSync(join(nokey, 'piswarm.yaml'), `nodes:\n  ${mac}:\n    hostname: pi-02\n    ip: ${NODES[1]}\n`);
    const password = await piswarm(['--inventory', join(nokey, 'piswarm.yaml'), 'run', '--password-stdin', '--', 'true'], { env: { HOME: nokey, SSH_AUTH_SOCK: '' }, input: 'hypriot\n' });
    expect(password.code).toBe(1);
    expect(password.stdout).toContain('refused the login for user pirate');
  });

  it('node drain: the manager lost mid-drain is named with the steps done; the rerun drains', async () => {
    buildLabImages(NAME, 'pi-01', REGISTRY);
    const file = join(dir, 'hello.yml');
    writeFileSync(file, `services:\n  web:\n    image: ${REGISTRY}/hello-world:1\n    deploy:\n      replicas: 4\n`);
    const deployed = await cli(['stack', 'deploy', file, '--window', '0']);
    expect(deployed.code, deployed.stderr).toBe(0);

    const first = await cutDuring(['node', 'drain', 'pi-03'], '✓ drain pi-03:', 'pi-01');
    expect(first.code, first.stderr).toBe(3);
    expect(first.stderr).toMatch(/pi-01: the SSH connection was lost while trying to .* \(no answer for 15 s\), during: drain pi-03: .*\. Nothing had been changed yet\./);
    expect(first.stderr).toContain('finish with: piswarm node drain pi-03');

    const again = await cli(['node', 'drain', 'pi-03']);
    expect(again.code, again.stderr).toBe(0);
    expect((await nodes()).find((n) => n.hostname === 'pi-03')?.availability).toBe('drain');
    expect(await tasksOn('hello_web')).not.toContain('pi-03');
    // Cut off from its manager for a while, the swarm moved tasks about; it settles at four again.
    await until(async () => (await tasksOn('hello_web')).length === 4, 60_000, 'four hello_web tasks');
  });

  it('node rm: a worker cut during its own drain drains once the managers see it down, and the lost leave is finished by the rerun', async () => {
    // Spread the tasks again (the drain above left them where they landed), so pi-04 runs some.
    await docker('pi-01', 'docker service update --force --detach=false --quiet hello_web >/dev/null');
    expect(await tasksOn('hello_web')).toContain('pi-04');
    const first = await cutDuring(['node', 'rm', 'pi-04', '--yes'], '✓ drain pi-04:', 'pi-04');
    expect(first.code, first.stderr).toBe(3);
    expect(first.stderr).toContain('! pi-04 is down: its tasks cannot say they stopped, so they are not waited for');
    expect(first.stderr).toMatch(/pi-04: the SSH connection was lost while trying to leave the swarm \(no answer for 15 s\), during: docker swarm leave on pi-04: .*\. Already done: drain pi-04: /);
    expect(first.stderr).toContain('finish with: piswarm node rm pi-04');
    // The service never ran short: its four tasks run on the other nodes.
    expect(await tasksOn('hello_web')).toHaveLength(4);

    await until(async () => (await swarmNodes()).includes('pi-04 Ready Drain'), 60_000, 'pi-04 back');
    const again = await cli(['node', 'rm', 'pi-04', '--yes']);
    expect(again.code, again.stderr).toBe(0);
    expect((await swarmNodes()).some((n) => n.startsWith('pi-04'))).toBe(false);
  });

  it('stack deploy: the manager lost while following the stack says the deploy itself was done; the rerun converges', async () => {
    const file = join(dir, 'hello.yml');
    writeFileSync(file, `services:\n  web:\n    image: ${REGISTRY}/hello-world:1\n    deploy:\n      replicas: 2\n`);
    const first = await cutDuring(['stack', 'deploy', file, '--window', '30'], '· follow hello until every service converged', 'pi-01');
    expect(first.code, first.stderr).toBe(3);
    expect(first.stderr).toMatch(/pi-01: the SSH connection was lost while trying to .* \(no answer for 15 s\), during: follow hello until every service converged\. Already done: deploy stack hello\./);
    expect(first.stderr).toContain(`finish with: piswarm stack deploy ${file}`);
    const again = await cli(['stack', 'deploy', file, '--window', '0']);
    expect(again.code, again.stderr).toBe(0);
    expect(await tasksOn('hello_web')).toHaveLength(2);
  });

  it('two machines at once: a change from another inventory waits for the swarm lock, then refuses naming the run; reads never wait', async () => {
    // A second laptop: its own inventory of the same swarm (same key), so the inventory lock cannot see the first.
    const other = join(mkdtempSync(join(tmpdir(), 'piswarm-laptop-')), 'piswarm.yaml');
    writeFileSync(other, readFileSync(inventory, 'utf8'));
    const fromOther = (args: string[]) => piswarm(['--inventory', other, ...args], { env: { ...user, PISWARM_LOCK_WAIT: '0' } });
    // A deploy that follows its stack for 30 s, held still (as a slow Pi would hold it) while the other machine tries.
    const file = join(dir, 'hello.yml');
    writeFileSync(file, `services:\n  web:\n    image: ${REGISTRY}/hello-world:1\n    deploy:\n      replicas: 3\n`);
    const deploy = startPiswarm(['--inventory', inventory, '--verbose', 'stack', 'deploy', file, '--window', '30'], { env: user });
    await until(() => deploy.stderr().includes('· follow hello until every service converged'), 120_000, 'the deploy under way');
    deploy.child.kill('SIGSTOP');
    try {
      const refused = await fromOther(['service', 'scale', 'hello_web=2']);
      expect(refused.code, refused.stderr).toBe(1);
      expect(refused.stderr).toMatch(new RegExp(`Another piswarm stack deploy \\(pid ${deploy.child.pid} on [^,]+, since [0-9T:.Z-]+\\) is changing this swarm\\.`));
      expect((await fromOther(['node', 'ls', '--json'])).code).toBe(0);
    } finally {
      deploy.child.kill('SIGCONT');
    }
    const deployed = await deploy.result;
    expect(deployed.code, deployed.stderr).toBe(0);
    const scaled = await fromOther(['service', 'scale', 'hello_web=2', '--window', '0']);
    expect(scaled.code, scaled.stderr).toBe(0);
    // Released: no lock is left in the swarm.
    expect(await docker('pi-01', "docker config ls --format '{{.Name}}'")).not.toContain('piswarm-lock');
  });

  it('node drain: a worker powered off during its drain; the drain ends once the managers see it down, every task running elsewhere', async () => {
    expect((await cli(['node', 'activate', 'pi-03'])).code).toBe(0);
    expect((await cli(['service', 'scale', 'hello_web=3', '--window', '0'])).code).toBe(0);
    await docker('pi-01', 'docker service update --force --detach=false --quiet hello_web >/dev/null');
    expect(await tasksOn('hello_web')).toContain('pi-03');
    const run = startPiswarm(['--inventory', inventory, 'node', 'drain', 'pi-03'], { env: user });
    await until(() => run.stderr().includes('✓ drain pi-03:') || run.child.exitCode !== null, 120_000, 'the drain under way', 5);
    run.child.kill('SIGSTOP');
    try {
      const off = await lab('stop', 'pi-03');
      expect(off.code, off.stderr).toBe(0);
    } finally {
      run.child.kill('SIGCONT');
    }
    const drained = await run.result;
    expect(drained.code, drained.stderr).toBe(0);
    expect(drained.stderr).toContain('! pi-03 is down: its tasks cannot say they stopped, so they are not waited for');
    expect(drained.stderr).toContain('✓ pi-03 drained in');
    const running = await tasksOn('hello_web');
    expect(running).toHaveLength(3);
    expect(running).not.toContain('pi-03');

    const on = await lab('start', 'pi-03');
    expect(on.code, on.stderr).toBe(0);
    await until(async () => (await swarmNodes()).includes('pi-03 Ready Drain'), 120_000, 'pi-03 back, drained');
  });

  it('swarm teardown: a worker lost while the stacks go keeps the swarm for the rerun, which finishes', async () => {
    const first = await cutDuring(['swarm', 'teardown', '--yes'], '· pi-01: removing stacks and services', 'pi-02');
    expect(first.code, first.stderr).toBe(3);
    expect(first.stderr).toContain('pi-02: the SSH connection was lost while trying to leave the swarm (no answer for 15 s).');
    expect(first.stderr).toContain('pi-01 stays in the swarm, its last manager, until pi-02 left.');
    expect(await docker('pi-01', "docker info --format '{{.Swarm.LocalNodeState}}'")).toBe('active');

    const again = await cli(['swarm', 'teardown', '--yes']);
    expect(again.code, again.stderr).toBe(0);
    for (const node of ['pi-01', 'pi-02', 'pi-03']) expect(await docker(node, "docker info --format '{{.Swarm.LocalNodeState}}'")).toBe('inactive');
  });
});
