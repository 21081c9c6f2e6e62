import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { sameHostKey } from '../../cli/core/host-key.js';
import type { DeployResult } from '../../cli/services/stack/deploy-stack.js';
import { piswarm } from '../helpers/cli.js';
import { pushSingleArchImage, startSwarmLab, variantRef } from '../helpers/lab-images.js';
import { daemonHostPid, labEnv, labLeftovers } from '../helpers/lab.js';
import { until } from '../helpers/wait.js';

const NAME = 'stk';
const REGISTRY = '10.87.0.1:5000';
const NODES = ['10.87.0.11', '10.87.0.12', '10.87.0.13'];
const STACKS = fileURLToPath(new URL('../../stacks', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'piswarm-stack-'));
const user = { HOME: dir, SSH_AUTH_SOCK: '' };
const inventory = join(dir, 'piswarm.yaml');
const lab = (command: string, ...args: string[]) => piswarm(['lab', command, '--name', NAME, ...args], { env: labEnv });
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => piswarm(['--inventory', inventory, ...args], { env: { ...user, ...env } });
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const hello = () => Promise.all(NODES.map(async (ip) => (await fetch(`http://${ip}:8080/`)).text()));
const deployHello = () => cli(['stack', 'deploy', join(STACKS, 'hello-world.yml'), '-c', join(STACKS, 'hello-world.lab.yml'), '--json'], { HELLO_IMAGE: `${REGISTRY}/hello-world:1`, HELLO_PORT_MODE: 'host' });
let labPids: number[] = [];

beforeAll(async () => {
  labPids = await startSwarmLab({ name: NAME, subnet: '10.87.0.0/24', nodes: NODES, registry: REGISTRY, inventory, env: user });
});

afterAll(async () => {
  // Always tear down, whatever failed above: CI runs on this same machine afterwards.
  await lab('down');
  expect(labLeftovers(NAME, labPids)).toEqual([]);
});

describe('piswarm stack on the lab', () => {
  it('deploys hello-world, 3 replicas on 3 nodes, and reports it only once every task is up', async () => {
    const run = await deployHello();
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as DeployResult;
    expect(result.services).toEqual([{ name: 'web', desired: 3, running: 3, stable: 3, completed: 0, done: true }]);
    const answers = await hello();
    expect(answers.map((a) => a.replace(/^Hello from \w+ on /, '').trim())).toEqual(['pi-01', 'pi-02', 'pi-03']);
    expect(new Set(answers.map((a) => a.split(' ')[2])).size).toBe(3);
    // Pinned to the digest the registry names for the tag: a tag pushed over later is not what a restarted task runs.
    const pinned = await lab('exec', 'pi-01', '--', 'docker', 'service', 'inspect', 'hello-world_web', '--format', '{{.Spec.TaskTemplate.ContainerSpec.Image}}');
    const digest = (await fetch(`http://${REGISTRY}/v2/hello-world/manifests/1`, { method: 'HEAD', headers: { accept: 'application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json' } })).headers.get('docker-content-digest');
    expect(digest).toMatch(/^sha256:/);
    expect(pinned.stdout.trim()).toBe(`${REGISTRY}/hello-world:1@${digest}`);
  });

  it('re-deploys an unchanged stack without restarting anything', async () => {
    const before = await hello();
    const run = await deployHello();
    expect(run.code, run.stderr).toBe(0);
    expect(await hello()).toEqual(before);
  });

  it('diffs a file against the running stack, and a dry run plans a deploy without changing anything', async () => {
    const helloEnv = { HELLO_IMAGE: `${REGISTRY}/hello-world:1`, HELLO_PORT_MODE: 'host' };
    const base = [join(STACKS, 'hello-world.yml'), '-c', join(STACKS, 'hello-world.lab.yml')];
    const same = await cli(['stack', 'diff', ...base], helloEnv);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toContain('Stack hello-world: no service would change.');

    const more = file('more.yml', `services:\n  web:\n    environment:\n      API_TOKEN: s3cret-value\n    deploy:\n      replicas: 2\n      resources: {limits: {memory: 64M}}\n  extra:\n    image: ${REGISTRY}/hello-world:1\n`);
    const diff = await cli(['stack', 'diff', ...base, '-c', more], helloEnv);
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout).toMatch(/extra\s+create\s+new service/);
    expect(diff.stdout).toMatch(/web\s+update\s+replicas 3 → 2/);
    expect(diff.stdout).toContain('environment: API_TOKEN added (values not shown)');
    expect(diff.stdout).toContain('limits: memory none → 64 MiB');
    expect(diff.stdout + diff.stderr).not.toContain('s3cret-value');

    const before = await hello();
    const dry = await cli(['stack', 'deploy', ...base, '-c', more, '--dry-run'], helloEnv);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/web\s+update\s+replicas 3 → 2/);
    expect(dry.stderr).toContain('Nothing was changed (--dry-run)');
    expect(dry.stdout).toMatch(/hello-world:1\s+runs on x86_64 \(arm\/v6, arm\/v7, arm64, amd64 published\), pinned to sha256:[0-9a-f]{12}…/);
    expect(await hello()).toEqual(before);
    expect((await cli(['stack', 'ls'])).stdout).toMatch(/hello-world\s+1\b/);
  });

  it('starts no program on the manager to follow a deploy: one connection, its shell and the deploy itself, beside the login message of the day', async () => {
    const sshd = String(await daemonHostPid(NAME, 'pi-01', 'sshd.pid'));
    const trace = join(dir, 'execs.trace');
    // Every program started under the manager's sshd: the connections it forks and everything they run.
    const strace = spawn('strace', ['-f', '-qq', '-e', 'trace=execve', '-e', 'signal=none', '-o', trace, '-p', sshd], { stdio: 'ignore' });
    await until(() => existsSync(trace), 5000, 'strace to attach');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stack = file('counted.yml', `services:\n  web:\n    image: ${REGISTRY}/hello-world:1\n`);
    try {
      const run = await cli(['stack', 'deploy', stack, '--window', '10']);
      expect(run.code, run.stderr).toBe(0);
    } finally {
      strace.kill('SIGINT');
      await new Promise((resolve) => strace.once('exit', resolve));
      await cli(['stack', 'rm', 'counted']);
    }
    const programs = readFileSync(trace, 'utf8').split('\n').filter((line) => /execve\(/.test(line) && /= 0$/.test(line)).map((line) => /execve\("([^"]+)"/.exec(line)![1]!);
    // The login's message of the day, which Debian's PAM runs for every SSH session (as on a Pi): the node's, not piswarm's.
    const motd = /^\/bin\/sh$|^\/usr\/bin\/env$|^\/usr\/bin\/run-parts$|^\/etc\/update-motd\.d\/|^\/usr\/bin\/uname$/;
    // Was 250 with a shell and curl for every look at the swarm, and a probe connection first: now
    // one connection (sshd's re-exec), its login shell and `docker stack deploy`; the rest is API calls.
    expect(programs.filter((p) => !motd.test(p)), programs.join(', ')).toEqual(['/usr/sbin/sshd', '/bin/bash', '/usr/local/bin/docker']);
    expect(programs.length, programs.join(', ')).toBeLessThanOrEqual(8);
  });

  it('pins a host key the inventory lacks on first use, in commands that go through a manager', async () => {
    const data = parse(readFileSync(inventory, 'utf8')) as { nodes: Record<string, { hostname: string; hostKey?: string }> };
    const [mac, node] = Object.entries(data.nodes).find(([, n]) => n.hostname === 'pi-02')!;
    const key = node.hostKey!;
    delete node.hostKey;
    writeFileSync(inventory, stringify(data));
    const run = await cli(['stack', 'ls']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('Host key of pi-02 pinned');
    const after = parse(readFileSync(inventory, 'utf8')) as typeof data;
    expect(sameHostKey(after.nodes[mac]!.hostKey!, key)).toBe(true);
  });

  it("shows a service's logs from every task on every node, each line naming its task and node", async () => {
    await hello();
    const run = await cli(['logs', 'web', '--tail', '5']);
    expect(run.code, run.stderr).toBe(0);
    // busybox httpd -v logs each request ("url:/"), the healthcheck's included.
    const nodes = new Set([...run.stdout.matchAll(/^\d{4}-\d\d-\d\dT\S+ hello-world_web\.\d\.\w+@(pi-0\d)\s+\| .*url:\//gm)].map((m) => m[1]));
    expect([...nodes].sort(), run.stdout).toEqual(['pi-01', 'pi-02', 'pi-03']);
    const unknown = await cli(['logs', 'nope']);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toContain('No service "nope" in the swarm.');
    expect(unknown.stderr).toContain('Services: hello-world_web');
  });

  it("runs the arm64 variant of hello-world's manifest list under qemu on a lab node", async () => {
    const image = await variantRef(REGISTRY, 'hello-world', '1', { architecture: 'arm64' });
    const run = await lab('exec', 'pi-02', '--', 'sh', '-c', `c=$(docker run -d --platform linux/arm64 -e NODE_NAME=pi-02 -p 8082:80 ${image}) && sleep 1 && wget -qO- http://127.0.0.1:8082/ && docker exec "$c" uname -m; docker rm -f "$c" >/dev/null`);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Hello from \w+ on pi-02\naarch64\n$/);
  });

  it('refuses an invalid compose file before contacting any node, naming file, line and field', async () => {
    const bad = file('bad.yml', `services:\n  web:\n    image: ${REGISTRY}/hello-world:1\n    deploy:\n      replicas: three\n`);
    const run = await cli(['stack', 'deploy', bad]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${bad}:5: services.web.deploy.replicas: must be a whole number (0 or more)`);
    const undefinedVariable = file('var.yml', 'services:\n  web:\n    image: ${NO_SUCH_IMAGE}\n');
    const unset = await cli(['stack', 'deploy', undefinedVariable]);
    expect(unset.stderr).toContain(`${undefinedVariable}:3: services.web.image: \${NO_SUCH_IMAGE} is not set, and has no default`);
    expect((await cli(['stack', 'ls'])).stdout).not.toMatch(/^bad|^var/m);
  });

  it('refuses an image with no variant for the nodes it may run on, in one sentence, deploying nothing', async () => {
    const image = await pushSingleArchImage(REGISTRY, 'arm-only', '1', 'arm64');
    const stack = file('armonly.yml', `services:\n  app:\n    image: ${image}\n`);
    const run = await cli(['stack', 'deploy', stack]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Error: ${image} has no linux/amd64 variant, and pi-01, pi-02, pi-03 are x86_64`);
    expect(run.stderr).toContain('--skip-arch-check');
    expect((await cli(['stack', 'ls'])).stdout).not.toContain('armonly');
  });

  it('fails, naming the node and the pull error, when an image cannot be pulled (no hang)', async () => {
    const stack = file('offline.yml', 'services:\n  portainer:\n    image: portainer/portainer-ce:2.21.0\n');
    const run = await cli(['stack', 'deploy', stack, '--timeout', '120']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Can't check the architectures of portainer/portainer-ce:2.21.0");
    expect(run.stderr).toMatch(/Error: Stack offline did not converge: portainer on pi-0\d: task rejected: No such image: portainer\/portainer-ce:2\.21\.0/);
    const ps = await cli(['stack', 'ps', 'offline']);
    expect(ps.stdout).toContain('No such image');
  });

  it('creates secrets from local files (content on stdin, never on a command line) for the services that use them', async () => {
    file('greeting.txt', 'hello from a secret file\n');
    const stack = file('secret.yml', `services:\n  app:\n    image: ${REGISTRY}/hello-world:1\n    secrets: [greeting]\nsecrets:\n  greeting:\n    file: ./greeting.txt\n`);
    const run = await cli(['stack', 'deploy', stack]);
    expect(run.code, run.stderr).toBe(0);
    const read = 'for c in $(docker ps -q --filter label=com.docker.swarm.service.name=secret_app); do docker exec "$c" cat /run/secrets/greeting; done';
    const seen = await Promise.all(['pi-01', 'pi-02', 'pi-03'].map((node) => lab('exec', node, '--', 'sh', '-c', read)));
    expect(seen.map((r) => r.stdout).join('')).toBe('hello from a secret file\n');
    const missing = await cli(['stack', 'deploy', file('nosecret.yml', 'services:\n  app:\n    image: x\nsecrets:\n  key:\n    file: ./absent.pem\n'), '--skip-arch-check']);
    expect(missing.code).toBe(64);
    expect(missing.stderr).toContain("Can't read ./absent.pem, which");
    const external = await cli(['stack', 'deploy', file('external.yml', `services:\n  app:\n    image: ${REGISTRY}/hello-world:1\n    secrets: [api_key]\nsecrets:\n  api_key:\n    external: true\n`)]);
    expect(external.code).toBe(1);
    expect(external.stderr).toContain('The stack needs secret api_key, which the swarm does not have (external: true).');
    expect((await cli(['stack', 'ls'])).stdout).not.toContain('external');
    expect((await cli(['stack', 'rm', 'secret'])).code).toBe(0);
  });

  it('deploys Portainer with a generated admin password kept private, and names the pull error in the offline lab', async () => {
    const run = await cli(['deploy', 'portainer', '--timeout', '120']);
    expect(run.code).toBe(1);
    const passwordFile = join(dir, '.config', 'piswarm', 'portainer', 'admin-password');
    expect(run.stderr).toContain(`Portainer admin password generated in ${passwordFile} (user admin)`);
    expect(statSync(passwordFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(passwordFile, 'utf8')).toMatch(/^[\w-]{32}$/);
    expect(run.stderr).toMatch(/Error: Stack portainer did not converge: (agent|portainer) on pi-0\d: task rejected: No such image: portainer\//);
    // The password reached the swarm as a secret, and is nowhere in what piswarm printed.
    const secrets = await lab('exec', 'pi-01', '--', 'docker', 'secret', 'ls', '--format', '{{.Name}}');
    expect(secrets.stdout).toMatch(/^portainer_portainer_admin_password_[0-9a-f]{10}$/m);
    expect(run.stdout + run.stderr).not.toContain(readFileSync(passwordFile, 'utf8'));
    // HTTPS only, with a certificate from the home CA for the managers; no container can join the agents' network.
    expect(secrets.stdout).toMatch(/^portainer_portainer_tls_key_[0-9a-f]{10}$/m);
    const spec = await lab('exec', 'pi-01', '--', 'docker', 'service', 'inspect', 'portainer_portainer', '--format', '{{json .Spec.EndpointSpec.Ports}} {{json .Spec.TaskTemplate.ContainerSpec.Args}}');
    expect(JSON.parse(spec.stdout.split(' ')[0]!)).toEqual([{ Protocol: 'tcp', TargetPort: 9443, PublishedPort: 9443, PublishMode: 'host' }]);
    expect(spec.stdout).toContain('"--http-disabled"');
    const attachable = await lab('exec', 'pi-01', '--', 'docker', 'network', 'inspect', 'portainer_agents', '--format', '{{.Attachable}}');
    expect(attachable.stdout.trim()).toBe('false');
    const cert = execFileSync('openssl', ['x509', '-noout', '-ext', 'subjectAltName', '-issuer', '-in', join(dir, '.config', 'piswarm', 'ca', 'portainer.crt')], { encoding: 'utf8' });
    expect(cert).toContain('IP Address:10.87.0.11');
    expect(cert).toContain('piswarm home lab CA');
    expect((await cli(['stack', 'rm', 'portainer'])).code).toBe(0);
  });

  it('lists stacks, and removes them', async () => {
    const ls = await cli(['stack', 'ls', '--json']);
    expect(JSON.parse(ls.stdout)).toEqual([
      { name: 'hello-world', services: 1 },
      { name: 'offline', services: 1 },
    ]);
    for (const name of ['offline', 'hello-world']) expect((await cli(['stack', 'rm', name])).code).toBe(0);
    expect((await cli(['stack', 'ls'])).stdout.trim()).toBe('No stacks deployed.');
    const missing = await cli(['stack', 'rm', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('No stack named nope');
  });

  it("refuses to demote or remove the swarm's only manager, changing nothing", async () => {
    for (const args of [['node', 'demote', 'pi-01'], ['node', 'rm', 'pi-01', '--yes']]) {
      const run = await cli(args);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr).toContain("pi-01 is the swarm's last manager: without it nothing can manage the swarm.");
    }
    const ls = JSON.parse((await cli(['node', 'ls', '--json'])).stdout) as Array<{ hostname: string; role: string }>;
    expect(ls.find((n) => n.hostname === 'pi-01')?.role).toBe('manager');
    expect(ls).toHaveLength(3);
  });
});
