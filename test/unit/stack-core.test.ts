import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadCompose, stackNameOf, withExternalObjects } from '../../cli/core/compose-file.js';
import { assessConvergence, type ServiceState, type TaskState } from '../../cli/core/convergence.js';
import { parseImageRef } from '../../cli/core/image-ref.js';
import { architectureProblems, eligibleNodes, nodeCanRun, type SwarmNodeView } from '../../cli/core/placement.js';
import { resolveServiceName } from '../../cli/core/service-names.js';
import { composeFacts, planStack } from '../../cli/core/stack-plan.js';
import { parseServiceSpec } from '../../cli/core/swarm-objects.js';
import { ComposeError } from '../../cli/errors.js';

const problemsOf = (text: string, env: Record<string, string> = {}) => {
  try {
    loadCompose([{ path: 'stack.yml', text }], env);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(ComposeError);
    return (error as Error).message.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('stack.yml:'));
  }
};

describe('compose files', () => {
  it('interpolates variables once, with defaults and required ones, and escapes every $ it sends', () => {
    const stack = loadCompose([{ path: 'a.yml', text: 'services:\n  web:\n    image: ${REG:-hub}/app:${TAG}\n    command: echo $$HOME pa$X\n' }], { TAG: '7', X: '$HOME' });
    expect(stack.services[0]!.image).toBe('hub/app:7');
    // The manager substitutes again: what it receives must come back as `echo $HOME pa$HOME`.
    expect(parse(stack.text).services.web.command).toBe('echo $$HOME pa$$HOME');
    expect(problemsOf('services:\n  web:\n    image: ${IMG:?give the image}\n')).toEqual(['stack.yml:3: services.web.image: required variable IMG is missing a value: give the image']);
    expect(problemsOf('services:\n  web:\n    image: a\n    command: echo ${X:+alt}\n')[0]).toContain('invalid interpolation format');
  });

  it('merges later files over earlier ones as Docker does: maps merged, lists appended, ports, secrets and volumes by key', () => {
    const stack = loadCompose(
      [
        { path: 'a.yml', text: 'services:\n  web:\n    image: app:1\n    environment: [A=1, B=2]\n    ports: ["8080:80"]\n    deploy: {replicas: 3, update_config: {order: start-first}, placement: {constraints: [node.role==worker]}}\n' },
        { path: 'b.yml', text: 'services:\n  web:\n    environment: {B: "3"}\n    ports: ["8080:80", "9000:90"]\n    deploy: {replicas: 0, update_config: {order: stop-first}, placement: {constraints: [node.labels.x==y]}}\n' },
      ],
      {},
    );
    expect(parse(stack.text).services.web).toEqual({
      image: 'app:1',
      environment: { A: '1', B: '3' },
      ports: [
        { mode: 'ingress', target: 80, published: 8080, protocol: 'tcp' },
        { mode: 'ingress', target: 90, published: 9000, protocol: 'tcp' },
      ],
      deploy: { replicas: 0, update_config: { order: 'stop-first' }, placement: { constraints: ['node.role==worker', 'node.labels.x==y'] } },
    });
    expect(stack.services).toEqual([{ name: 'web', image: 'app:1', mode: 'replicated', replicas: 0, constraints: ['node.role==worker', 'node.labels.x==y'] }]);
  });

  it('names every problem by line and field, in line order, and warns of what swarm ignores', () => {
    expect(
      problemsOf(
        [
          'services:',
          '  web:',
          '    image: app:1',
          '    mem_limit: 1g',
          '    profiles: [debug]',
          '    ports: ["80:80:80"]',
          '    deploy:',
          '      mode: daemon',
          '      replicas: -1',
          '      placement: {constraints: ["role=manager"]}',
          'volume: {}',
        ].join('\n'),
      ),
    ).toEqual([
      'stack.yml:4: services.web.mem_limit: is a compose v2 key that stack files (v3) do not have; Docker refuses it ("forbidden properties")',
      'stack.yml:5: services.web.profiles: is not a key Docker allows here',
      'stack.yml:8: services.web.deploy.mode: must be one of replicated, global, replicated-job, global-job',
      'stack.yml:9: services.web.deploy.replicas: must be a whole number (0 or more)',
      'stack.yml:10: services.web.deploy.placement.constraints: "role=manager" is not a placement constraint (e.g. node.role==worker, node.labels.rabbitmq==true)',
      'stack.yml:11: volume: is not a key Docker allows here (version, services, networks, volumes, secrets, configs or x-…)',
    ]);
    expect(problemsOf('services:\n  web:\n    image: app:1\n    ports: ["80:80:80"]\n')).toEqual(['stack.yml: services.web.ports: "80:80:80" is not a port mapping such as "8080:80" or "53/udp"']);
    expect(problemsOf('services:\n  web:\n    image: a\n  web:\n    image: b\n')[0]).toMatch(/^stack.yml:4: Map keys must be unique/);
    expect(problemsOf('services:\n  web:\n    deploy: {replicas: 1}\n')).toEqual(['stack.yml:2: services.web.image: is missing: swarm runs images, so every service needs one']);
    expect(problemsOf('services:\n  web:\n    image: Me/App:1\n')[0]).toContain('must be lower case');
    const warned = loadCompose([{ path: 'stack.yml', text: 'services:\n  web:\n    image: app:1\n    build: .\n    container_name: web\n    privileged: true\n    ports: ["127.0.0.1:8001:8001"]\n' }], {}).warnings;
    expect(warned).toEqual([
      'stack.yml:4: services.web.build is ignored by swarm (swarm nodes pull images; piswarm images build builds and pushes them); Docker deploys without it',
      'stack.yml:6: services.web.privileged is ignored by swarm (swarm services cannot run privileged); Docker deploys without it',
      'stack.yml:5: services.web.container_name is ignored by swarm (swarm names its containers itself (a service has many)); Docker deploys without it',
      'stack.yml: services.web.ports: the address in "127.0.0.1:8001:8001" is ignored by swarm services: the port is published on every address',
    ]);
  });

  it('finds secrets and configs read from files, and swaps them for the external objects made from them', () => {
    const stack = loadCompose([{ path: 'a.yml', text: 'services:\n  web:\n    image: app:1\n    secrets: [pw]\nsecrets:\n  pw:\n    file: ./pw.txt\n  token:\n    external: true\nconfigs:\n  conf:\n    file: conf/app.ini\n' }], {});
    expect(stack.fileObjects).toEqual([
      { kind: 'secret', key: 'pw', file: './pw.txt' },
      { kind: 'config', key: 'conf', file: 'conf/app.ini' },
    ]);
    expect(stack.externalObjects).toEqual([{ kind: 'secret', name: 'token' }]);
    const sent = parse(withExternalObjects(stack, new Map([['secret:pw', 'a_pw_0123456789'], ['config:conf', 'a_conf_abcdef0123']])));
    expect(sent.secrets).toEqual({ pw: { external: true, name: 'a_pw_0123456789' }, token: { external: true } });
    expect(sent.configs).toEqual({ conf: { external: true, name: 'a_conf_abcdef0123' } });
  });

  it('names stacks after their file', () => {
    expect(stackNameOf('stacks/hello-world.yml')).toBe('hello-world');
    expect(stackNameOf('/x/IoT.yaml')).toBe('iot');
    expect(stackNameOf('docker-compose.yml')).toBe('stack');
  });
});

describe('image references', () => {
  it.each([
    ['nginx', 'docker.io', 'library/nginx', 'latest'],
    ['portainer/portainer-ce:2.21.0', 'docker.io', 'portainer/portainer-ce', '2.21.0'],
    ['10.77.0.1:5000/hello-world:1', '10.77.0.1:5000', 'hello-world', '1'],
    ['ghcr.io/me/app@sha256:abc', 'ghcr.io', 'me/app', 'sha256:abc'],
    ['localhost/app', 'localhost', 'app', 'latest'],
  ])('%s', (image, registry, repository, reference) => {
    expect(parseImageRef(image)).toEqual({ registry, repository, reference });
  });
});

describe('placement and architectures', () => {
  const node = (hostname: string, arch: string, extra: Partial<SwarmNodeView> = {}): SwarmNodeView => ({
    id: hostname,
    hostname,
    role: 'worker',
    arch,
    os: 'linux',
    labels: {},
    engineLabels: {},
    state: 'ready',
    availability: 'active',
    ...extra,
  });
  const nodes = [node('manager-01', 'aarch64', { role: 'manager' }), node('worker-01', 'armv7l', { labels: { rabbitmq: 'true' } }), node('worker-02', 'armv6l'), node('worker-03', 'armv7l', { availability: 'drain' })];

  it('keeps ready, active nodes that match every constraint', () => {
    expect(eligibleNodes(nodes, []).map((n) => n.hostname)).toEqual(['manager-01', 'worker-01', 'worker-02']);
    expect(eligibleNodes(nodes, ['node.role==worker', 'node.labels.rabbitmq==true']).map((n) => n.hostname)).toEqual(['worker-01']);
    expect(eligibleNodes(nodes, ['node.role!=manager', 'node.platform.arch==armv6l']).map((n) => n.hostname)).toEqual(['worker-02']);
  });

  it('runs v6 images on v7 Pis but not the other way round, and 64-bit only on 64-bit', () => {
    const v6 = [{ os: 'linux', architecture: 'arm', variant: 'v6' }];
    const v7 = [{ os: 'linux', architecture: 'arm', variant: 'v7' }];
    expect(nodeCanRun('armv7l', v6)).toBe(true);
    expect(nodeCanRun('armv6l', v7)).toBe(false);
    expect(nodeCanRun('aarch64', v7)).toBe(false);
    expect(nodeCanRun('x86_64', [{ os: 'linux', architecture: 'amd64' }])).toBe(true);
  });

  it('says which variant is missing and which nodes need it', () => {
    const amd64Arm64 = [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
    ];
    expect(architectureProblems('nginx:x', amd64Arm64, eligibleNodes(nodes, []))).toEqual(['nginx:x has no linux/arm/v7 variant, and worker-01 is armv7l', 'nginx:x has no linux/arm/v6 variant, and worker-02 is armv6l']);
  });
});

describe('convergence', () => {
  const service = (extra: Partial<ServiceState> = {}): ServiceState => ({ id: 's1', name: 'web', mode: 'replicated', desired: 2, ...extra });
  const task = (id: string, state: string, since: number, extra: Partial<TaskState> = {}): TaskState => ({ id, serviceId: 's1', nodeId: 'n1', state, desiredState: 'running', since, ...extra });
  const assess = (services: ServiceState[], tasks: TaskState[], now = 10_000) => assessConvergence(services, tasks, { now, windowMs: 3000, failLimit: 3, since: 0, nodeName: (id) => (id ? `pi-${id}` : undefined) });

  it('waits until every replica has been running for the whole window, and says when to look again', () => {
    const young = assess([service()], [task('a', 'running', 1000), task('b', 'running', 8000)]);
    expect(young).toMatchObject({ converged: false, recheckAt: 11_000, services: [{ running: 2, stable: 1, done: false }] });
    expect(assess([service()], [task('a', 'running', 1000), task('b', 'running', 8000)], 11_000).converged).toBe(true);
  });

  it('takes a task waiting for the host-mode port an old task still holds, during an update, for no failure', () => {
    const pending = task('new', 'pending', 5000, { nodeId: undefined, error: 'no suitable node (host-mode port already in use on 3 nodes)' });
    expect(assess([service({ updateState: 'updating' })], [task('a', 'running', 0), pending])).toMatchObject({ converged: false, services: [{ running: 1 }] });
    expect(assess([service({ updateState: 'updating' })], [task('a', 'running', 0), pending]).failure).toBeUndefined();
    // Outside an update nothing will free the port: that is hopeless.
    expect(assess([service()], [task('a', 'running', 0), pending]).failure).toEqual({ service: 'web', node: undefined, error: 'task pending: no suitable node (host-mode port already in use on 3 nodes)' });
  });

  it('does not count starting (not yet healthy) tasks, or old tasks being shut down', () => {
    expect(assess([service()], [task('a', 'running', 0), task('b', 'starting', 0), task('old', 'running', 0, { desiredState: 'shutdown' })]).converged).toBe(false);
  });

  it('counts a job done when its completions are in', () => {
    const job = service({ mode: 'replicated-job', desired: 2 });
    expect(assess([job], [task('a', 'complete', 1, { desiredState: 'complete' }), task('b', 'running', 1)]).converged).toBe(false);
    expect(assess([job], [task('a', 'complete', 1, { desiredState: 'complete' }), task('b', 'complete', 2, { desiredState: 'complete' })]).converged).toBe(true);
  });

  it('counts a service that runs once (Docker before 23 has no jobs in stacks) done when its tasks completed, and only such a service', () => {
    const finished = [task('a', 'complete', 1, { desiredState: 'shutdown' }), task('b', 'complete', 2, { desiredState: 'shutdown' })];
    expect(assess([service({ runsOnce: true })], finished).converged).toBe(true);
    expect(assess([service({ runsOnce: true })], [finished[0]!, task('b', 'running', 1)]).converged).toBe(false);
    expect(assess([service()], finished).converged).toBe(false);
  });

  it('fails at once on an error no retry fixes, naming the node', () => {
    const state = assess([service()], [task('a', 'rejected', 500, { error: 'No such image: portainer/portainer-ce:2.21.0', nodeId: '02' })]);
    expect(state.failure).toEqual({ service: 'web', node: 'pi-02', error: 'task rejected: No such image: portainer/portainer-ce:2.21.0' });
  });

  it('fails after repeated crashes, and on a rollback', () => {
    const crashes = [1, 2, 3].map((n) => task(`c${n}`, 'failed', n * 1000, { exitCode: 1, desiredState: 'shutdown' }));
    expect(assess([service()], crashes.slice(0, 2)).failure).toBeUndefined();
    expect(assess([service()], crashes).failure).toEqual({ service: 'web', node: 'pi-n1', error: 'task failed: exited with code 1' });
    expect(assess([service({ updateState: 'rollback_completed', updateMessage: 'update rolled back due to failure' })], []).failure?.error).toBe('update rollback completed: update rolled back due to failure');
  });
});

describe('service names', () => {
  const names = ['hello-world_web', 'iot_consumer', 'iot_web'];
  it('takes a full name, or a short one that only one stack has', () => {
    expect(resolveServiceName('hello-world_web', names)).toBe('hello-world_web');
    expect(resolveServiceName('consumer', names)).toBe('iot_consumer');
  });
  it('says which stacks share a short name, and what exists when nothing matches', () => {
    expect(() => resolveServiceName('web', names)).toThrow('Several stacks have a service "web": hello-world_web, iot_web.');
    expect(() => resolveServiceName('db', names)).toThrow('No service "db" in the swarm.');
  });
});

describe('the stacks in stacks/', () => {
  const dir = new URL('../../stacks/', import.meta.url);
  const env = {
    PORTAINER_AGENT_SECRET: 's',
    HELLO_PORT_MODE: 'host',
    ...Object.fromEntries(['AMQP_URL_FILE', 'PORTAINER_TLS_CERT_FILE', 'PORTAINER_TLS_KEY_FILE', 'REGISTRY_HTPASSWD_FILE', 'REGISTRY_TLS_CERT_FILE', 'REGISTRY_TLS_KEY_FILE', 'RABBITMQ_USERS_FILE'].map((v) => [v, `./${v.toLowerCase()}`])),
  };
  const read = (file: string) => ({ path: file, text: readFileSync(new URL(file, dir), 'utf8') });
  it.each(readdirSync(dir).filter((f) => f.endsWith('.yml')))('%s passes the same checks a deploy does', (file) => {
    // A lab override (x.lab.yml) is deployed over its base (x.yml).
    const files = file.endsWith('.lab.yml') ? [read(file.replace('.lab.yml', '.yml')), read(file)] : [read(file)];
    const stack = loadCompose(files, env);
    expect(stack.services.length).toBeGreaterThan(0);
    for (const service of stack.services) expect(service.image).toMatch(/^[\w.:/-]+:[\w.-]+$/);
    // Merged as Docker merges them: an override must not leave two ports on one published port.
    for (const service of Object.values(parse(stack.text).services as Record<string, { ports?: Array<{ published?: number }> }>)) {
      const published = (service.ports ?? []).map((p) => p.published).filter(Boolean);
      expect(new Set(published).size).toBe(published.length);
    }
  });
});

describe('stack plans', () => {
  const spec = {
    Spec: {
      Mode: { Replicated: { Replicas: 3 } },
      TaskTemplate: { ContainerSpec: { Image: 'app:1@sha256:abc', Env: ['B=2', 'A=1'] }, Placement: { Constraints: ['node.role==worker'] }, Resources: { Limits: { MemoryBytes: 67108864 } } },
      EndpointSpec: { Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }] },
    },
  };
  const compose = (extra: Record<string, unknown> = {}) => ({ image: 'app:1', environment: { A: '1', B: '2' }, ports: [{ mode: 'ingress', target: 80, published: 8080, protocol: 'tcp' }], deploy: { replicas: 3, placement: { constraints: ['node.role == worker'.replace(/ /g, '')] }, resources: { limits: { memory: '64M' } } }, ...extra });

  it('finds a file that matches the running service unchanged', () => {
    expect(planStack(new Map([['web', composeFacts(compose())]]), new Map([['web', parseServiceSpec(spec).facts]]), false)).toEqual([{ name: 'web', action: 'unchanged', changes: [] }]);
  });

  it('names each change, hides environment values, and creates, keeps or prunes services', () => {
    const want = composeFacts(compose({ image: 'app:2', environment: { A: 'other', C: 's3cret' }, ports: [], deploy: { replicas: 5, resources: { limits: { memory: '128M', cpus: '0.5' } } } }));
    const plans = planStack(new Map([['web', want], ['new', composeFacts({ image: 'x:1' })]]), new Map([['web', parseServiceSpec(spec).facts], ['old', parseServiceSpec(spec).facts]]), true);
    expect(plans).toEqual([
      { name: 'new', action: 'create', changes: [] },
      { name: 'old', action: 'remove', changes: [] },
      {
        name: 'web',
        action: 'update',
        changes: ['image app:1 → app:2', 'replicas 3 → 5', 'environment: C added, A changed, B removed (values not shown)', 'ports: -8080:80/tcp ingress', 'constraints: -node.role==worker', 'limits: cpus 0 → 0.5', 'limits: memory 64 MiB → 128 MiB'],
      },
    ]);
    expect(JSON.stringify(plans)).not.toContain('s3cret');
    expect(planStack(new Map(), new Map([['old', parseServiceSpec(spec).facts]]), false)[0]!.action).toBe('keep');
  });
});
