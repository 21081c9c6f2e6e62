import { readFileSync, statSync, writeFileSync, mkdtempSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeployResult } from '../../cli/services/stack/deploy-stack.js';
import { piswarm } from '../helpers/cli.js';
import { startSwarmLab } from '../helpers/lab-images.js';
import { labEnv, labLeftovers } from '../helpers/lab.js';

const NAME = 'reg';
const LAB_REGISTRY = '10.95.0.1:5000';
const NODES = ['10.95.0.11', '10.95.0.12', '10.95.0.13'];
const HOME_REGISTRY = `${NODES[0]}:5000`;
const dir = mkdtempSync(join(tmpdir(), 'piswarm-registry-'));
const user = { HOME: dir, SSH_AUTH_SOCK: '', REGISTRY_IMAGE: `${LAB_REGISTRY}/registry:lab` };
const inventory = join(dir, 'piswarm.yaml');
const config = join(dir, '.config', 'piswarm');
const lab = (command: string, ...args: string[]) => piswarm(['lab', command, '--name', NAME, ...args], { env: labEnv });
const cli = (args: string[]) => piswarm(['--inventory', inventory, ...args], { env: user });
const password = () => readFileSync(join(config, 'registry', 'password'), 'utf8').trim();
const basic = () => `Basic ${Buffer.from(`piswarm:${password()}`).toString('base64')}`;

/** A request to the swarm's registry over HTTPS, trusting only the home CA piswarm made. */
function registry(path: string, options: { method?: string; auth?: string; ca?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = options.auth ? { authorization: options.auth } : {};
    const req = request(`https://${HOME_REGISTRY}${path}`, { method: options.method ?? 'GET', headers, ca: options.ca ?? readFileSync(join(config, 'ca', 'ca.crt')) }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

let labPids: number[] = [];

beforeAll(async () => {
  labPids = await startSwarmLab({ name: NAME, subnet: '10.95.0.0/24', nodes: NODES, registry: LAB_REGISTRY, inventory, env: user });
});

afterAll(async () => {
  // Always tear down, whatever failed above: CI runs on this same machine afterwards.
  await lab('down');
  expect(labLeftovers(NAME, labPids)).toEqual([]);
});

describe('piswarm deploy registry on the lab', () => {
  it('plans with --dry-run and changes nothing', async () => {
    const run = await cli(['deploy', 'registry', '--dry-run']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('1. label pi-01 registry=true');
    expect(run.stdout).toContain(`trust the home CA for ${HOME_REGISTRY}, pi-01:5000, pi-01.local:5000`);
    expect(run.stderr).toContain('Nothing was changed (--dry-run)');
    expect((await cli(['stack', 'ls'])).stdout).not.toContain('registry');
    expect(() => statSync(join(config, 'ca'))).toThrow();
  });

  it('serves HTTPS from the home CA every node trusts, only to its login, and keeps its secrets private', async () => {
    const run = await cli(['deploy', 'registry']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`Registry: https://${HOME_REGISTRY} — user piswarm`);
    for (const file of ['ca/ca.key', 'ca/registry.key', 'registry/password', 'registry/htpasswd']) expect(statSync(join(config, file)).mode & 0o777, file).toBe(0o600);
    expect(run.stdout + run.stderr).not.toContain(password());

    const ca = readFileSync(join(config, 'ca', 'ca.crt'), 'utf8');
    for (const node of ['pi-01', 'pi-02', 'pi-03']) {
      const trusted = await lab('exec', node, '--', 'cat', `/etc/docker/certs.d/${HOME_REGISTRY}/ca.crt`);
      expect(trusted.stdout, node).toBe(ca);
    }
    expect((await registry('/v2/')).status).toBe(401);
    expect((await registry('/v2/', { auth: `Basic ${Buffer.from('piswarm:guess').toString('base64')}` })).status).toBe(401);
    expect((await registry('/v2/', { auth: basic() })).status).toBe(200);
    // Not plain HTTP, and not a certificate anyone else vouches for.
    expect((await fetch(`http://${HOME_REGISTRY}/v2/`)).status).toBe(400);
    await expect(registry('/v2/', { ca: readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8') })).rejects.toThrow(/certificate/i);
    const inspect = await lab('exec', 'pi-01', '--', 'docker', 'service', 'inspect', 'registry_registry');
    expect(inspect.stdout).toContain('/run/secrets/registry_htpasswd');
    expect(inspect.stdout).not.toContain(password());
  });

  it('takes a push from a logged-in manager; workers pull through the login the deploy passes on; deletes are refused', async () => {
    const push = await cli(['run', '--node', 'pi-01', '--', `docker pull -q ${LAB_REGISTRY}/hello-world:1 && docker tag ${LAB_REGISTRY}/hello-world:1 ${HOME_REGISTRY}/hello-world:1 && docker push -q ${HOME_REGISTRY}/hello-world:1`]);
    expect(push.code, push.stdout + push.stderr).toBe(0);
    // Without the login, a node's Docker is turned away.
    const anonymous = await lab('exec', 'pi-02', '--', 'docker', 'pull', `${HOME_REGISTRY}/hello-world:1`);
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.stderr).toMatch(/no basic auth credentials|unauthorized/);

    const stack = join(dir, 'private.yml');
    writeFileSync(stack, `services:\n  web:\n    image: ${HOME_REGISTRY}/hello-world:1\n    deploy:\n      replicas: 2\n      placement:\n        constraints: [node.role == worker]\n`);
    const deploy = await cli(['stack', 'deploy', stack, '--json']);
    expect(deploy.code, deploy.stderr).toBe(0);
    expect((JSON.parse(deploy.stdout) as DeployResult).services).toEqual([{ name: 'web', desired: 2, running: 2, stable: 2, completed: 0, done: true }]);
    // piswarm read the image's digest through the home CA and the login, and pinned the service to it.
    const image = await lab('exec', 'pi-01', '--', 'docker', 'service', 'inspect', 'private_web', '--format', '{{.Spec.TaskTemplate.ContainerSpec.Image}}');
    expect(image.stdout.trim()).toMatch(new RegExp(`^${HOME_REGISTRY}/hello-world:1@sha256:[0-9a-f]{64}$`));

    const digest = image.stdout.trim().split('@')[1]!;
    expect((await registry(`/v2/hello-world/manifests/${digest}`, { method: 'DELETE', auth: basic() })).status).toBe(405);
  });
});
