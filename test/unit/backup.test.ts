import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildBackup, type SwarmSnapshot } from '../../cli/core/backup-content.js';
import { openBackup, sealBackup } from '../../cli/core/backup-file.js';
import type { SwarmNodeView } from '../../cli/core/placement.js';
import { describeReplacement, planReplacement } from '../../cli/core/replace-plan.js';
import { bindSpec, blockedSteps, planRestore, type RestoreTarget } from '../../cli/core/restore-plan.js';

const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 10);
const TOKEN = 'tok-123';

/** A swarm as the Engine API lists it: one stack with a network, a file secret, a user's secret and a config. */
const snapshot: SwarmSnapshot = {
  swarmId: 'swarm1',
  nodes: [
    { ID: 'n1', Description: { Hostname: 'pi-01' }, Spec: { Role: 'manager', Availability: 'active', Labels: {} } },
    { ID: 'n2', Description: { Hostname: 'pi-02' }, Spec: { Role: 'worker', Availability: 'drain', Labels: { store: 'yes' } } },
  ],
  networks: [
    { Id: 'net1', Name: 'vault_default', Scope: 'swarm', Driver: 'overlay', Labels: { 'com.docker.stack.namespace': 'vault' }, Options: {} },
    { Id: 'ing', Name: 'ingress', Scope: 'swarm', Ingress: true, Driver: 'overlay' },
    { Id: 'br', Name: 'bridge', Scope: 'local', Driver: 'bridge' },
  ],
  configs: [
    { ID: 'c1', Spec: { Name: 'app_conf', Labels: {}, Data: Buffer.from('a=1').toString('base64') } },
    { ID: 'lock', Spec: { Name: 'piswarm-lock', Labels: {}, Data: '' } },
  ],
  secrets: [
    { ID: 's1', Spec: { Name: `vault_token_${hash(TOKEN)}`, Labels: { 'io.piswarm.source': '/home/me/token.txt' } } },
    { ID: 's2', Spec: { Name: 'db_password', Labels: {} } },
  ],
  services: [
    {
      ID: 'svc1',
      Spec: {
        Name: 'vault_keeper',
        Labels: { 'com.docker.stack.namespace': 'vault' },
        Mode: { Replicated: { Replicas: 1 } },
        TaskTemplate: {
          ContainerSpec: { Image: 'reg:5000/hello:1@sha256:aa', Secrets: [{ SecretID: 's1', SecretName: `vault_token_${hash(TOKEN)}`, File: { Name: 'token' } }], Configs: [{ ConfigID: 'c1', ConfigName: 'app_conf' }] },
          Networks: [{ Target: 'net1', Aliases: ['keeper'] }],
        },
      },
    },
  ],
};

const files: Record<string, string> = { '/home/me/token.txt': TOKEN };
const backup = () => buildBackup(snapshot, async (path) => files[path], { file: 'piswarm.yaml', text: 'nodes: {}\n' });

describe('the backup file', () => {
  it('round-trips with the passphrase and holds nothing readable without it', async () => {
    const content = await backup();
    const sealed = await sealBackup(content, 'long enough pass');
    expect(sealed.toString('latin1')).not.toContain(TOKEN);
    expect(sealed.toString('latin1')).not.toContain('vault_keeper');
    expect(await openBackup(sealed, 'long enough pass', 'b')).toEqual(content);
  });

  it('tells a wrong passphrase, a truncated file, a changed header and another file apart', async () => {
    const sealed = await sealBackup(await backup(), 'long enough pass');
    await expect(openBackup(sealed, 'wrong passphrase', 'b')).rejects.toThrow("Can't decrypt b: the passphrase is wrong");
    await expect(openBackup(sealed.subarray(0, sealed.length - 5), 'long enough pass', 'b')).rejects.toThrow(/^b is truncated: \d+ of its \d+ encrypted bytes/);
    await expect(openBackup(sealed.subarray(0, 10), 'long enough pass', 'b')).rejects.toThrow('b is truncated: it ends inside its header');
    const tampered = Buffer.from(sealed.toString('latin1').replace('"p":1', '"p":2'), 'latin1');
    await expect(openBackup(tampered, 'long enough pass', 'b')).rejects.toThrow('the passphrase is wrong, or the file was changed');
    await expect(openBackup(Buffer.from('version: "3"\n'), 'long enough pass', 'b')).rejects.toThrow('b is not a piswarm backup');
    await expect(sealBackup(await backup(), 'short')).rejects.toThrow('shorter than 8 characters');
  });
});

describe('what a backup holds', () => {
  it('keeps user networks, configs with data, secrets with content only from an unchanged source file, and specs by name', async () => {
    const content = await backup();
    expect(content.networks.map((n) => n.name)).toEqual(['vault_default']);
    expect(content.configs.map((c) => c.name)).toEqual(['app_conf']);
    expect(content.secrets[0]).toMatchObject({ data: Buffer.from(TOKEN).toString('base64'), source: '/home/me/token.txt' });
    expect(content.secrets[1]).toMatchObject({ name: 'db_password', missing: expect.stringContaining('made outside piswarm') });
    expect(content.nodes[1]).toEqual({ hostname: 'pi-02', role: 'worker', availability: 'drain', labels: { store: 'yes' } });
    const spec = content.services[0]!.spec;
    expect(spec.TaskTemplate.Networks).toEqual([{ Target: 'vault_default', Aliases: ['keeper'] }]);
    expect(spec.TaskTemplate.ContainerSpec.Secrets[0]).not.toHaveProperty('SecretID');
    files['/home/me/token.txt'] = 'changed';
    expect((await backup()).secrets[0]).toMatchObject({ missing: expect.stringContaining('changed since the secret was made') });
    files['/home/me/token.txt'] = TOKEN;
  });
});

describe('the restore plan', () => {
  const empty: RestoreTarget = { networks: new Set(), configs: new Set(), secrets: new Set(), services: new Map(), nodes: new Map([['pi-02', {}]]) };

  it('creates into an empty swarm, and names a secret with no content and the service that needs none of it', async () => {
    const content = await backup();
    const plan = planRestore(content, empty, new Map());
    expect(plan.steps.map((s) => `${s.action} ${s.kind} ${s.name}`)).toEqual([
      'create network vault_default',
      'create config app_conf',
      `create secret vault_token_${hash(TOKEN)}`,
      'missing secret db_password',
      'add labels pi-02',
      'create service vault_keeper',
    ]);
    expect(blockedSteps(plan).map((s) => s.name)).toEqual(['db_password']);
    expect(planRestore(content, empty, new Map([['db_password', '/tmp/pw']])).steps[3]).toMatchObject({ action: 'create', source: { from: 'file', path: '/tmp/pw' } });
  });

  it('skips a service whose secret has no content, and keeps what is already there', async () => {
    const content = await backup();
    const needy = { ...content, services: [{ name: 'db', spec: { Name: 'db', TaskTemplate: { ContainerSpec: { Secrets: [{ SecretName: 'db_password' }] } } } }] };
    expect(planRestore(needy, empty, new Map()).steps.at(-1)).toMatchObject({ kind: 'service', action: 'skip', why: expect.stringContaining('db_password') });
    const same: RestoreTarget = {
      networks: new Set(['vault_default']),
      configs: new Set(['app_conf']),
      secrets: new Set([`vault_token_${hash(TOKEN)}`, 'db_password']),
      services: new Map([['vault_keeper', { ...content.services[0]!.spec, TaskTemplate: { ...content.services[0]!.spec.TaskTemplate, ContainerSpec: { ...content.services[0]!.spec.TaskTemplate.ContainerSpec, Image: 'reg:5000/hello:1@sha256:bb' } } }]]),
      nodes: new Map([['pi-02', { store: 'yes' }]]),
    };
    const plan = planRestore(content, same, new Map());
    expect(plan.steps.every((s) => s.action === 'keep')).toBe(true);
    expect(plan.changedServices).toEqual([]);
    const changed = new Map(same.services);
    changed.set('vault_keeper', { ...content.services[0]!.spec, Mode: { Replicated: { Replicas: 3 } } });
    expect(planRestore(content, { ...same, services: changed }, new Map()).changedServices).toEqual(['vault_keeper']);
  });

  it('binds names to the new swarm\'s IDs', async () => {
    const spec = bindSpec((await backup()).services[0]!.spec, { networks: new Map([['vault_default', 'N']]), secrets: new Map([[`vault_token_${hash(TOKEN)}`, 'S']]), configs: new Map([['app_conf', 'C']]) });
    expect(spec.TaskTemplate.Networks[0].Target).toBe('N');
    expect(spec.TaskTemplate.ContainerSpec.Secrets[0].SecretID).toBe('S');
    expect(spec.TaskTemplate.ContainerSpec.Configs[0].ConfigID).toBe('C');
  });
});

describe('the replacement plan', () => {
  const view = (hostname: string, role: 'manager' | 'worker', state = 'ready', labels: Record<string, string> = {}): SwarmNodeView => ({ id: hostname, hostname, role, arch: 'aarch64', os: 'linux', labels, engineLabels: {}, state, availability: 'active', ...(role === 'manager' ? { reachable: state === 'ready' } : {}) });

  it('a dead worker: NEW joins with its labels, OLD is removed by force', () => {
    const old = view('w2', 'worker', 'down', { store: 'yes' });
    const plan = planReplacement(old, [view('m1', 'manager'), old], { hostname: 'w9' }, { sshReachable: false });
    expect(describeReplacement(plan, 'w2', 'w9')).toEqual([
      'secure w9 (your key in, the password out) and join it as a worker',
      "label w9 store=yes: what w2's tasks are pinned to",
      'docker node rm --force w2: it is down and cannot leave itself, so the managers forget it by force',
      'forget w2 in the inventory; w9 keeps its role and labels there',
      'wait until every service runs all its tasks again',
    ]);
  });

  it('a dead manager of three: NEW is the one promoted, before OLD is demoted', () => {
    const old = view('m2', 'manager', 'down');
    const swarm = [view('m1', 'manager'), old, view('m3', 'manager'), view('w1', 'worker')];
    const steps = planReplacement(old, swarm, { hostname: 'm9' }, { sshReachable: false }).removal.steps;
    expect(steps.map((s) => `${s.kind} ${s.node}`)).toEqual(['promote m9', 'demote m2', 'remove m2']);
  });

  it('a living worker is drained and leaves after NEW joined', () => {
    const old = view('w2', 'worker');
    const steps = planReplacement(old, [view('m1', 'manager'), old], { hostname: 'w9' }, { sshReachable: true }).removal.steps;
    expect(steps.map((s) => s.kind)).toEqual(['drain', 'leave', 'remove']);
  });

  it('a dead sole manager cannot be replaced: there is no quorum to change anything', () => {
    const old = view('m1', 'manager', 'down');
    expect(planReplacement(old, [old, view('w1', 'worker')], { hostname: 'm9' }, { sshReachable: false }).removal.refusal).toBeDefined();
  });
});
