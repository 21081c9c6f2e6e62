import { describe, expect, it } from 'vitest';
import type { TaskState } from '../../cli/core/convergence.js';
import { assessDrain, planDrain } from '../../cli/core/drain-plan.js';
import { findSwarmNode } from '../../cli/core/node-table.js';
import type { SwarmNodeView } from '../../cli/core/placement.js';
import { checkDemotion, checkPromotion, planManagerRemoval, type ManagerView } from '../../cli/core/quorum.js';
import { describeStep, planRemoval } from '../../cli/core/removal-plan.js';
import { parseScaleTargets, resolveService, scaleProblem } from '../../cli/core/service-scale.js';
import { serviceRows } from '../../cli/core/service-table.js';
import { parseServiceSpec, parseTask, type ServiceSpecView } from '../../cli/core/swarm-objects.js';
import { UsageError } from '../../cli/errors.js';

/** A strict majority, said differently from quorumSize on purpose: the oracle of these tests. */
const majority = (up: number, of: number) => 2 * up > of;

/** Every way `n` managers can be up or down, named m1..mn. */
function mixes(n: number): ManagerView[][] {
  return Array.from({ length: 2 ** n }, (_, mask) => Array.from({ length: n }, (_, i) => ({ hostname: `m${i + 1}`, reachable: (mask & (1 << i)) !== 0 })));
}

describe('quorum checks, 1 to 7 managers, every reachable/unreachable mix', () => {
  for (let n = 1; n <= 7; n++) {
    it(`demoting any one of ${n} manager(s) is refused exactly when quorum or the last manager would be lost`, () => {
      for (const managers of mixes(n)) {
        const up = managers.filter((m) => m.reachable).length;
        for (const target of managers) {
          const verdict = checkDemotion(managers, target.hostname);
          const upAfter = up - (target.reachable ? 1 : 0);
          const safe = majority(up, n) && n > 1 && majority(upAfter, n - 1);
          expect(verdict.refusal === undefined, `${n} managers, ${up} up, demote ${target.hostname} (${target.reachable ? 'up' : 'down'})`).toBe(safe);
          if (!majority(up, n)) expect(verdict.refusal).toContain(`The swarm has lost quorum: ${up} of ${n} managers are reachable`);
          else if (n === 1) expect(verdict.refusal).toContain("is the swarm's last manager");
          else if (!safe) expect(verdict.refusal).toContain(`would leave ${n - 1} manager(s) of which ${upAfter} reachable; ${n - 1} managers need ⌊${n - 1}/2⌋ + 1 = ${Math.floor((n - 1) / 2) + 1}`);
          expect(Boolean(verdict.warning)).toBe(safe && (n - 1) % 2 === 0);
        }
      }
    });

    it(`promoting a worker beside ${n} manager(s) is refused when quorum is lost or the worker is down`, () => {
      for (const managers of mixes(n)) {
        const up = managers.filter((m) => m.reachable).length;
        for (const reachable of [true, false]) {
          const verdict = checkPromotion(managers, { hostname: 'w1', reachable });
          expect(verdict.refusal === undefined).toBe(majority(up, n) && reachable);
          expect(Boolean(verdict.warning)).toBe(verdict.refusal === undefined && ((n + 1) % 2 === 0 || n + 1 > 7));
        }
      }
    });

    it(`removing one of ${n} manager(s) keeps an odd count when a worker can be promoted, and quorum at every step`, () => {
      for (const managers of mixes(n)) {
        const up = managers.filter((m) => m.reachable).length;
        for (const target of managers) {
          const t = target.reachable ? 1 : 0;
          const { promote, verdict } = planManagerRemoval(managers, target.hostname, ['w1']);
          if (verdict.refusal) {
            // Refused only when some step would lose quorum or no manager would be left.
            const count = n + (promote ? 1 : 0);
            expect(!majority(up, n) || n === 1 || !majority(up + (promote ? 1 : 0) - t, count - 1)).toBe(true);
            continue;
          }
          const final = n - 1 + (promote ? 1 : 0);
          expect(final % 2 === 1 || final >= 7, `${n} managers: ${final} left`).toBe(true);
          if (promote) expect(majority(up + 1, n + 1)).toBe(true);
          expect(majority(up + (promote ? 1 : 0) - t, final)).toBe(true);
        }
      }
    });
  }

  it('without a worker to promote, removing one of three warns of the even count it leaves', () => {
    const three = mixes(3).at(-1)!;
    const { promote, verdict } = planManagerRemoval(three, 'm3', []);
    expect(promote).toBeUndefined();
    expect(verdict.warning).toContain('2 managers need 2 up to keep quorum');
    expect(verdict.warning).toContain('Promote a worker or demote a manager');
  });

  it('the fault-tolerance rescue: with one of three down, the dead one can go (a worker promoted first), a live one cannot', () => {
    const managers = [
      { hostname: 'm1', reachable: true },
      { hostname: 'm2', reachable: false },
      { hostname: 'm3', reachable: true },
    ];
    expect(checkDemotion(managers, 'm1').refusal).toContain('Demoting m1 would leave 2 manager(s) of which 1 reachable');
    expect(checkDemotion(managers, 'm1').hint).toContain('piswarm node rm m2 --force');
    expect(planManagerRemoval(managers, 'm2', ['w1'])).toEqual({ promote: 'w1', verdict: {} });
  });
});

const swarmNode = (n: number, extra: Partial<SwarmNodeView> = {}): SwarmNodeView => ({
  id: `n${n}`,
  hostname: `pi-0${n}`,
  role: 'worker',
  arch: 'x86_64',
  os: 'linux',
  labels: {},
  engineLabels: {},
  state: 'ready',
  availability: 'active',
  nanoCpus: 4e9,
  memoryBytes: 4 * 2 ** 30,
  ...extra,
});
const service = (name: string, extra: Partial<ServiceSpecView> = {}): ServiceSpecView => ({
  id: `s-${name}`,
  name,
  mode: 'replicated',
  replicas: 1,
  image: 'registry:5000/app:1',
  constraints: [],
  maxReplicasPerNode: 0,
  reservations: { nanoCpus: 0, memoryBytes: 0 },
  hostPorts: [],
  runsOnce: false,
  localMounts: [],
  ...extra,
});
let taskSeq = 0;
const task = (svc: string, node: number, extra: Partial<TaskState> = {}): TaskState => ({ id: `t${++taskSeq}`, serviceId: `s-${svc}`, nodeId: `n${node}`, state: 'running', desiredState: 'running', since: 1000, ...extra });

describe('drain plan', () => {
  const three = [swarmNode(1, { role: 'manager' }), swarmNode(2), swarmNode(3)];

  it('spreads the node\'s tasks over the others, fewest of the service first', () => {
    const web = service('web', { replicas: 4 });
    const plan = planDrain(three[2]!, three, [web], [task('web', 1), task('web', 2), task('web', 3), task('web', 3)], new Map());
    expect(plan.moves).toEqual([{ service: 'web', tasks: 2, to: ['pi-01', 'pi-02'] }]);
    expect(plan.blocked).toEqual([]);
    expect(plan.alone).toEqual([]);
  });

  it('blocks a host-mode port every other node already holds, saying why for each node', () => {
    const web = service('web', { replicas: 3, hostPorts: ['8080/tcp'] });
    const plan = planDrain(three[1]!, three, [web], [task('web', 1), task('web', 2), task('web', 3)], new Map());
    expect(plan.blocked).toEqual([{ service: 'web', tasks: 1, reason: 'pi-01: already runs one (port 8080/tcp in host mode); pi-03: already runs one (port 8080/tcp in host mode)' }]);
  });

  it("blocks on another service's port, constraints, availability, architecture and reservations", () => {
    const nodes = [
      swarmNode(1, { availability: 'pause' }),
      swarmNode(2, { labels: { zone: 'b' } }),
      swarmNode(3, { arch: 'armv7l', labels: { zone: 'a' } }),
      swarmNode(4, { labels: { zone: 'a' }, memoryBytes: 2 ** 30 }),
      swarmNode(5, { labels: { zone: 'a' }, state: 'down' }),
      swarmNode(6, { labels: { zone: 'a' } }),
      swarmNode(7, { labels: { zone: 'a' } }),
    ];
    const db = service('db', { constraints: ['node.labels.zone==a'], reservations: { nanoCpus: 0, memoryBytes: 2 ** 30 }, hostPorts: ['5432/tcp'] });
    const other = service('other', { hostPorts: ['5432/tcp'] });
    const hog = service('hog', { reservations: { nanoCpus: 4e9, memoryBytes: 0 } });
    const big = service('big', { reservations: { nanoCpus: 0, memoryBytes: 2 ** 29 } });
    const armless = new Map([['registry:5000/app:1', [{ os: 'linux', architecture: 'amd64' }]]]);
    const tasks = [task('db', 6), task('other', 7), task('hog', 4), task('big', 4)];
    const target = nodes[5]!;
    const plan = planDrain(target, nodes, [db, other, hog, big], tasks, armless);
    expect(plan.blocked).toHaveLength(1);
    expect(plan.blocked[0]!.reason).toBe(
      [
        'pi-01: availability pause',
        'pi-02: does not meet node.labels.zone==a',
        'pi-03: registry:5000/app:1 has no linux/arm/v7 variant',
        'pi-04: reserves 1024 MiB, 512 of 1024 MiB free',
        'pi-05: down',
        'pi-07: port 5432/tcp held by other',
      ].join('; '),
    );
    expect(plan.alone).toEqual([{ service: 'db', tasks: 1, replicas: 1 }]);
  });

  it('counts CPU reservations, and places tasks as it goes (the second of two fits nowhere)', () => {
    const cpu = service('cpu', { replicas: 3, reservations: { nanoCpus: 3e9, memoryBytes: 0 } });
    const plan = planDrain(three[1]!, three, [cpu], [task('cpu', 1), task('cpu', 2), task('cpu', 2, { state: 'starting' })], new Map());
    expect(plan.moves).toEqual([{ service: 'cpu', tasks: 1, to: ['pi-03'] }]);
    expect(plan.blocked).toEqual([{ service: 'cpu', tasks: 1, reason: 'pi-01: reserves 3 CPU, 1 of 4 free; pi-03: reserves 3 CPU, 1 of 4 free' }]);
  });

  it('warns that global tasks stop and local volumes stay, and skips tasks no longer wanted', () => {
    const agent = service('agent', { mode: 'global' });
    const data = service('data', { replicas: 2, localMounts: ['pgdata'] });
    const plan = planDrain(three[1]!, three, [agent, data], [task('agent', 2), task('data', 2), task('data', 3), task('data', 2, { desiredState: 'shutdown' })], new Map());
    expect(plan.warnings).toEqual([
      'agent is global: its task on pi-02 stops and does not move (it comes back when the node is active again).',
      'data keeps pgdata on pi-02: a task started on another node does not get that data.',
    ]);
    expect(plan.moves).toEqual([{ service: 'data', tasks: 1, to: ['pi-01'] }]);
  });
});

describe('drain progress', () => {
  const web = service('web', { replicas: 2 });
  it('is done when the replicas run elsewhere and nothing of them is left on the node, stopping tasks included', () => {
    const moving = [task('web', 2, { desiredState: 'shutdown', state: 'running' }), task('web', 1), task('web', 3, { state: 'starting' })];
    expect(assessDrain('n2', [web], moving, { since: 0, stranded: new Map() })).toMatchObject({ done: false, services: [{ name: 'web', expected: 2, runningElsewhere: 1, leftOnNode: 1 }] });
    const moved = [task('web', 2, { desiredState: 'shutdown', state: 'shutdown' }), task('web', 1), task('web', 3)];
    expect(assessDrain('n2', [web], moved, { since: 0, stranded: new Map() }).done).toBe(true);
  });

  it('fails on a replacement no retry will place, unless the service was stranded on purpose (--force)', () => {
    const stuck = [task('web', 1), { ...task('web', 1), nodeId: undefined, state: 'pending', error: 'no suitable node (1 node not available for new tasks)', since: 5000 }];
    expect(assessDrain('n2', [web], stuck, { since: 4000, stranded: new Map() }).failure).toEqual({ service: 'web', error: 'no suitable node (1 node not available for new tasks)' });
    const forced = assessDrain('n2', [web], stuck, { since: 4000, stranded: new Map([['web', 1]]) });
    expect(forced).toMatchObject({ done: true, services: [{ expected: 1 }] });
    expect(forced.failure).toBeUndefined();
  });
});

describe('removal plan', () => {
  const swarm = [swarmNode(1, { role: 'manager', reachable: true }), swarmNode(2, { role: 'manager', reachable: true }), swarmNode(3, { role: 'manager', reachable: true }), swarmNode(4), swarmNode(5)];

  it('removes a worker: drain, leave, rm', () => {
    const plan = planRemoval(swarm[4]!, swarm, { sshReachable: true, force: false });
    expect(plan.steps.map((s) => s.kind)).toEqual(['drain', 'leave', 'remove']);
    expect(plan.steps.map(describeStep).at(-1)).toBe('docker node rm pi-05: the managers forget it once it is down');
  });

  it('removes a manager of three: promote a worker, demote, drain, leave, rm', () => {
    const plan = planRemoval(swarm[2]!, swarm, { sshReachable: true, force: false });
    expect(plan.steps.map((s) => `${s.kind} ${s.node}`)).toEqual(['promote pi-04', 'demote pi-03', 'drain pi-03', 'leave pi-03', 'remove pi-03']);
  });

  it('refuses a node that is down without --force, and with it demotes and removes it by force', () => {
    const dead = swarm.map((n) => (n.id === 'n2' ? { ...n, state: 'down', reachable: false } : n));
    expect(planRemoval(dead[1]!, dead, { sshReachable: false, force: false }).refusal?.message).toBe('pi-02 is down in the swarm: it cannot drain or leave by itself.');
    const plan = planRemoval(dead[1]!, dead, { sshReachable: false, force: true });
    expect(plan.steps.map((s) => `${s.kind} ${s.node}`)).toEqual(['promote pi-04', 'demote pi-02', 'remove pi-02']);
    expect(plan.steps.at(-1)).toMatchObject({ force: true });
  });

  it('refuses a node that is up but unreachable over SSH unless --force, and the last manager always', () => {
    expect(planRemoval(swarm[3]!, swarm, { sshReachable: false, force: false }).refusal?.message).toContain('does not answer over SSH');
    const single = [swarmNode(1, { role: 'manager', reachable: true }), swarmNode(2)];
    expect(planRemoval(single[0]!, single, { sshReachable: true, force: true }).refusal?.message).toContain("last manager");
  });
});

describe('service scale', () => {
  const nodes = [swarmNode(1), swarmNode(2), swarmNode(3, { availability: 'drain' })];
  it('parses NAME=N, refusing anything else', () => {
    expect(parseScaleTargets(['web=9', 'hello_web=0'])).toEqual([{ name: 'web', replicas: 9 }, { name: 'hello_web', replicas: 0 }]);
    for (const bad of [[], ['web'], ['web=-1'], ['web=x'], ['web=1', 'web=2'], ['=3']]) expect(() => parseScaleTargets(bad)).toThrow(UsageError);
  });

  it("finds a service by full name, ID prefix, or a stack's short name when only one stack has it", () => {
    const all = [service('hello_web', { stack: 'hello' }), service('hw_web', { stack: 'hw' }), service('iot_consumer', { stack: 'iot' })];
    expect(resolveService(all, 'consumer').name).toBe('iot_consumer');
    expect(resolveService(all, 's-hw_web').name).toBe('hw_web');
    expect(() => resolveService(all, 'web')).toThrow('Several stacks have a service "web": hello_web, hw_web.');
    expect(() => resolveService(all, 'db')).toThrow('No service "db" in the swarm');
  });

  it('refuses global services and counts above what host-mode ports or max_replicas_per_node allow on eligible nodes', () => {
    expect(scaleProblem(service('agent', { mode: 'global' }), 3, nodes)).toContain('agent is a global service');
    expect(scaleProblem(service('web', { hostPorts: ['8080/tcp'] }), 3, nodes)).toBe(
      'web publishes 8080/tcp in host mode, so a node runs at most one of its tasks, and 2 node(s) may run it (pi-01, pi-02): at most 2 replicas, not 3.',
    );
    expect(scaleProblem(service('web', { hostPorts: ['8080/tcp'] }), 2, nodes)).toBeUndefined();
    expect(scaleProblem(service('w', { maxReplicasPerNode: 2 }), 5, nodes)).toContain('allows 2 task(s) per node');
    expect(scaleProblem(service('w'), 500, nodes)).toBeUndefined();
  });
});

describe('engine JSON', () => {
  it('reads placement, reservations, host ports and local mounts from a service, and a task', () => {
    const spec = parseServiceSpec({
      ID: 'abc',
      Spec: {
        Name: 'iot_broker',
        Labels: { 'com.docker.stack.namespace': 'iot' },
        Mode: { Replicated: { Replicas: 2 } },
        TaskTemplate: {
          ContainerSpec: { Image: 'rabbitmq:3@sha256:0123abcd', Mounts: [{ Type: 'volume', Source: 'data', Target: '/var/lib/rabbitmq' }, { Type: 'tmpfs', Target: '/tmp' }] },
          Placement: { Constraints: ['node.labels.broker==true'], MaxReplicas: 1 },
          Resources: { Reservations: { NanoCPUs: 5e8, MemoryBytes: 268435456 } },
        },
        EndpointSpec: { Ports: [{ Protocol: 'tcp', TargetPort: 5672, PublishedPort: 5672, PublishMode: 'host' }, { Protocol: 'tcp', TargetPort: 15672, PublishedPort: 15672, PublishMode: 'ingress' }] },
      },
    });
    expect(spec).toMatchObject({ name: 'iot_broker', stack: 'iot', replicas: 2, image: 'rabbitmq:3', constraints: ['node.labels.broker==true'], maxReplicasPerNode: 1, reservations: { nanoCpus: 5e8, memoryBytes: 268435456 }, hostPorts: ['5672/tcp'], localMounts: ['data'], runsOnce: false });
    const once = { Spec: { Mode: { Replicated: { Replicas: 1 } }, TaskTemplate: { RestartPolicy: { Condition: 'on-failure' } } } };
    expect(parseServiceSpec(once).runsOnce).toBe(true);
    expect(parseServiceSpec({ Spec: { ...once.Spec, Mode: { Global: {} } } }).runsOnce).toBe(false);
    expect(parseTask({ ID: 't', ServiceID: 'abc', NodeID: '', DesiredState: 'running', Status: { State: 'pending', Timestamp: '2026-01-01T00:00:00Z', Err: 'no suitable node' } })).toEqual({
      id: 't',
      serviceId: 'abc',
      nodeId: undefined,
      state: 'pending',
      desiredState: 'running',
      since: Date.parse('2026-01-01T00:00:00Z'),
      error: 'no suitable node',
      exitCode: undefined,
    });
  });

  it('service rows count running tasks against replicas, or eligible nodes for a global service', () => {
    const rows = serviceRows([service('web', { replicas: 2, stack: 'hello' }), service('agent', { mode: 'global', replicas: undefined, updateState: 'rollback_completed' })], [task('web', 1), task('web', 2, { state: 'preparing' }), task('agent', 1)], [swarmNode(1), swarmNode(2), swarmNode(3, { state: 'down' })]);
    expect(rows).toEqual([
      { name: 'agent', mode: 'global', running: 1, desired: 2, image: 'registry:5000/app:1', update: 'rollback_completed' },
      { name: 'web', stack: 'hello', mode: 'replicated', running: 1, desired: 2, image: 'registry:5000/app:1' },
    ]);
  });

  it('finds a swarm node by hostname, ID, or the inventory\'s MAC or IP, and names the swarm\'s nodes otherwise', () => {
    const swarm = [swarmNode(1), swarmNode(2)];
    const inventory = [{ mac: 'b8:27:eb:00:00:02', hostname: 'worker-02', ip: '10.0.0.12', swarmNodeId: 'n2' }];
    expect(findSwarmNode(swarm, inventory, 'PI-01').id).toBe('n1');
    expect(findSwarmNode(swarm, inventory, '10.0.0.12').id).toBe('n2');
    expect(findSwarmNode(swarm, inventory, 'B8:27:EB:00:00:02').id).toBe('n2');
    expect(() => findSwarmNode(swarm, inventory, 'pi-09')).toThrow('No node "pi-09" in the swarm.');
  });
});
