import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { NodeRow } from '../../cli/core/node-table.js';
import type { ServiceRow } from '../../cli/core/service-table.js';
import { piswarm } from '../helpers/cli.js';
import { startSwarmLab } from '../helpers/lab-images.js';
import { labEnv, labLeftovers } from '../helpers/lab.js';
import { until } from '../helpers/wait.js';

const NAME = 'ops';
const REGISTRY = '10.89.0.1:5000';
const NODES = ['10.89.0.11', '10.89.0.12', '10.89.0.13', '10.89.0.14', '10.89.0.15', '10.89.0.16'];
const STACKS = fileURLToPath(new URL('../../stacks', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'piswarm-ops-'));
const user = { HOME: dir, SSH_AUTH_SOCK: '', HELLO_IMAGE: `${REGISTRY}/hello-world:1`, HELLO_PORT_MODE: 'host' };
const inventory = join(dir, 'piswarm.yaml');
const lab = (command: string, ...args: string[]) => piswarm(['lab', command, '--name', NAME, ...args], { env: labEnv });
const cli = (args: string[]) => piswarm(['--inventory', inventory, ...args], { env: user });
let labPids: number[] = [];

/** Runs docker on a lab node as its console would (no piswarm, no SSH): the test's own view. */
async function docker(node: string, script: string): Promise<string> {
  const run = await lab('exec', node, '--', 'sh', '-c', script);
  if (run.code !== 0) throw new Error(`${node}: ${script}: ${run.stderr}`);
  return run.stdout.trim();
}
const nodes = async () => JSON.parse((await cli(['node', 'ls', '--json'])).stdout) as NodeRow[];
const services = async () => JSON.parse((await cli(['service', 'ls', '--json'])).stdout) as ServiceRow[];
/** Running tasks of a service per node, as the manager lists them. */
async function runningOn(manager: string, service: string): Promise<string[]> {
  const out = await docker(manager, `docker service ps ${service} --filter desired-state=running --format '{{.Node}} {{.CurrentState}}'`);
  return out.split('\n').filter((l) => / Running /.test(l)).map((l) => l.split(' ')[0]!).sort();
}

beforeAll(async () => {
  labPids = await startSwarmLab({ name: NAME, subnet: '10.89.0.0/24', nodes: NODES, registry: REGISTRY, inventory, env: user, managers: 3 });
  // hello-world without a published port (any number per node), and the lab's host-mode one.
  const plain = join(dir, 'hello.yml');
  writeFileSync(plain, `services:\n  web:\n    image: ${REGISTRY}/hello-world:1\n    deploy:\n      replicas: 1\n`);
  for (const args of [[plain, '--name', 'hello'], [join(STACKS, 'hello-world.yml'), '-c', join(STACKS, 'hello-world.lab.yml'), '--name', 'hw']]) {
    const run = await cli(['stack', 'deploy', ...args, '--window', '0']);
    if (run.code !== 0) throw new Error(`deploy failed: ${run.stderr}`);
  }
});

afterAll(async () => {
  // Always tear down, whatever failed above: CI runs on this same machine afterwards.
  await lab('down');
  expect(labLeftovers(NAME, labPids)).toEqual([]);
});

describe('piswarm operations on a 6-node lab (3 managers)', () => {
  it('scales hello-world 1 → 9 → 2, answering once exactly that many tasks run', async () => {
    const up = await cli(['service', 'scale', 'hello_web=9']);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toContain('hello_web: 1 → 9 replicas, all running');
    expect(await runningOn('pi-01', 'hello_web')).toHaveLength(9);

    // A stack's service by its short name.
    const ambiguous = await cli(['service', 'scale', 'web=2']);
    expect(ambiguous.code).toBe(64);
    expect(ambiguous.stderr).toContain('Several stacks have a service "web": hello_web, hw_web.');
    const since = Math.floor(Date.now() / 1000);
    const two = await cli(['service', 'scale', 'hello_web=2', '--json']);
    expect(two.code, two.stderr).toBe(0);
    expect(JSON.parse(two.stdout).changes).toEqual([{ name: 'hello_web', from: 9, to: 2 }]);
    // The surplus has stopped, not just been asked to: 2 containers in the whole lab.
    const containers = await Promise.all(NODES.map((_, i) => docker(`pi-0${i + 1}`, "docker ps -q --filter label=com.docker.swarm.service.name=hello_web | wc -l")));
    expect(containers.reduce((sum, n) => sum + Number(n), 0)).toBe(2);
    // They stopped on SIGTERM (exit 0), not killed at the end of the grace period (137); the
    // swarm forgets scaled-down tasks, so each engine's own events tell.
    const dies = `docker events --since ${since} --until $(date +%s) --filter event=die --filter label=com.docker.swarm.service.name=hello_web --format '{{.Actor.Attributes.exitCode}}'`;
    const exits = (await Promise.all(NODES.map((_, i) => docker(`pi-0${i + 1}`, dies)))).flatMap((out) => out.split('\n').filter(Boolean));
    expect(exits).toEqual(Array(7).fill('0'));
    expect((await services()).find((s) => s.name === 'hello_web')).toMatchObject({ stack: 'hello', mode: 'replicated', running: 2, desired: 2 });
  });

  it('refuses a scale the swarm cannot hold, naming the limit, and changes nothing', async () => {
    const run = await cli(['service', 'scale', 'hw_web=9']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('hw_web publishes 8080/tcp in host mode, so a node runs at most one of its tasks, and 6 node(s) may run it');
    expect(run.stderr).toContain('at most 6 replicas, not 9');
    expect((await services()).find((s) => s.name === 'hw_web')).toMatchObject({ running: 3, desired: 3 });
    const unknown = await cli(['service', 'scale', 'nosuch=2']);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toContain('No service "nosuch" in the swarm');
    expect((await cli(['service', 'scale', 'hello_web'])).stderr).toContain('"hello_web" is not NAME=N');
  });

  it('fails a scale the reservations cannot hold with the scheduler\'s reason, never reporting success', async () => {
    // Each lab node offers this machine's CPUs; a task reserving all of them fits once per node.
    const cpus = (await docker('pi-01', "docker node inspect self --format '{{.Description.Resources.NanoCPUs}}'")).trim();
    const big = join(dir, 'big.yml');
    writeFileSync(big, `services:\n  web:\n    image: ${REGISTRY}/hello-world:1\n    deploy:\n      replicas: 1\n      resources:\n        reservations:\n          cpus: '${Number(cpus) / 1e9}'\n`);
    expect((await cli(['stack', 'deploy', big, '--name', 'big', '--window', '0'])).code).toBe(0);
    const run = await cli(['service', 'scale', 'big_web=7', '--timeout', '60']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/big_web did not reach its new replica count: .*no suitable node \(insufficient resources on \d nodes?\)/);
    expect(run.stderr).not.toContain('all running');
    expect((await cli(['stack', 'rm', 'big'])).code).toBe(0);
  });

  it('refuses a drain that would strand tasks, naming the service and why each node cannot take them', async () => {
    const full = await cli(['service', 'scale', 'hw_web=6', '--window', '0']);
    expect(full.code, full.stderr).toBe(0);
    const run = await cli(['node', 'drain', 'pi-05']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Draining pi-05 would leave tasks with nowhere to run');
    expect(run.stderr).toMatch(/hw_web: 1 task\(s\) fit on no other node \(pi-01: already runs one \(port 8080\/tcp in host mode\)/);
    expect(run.stderr).toContain('Nothing was changed');
    expect((await nodes()).find((n) => n.hostname === 'pi-05')?.availability).toBe('active');
    expect((await cli(['service', 'scale', 'hw_web=3', '--window', '0'])).code).toBe(0);
  });

  it('drains a worker with --surge: a one-replica service scales up first and never stops; activate brings the node back', async () => {
    // The one hello task is where the drain must take it from.
    const scaled = await cli(['service', 'scale', 'hello_web=1', '--window', '0']);
    expect(scaled.code, scaled.stderr).toBe(0);
    const [node] = await runningOn('pi-01', 'hello_web');
    const dry = await cli(['node', 'drain', node!, '--surge', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`Draining ${node} would:\n  pause it and scale hello_web up first, and back after\n  move 1 task(s) of hello_web to`);
    expect((await nodes()).find((n) => n.hostname === node)?.availability).toBe('active');

    let least = Infinity;
    let watching = true;
    const watcher = (async () => {
      while (watching) least = Math.min(least, (await runningOn('pi-01', 'hello_web')).length);
    })();
    const run = await cli(['node', 'drain', node!, '--surge']);
    watching = false;
    await watcher;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`pause ${node}: no new task lands on it while hello_web scale up`);
    expect(run.stderr).toMatch(new RegExp(`${node} drained in [\\d.]+ s: its tasks run on pi-0\\d`));
    expect(least).toBeGreaterThanOrEqual(1);
    const after = await runningOn('pi-01', 'hello_web');
    expect(after).toHaveLength(1);
    expect(after).not.toContain(node);
    expect((await nodes()).find((n) => n.hostname === node)).toMatchObject({ availability: 'drain', tasks: 0 });

    const activate = await cli(['node', 'activate', node!]);
    expect(activate.code, activate.stderr).toBe(0);
    expect((await nodes()).find((n) => n.hostname === node)?.availability).toBe('active');
  });

  it('removes a worker: drained, left, removed, and the inventory no longer gives it a role', async () => {
    const run = await cli(['node', 'rm', 'pi-06', '--yes']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('docker swarm leave on pi-06');
    expect((await nodes()).map((n) => n.hostname)).not.toContain('pi-06');
    expect(await docker('pi-06', "docker info --format '{{.Swarm.LocalNodeState}}'")).toBe('inactive');
    const entry = Object.values(parse(readFileSync(inventory, 'utf8')).nodes as Record<string, { hostname: string; role?: string; swarmNodeId?: string }>).find((n) => n.hostname === 'pi-06');
    expect(entry).toBeDefined();
    expect(entry?.role).toBeUndefined();
    expect(entry?.swarmNodeId).toBeUndefined();
    expect((await services()).find((s) => s.name === 'hw_web')).toMatchObject({ running: 3, desired: 3 });
  });

  it('removes a manager of three: a worker is promoted first, so three managers keep quorum', async () => {
    const plan = await cli(['node', 'rm', 'pi-03', '--dry-run']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/1\. promote pi-0[45] to manager: so 3 managers \(an odd number\) remain once pi-03 is demoted\n  2\. demote pi-03 to worker/);
    const run = await cli(['node', 'rm', 'pi-03', '--yes']);
    expect(run.code, run.stderr).toBe(0);
    const after = await nodes();
    expect(after.map((n) => n.hostname)).not.toContain('pi-03');
    expect(after.filter((n) => n.role === 'manager')).toHaveLength(3);
    expect(after.filter((n) => n.role === 'manager').map((n) => n.hostname)).toContain(/promote (pi-0\d)/.exec(run.stderr)![1]);
  });

  it('keeps working with a manager powered off; refuses the demote that would lose quorum; rm --force removes the dead one', async () => {
    // Power off pi-02, one of the three managers: every process of it gone at once.
    expect((await lab('stop', 'pi-02')).code).toBe(0);
    await until(async () => (await nodes()).find((n) => n.hostname === 'pi-02')?.status === 'down', 60_000, 'pi-02 to be down');
    const ls = await cli(['node', 'ls']);
    expect(ls.stderr).toContain('pi-02 did not answer over SSH');
    expect((await cli(['service', 'scale', 'hello_web=3', '--window', '0'])).code).toBe(0);

    const demote = await cli(['node', 'demote', 'pi-01']);
    expect(demote.code).toBe(1);
    expect(demote.stderr).toContain('Demoting pi-01 would leave 2 manager(s) of which 1 reachable; 2 managers need ⌊2/2⌋ + 1 = 2 for quorum');
    expect(demote.stderr).toContain('piswarm node rm pi-02 --force');
    expect((await nodes()).find((n) => n.hostname === 'pi-01')?.role).toBe('manager');

    const refused = await cli(['node', 'rm', 'pi-02', '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('pi-02 is down in the swarm: it cannot drain or leave by itself');
    const run = await cli(['node', 'rm', 'pi-02', '--force', '--yes']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('docker node rm --force pi-02');
    const after = await nodes();
    expect(after.map((n) => n.hostname)).not.toContain('pi-02');
    expect(after.filter((n) => n.role === 'manager' && n.status === 'ready')).toHaveLength(3);
  });
});
