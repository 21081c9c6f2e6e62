import { describe, expect, it } from 'vitest';
import { loadCompose } from '../../cli/core/compose-file.js';
import { deployStack, type DeployOptions } from '../../cli/services/stack/deploy-stack.js';
import { listStacks, removeStack, stackTasks } from '../../cli/services/stack/manage-stacks.js';
import { planDeploy } from '../../cli/services/stack/plan-stack.js';
import { serviceLogs } from '../../cli/services/swarm/service-logs.js';
import { FakeSwarm } from '../helpers/fake-swarm.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const options: DeployOptions = { name: 'hello', timeoutMs: 5000, windowMs: 200, failLimit: 1, skipArchCheck: false, prune: false };
const ports = { inspectImage: async () => ({ platforms: [{ os: 'linux', architecture: 'arm64' }], digest: DIGEST }), readFile: async (path: string) => `contents of ${path}` };
const stack = (text: string) => loadCompose([{ path: 'stack.yml', text }], {});

function swarm() {
  return new FakeSwarm([{ id: 'm1', role: 'manager' }, { id: 'w1', role: 'worker' }], []);
}

describe('stack deploy through the engine', () => {
  it("deploys with the manager's docker stack deploy, then answers only once every task has run for the window", async () => {
    const fake = swarm();
    const manager = fake.session('m1');
    const seen: boolean[] = [];
    const started = Date.now();
    const result = await deployStack(manager, [manager], stack('services:\n  web:\n    image: registry.lan/hello:1\n    deploy:\n      replicas: 2\n'), options, ports, { warn: () => undefined, deployed: () => undefined, progress: (state) => void seen.push(state.converged) });
    expect(result.services).toEqual([{ name: 'web', desired: 2, running: 2, stable: 2, completed: 0, done: true }]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    // Looked at before the window passed (not done yet), and again once it had.
    expect(seen[0]).toBe(false);
    expect(seen.at(-1)).toBe(true);
    expect(fake.deploys).toHaveLength(1);
    expect(fake.deploys[0]!.script).toContain('stack deploy --with-registry-auth --resolve-image never --prune=false -c - hello');
    // Pinned to the digest the registry gave during the pre-flight.
    expect(fake.deploys[0]!.input).toContain(`registry.lan/hello:1@${DIGEST}`);
    expect(fake.placement()).toEqual({ hello_web: 'm1 w1' });
  });

  it('creates file secrets through the engine before the deploy, once: a second deploy finds them by name', async () => {
    const fake = swarm();
    const manager = fake.session('m1');
    const file = stack('services:\n  web:\n    image: registry.lan/hello:1\n    secrets: [token]\nsecrets:\n  token:\n    file: ./token.txt\n');
    const quiet = { warn: () => undefined, deployed: () => undefined, progress: () => undefined };
    await deployStack(manager, [manager], file, { ...options, windowMs: 0 }, ports, quiet);
    await deployStack(manager, [manager], file, { ...options, windowMs: 0 }, ports, quiet);
    const created = fake.writes.filter((w) => w.startsWith('create secret'));
    expect(created).toHaveLength(1);
    expect(created[0]).toMatch(/^create secret hello_token_[0-9a-f]+$/);
    expect(fake.writes.indexOf(created[0]!)).toBeLessThan(fake.writes.indexOf('create service hello_web'));
    expect(fake.deploys[1]!.input).toContain('external: true');
  });

  it("stops at the first task the nodes reject, naming the service, the node and the node's own words", async () => {
    const fake = swarm();
    fake.failing.set(`registry.lan/broken:1@${DIGEST}`, 'No such image: registry.lan/broken:1');
    const manager = fake.session('m1');
    const run = deployStack(manager, [manager], stack('services:\n  web:\n    image: registry.lan/broken:1\n'), options, ports, { warn: () => undefined, deployed: () => undefined, progress: () => undefined });
    await expect(run).rejects.toThrow('Stack hello did not converge: web on m1: task rejected: No such image: registry.lan/broken:1');
  });

  it('lists, shows and removes a stack as docker stack ls / ps / rm do, its secrets with it', async () => {
    const fake = new FakeSwarm([{ id: 'm1', role: 'manager' }], [{ id: 's1', name: 'hello_web', stack: 'hello', replicas: 2 }, { id: 's2', name: 'other_db', stack: 'other', replicas: 1 }]);
    fake.objects.push({ kind: 'secret', id: 'x1', name: 'hello_token', labels: { 'com.docker.stack.namespace': 'hello' } });
    const manager = fake.session('m1');
    expect(await listStacks(manager)).toEqual([{ name: 'hello', services: 1 }, { name: 'other', services: 1 }]);
    expect((await stackTasks(manager, 'hello')).map((t) => `${t.name} ${t.node} ${t.desired}`)).toEqual(['hello_web.1 m1 running', 'hello_web.2 m1 running']);
    expect(await removeStack(manager, 'hello')).toEqual(['service hello_web', 'secret hello_token']);
    expect(await listStacks(manager)).toEqual([{ name: 'other', services: 1 }]);
    expect(await removeStack(manager, 'hello')).toEqual([]);
  });

  it('plans a deploy against the running stack (created, updated, unchanged) and changes nothing', async () => {
    const fake = swarm();
    const manager = fake.session('m1');
    await deployStack(manager, [manager], stack('services:\n  web:\n    image: registry.lan/hello:1\n  db:\n    image: registry.lan/db:1\n'), { ...options, windowMs: 0 }, ports, { warn: () => undefined, deployed: () => undefined, progress: () => undefined });
    const writes = fake.writes.length;
    const plan = await planDeploy(manager, stack('services:\n  web:\n    image: registry.lan/hello:1\n    deploy:\n      replicas: 3\n  db:\n    image: registry.lan/db:1\n  cache:\n    image: registry.lan/cache:1\n'), 'hello', { prune: false, skipArchCheck: false }, ports);
    expect(plan.services.map((s) => `${s.name} ${s.action}`).sort()).toEqual(['cache create', 'db unchanged', 'web update']);
    expect(fake.writes.length).toBe(writes);
    expect(fake.deploys).toHaveLength(1);
  });

  it("shows a service's logs from every task, each line naming its task and node", async () => {
    const fake = new FakeSwarm([{ id: 'm1', role: 'manager' }, { id: 'w1', role: 'worker' }], [{ id: 's1', name: 'hello_web', stack: 'hello', replicas: 2 }], { s1: ['m1', 'w1'] });
    const lines: string[] = [];
    await serviceLogs(fake.session('m1'), 'web', { follow: false }, (line) => void lines.push(line), new AbortController().signal);
    expect(lines).toEqual([
      '2026-12-01T10:00:00.000000000Z hello_web.1.t1@m1    | hello from m1',
      '2026-12-01T10:00:00.000000000Z hello_web.2.t2@w1    | hello from w1',
    ]);
  });
});
