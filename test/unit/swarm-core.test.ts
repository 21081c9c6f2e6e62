import { registryLoginScript, trustRegistryScript } from '../../cli/core/registry-scripts.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as scripts from '../../cli/core/swarm-scripts.js';
import type { SwarmMembership } from '../../cli/core/node-facts.js';
import { faultTolerance, faultToleranceTable, managerCountProblem, quorumSize } from '../../cli/core/quorum.js';
import { chooseRoles, findSwarm, planNode, type SwarmCandidate } from '../../cli/core/swarm-plan.js';
import { UsageError } from '../../cli/errors.js';
import { scrubSecrets } from '../../cli/services/swarm/node-session.js';
import { nodeRows } from '../../cli/core/node-table.js';
import type { SwarmNodeView } from '../../cli/core/placement.js';

const none: SwarmMembership = { state: 'none' };
const managerOf = (clusterId: string, nodeId = `id-${clusterId}`): SwarmMembership => ({ state: 'manager', clusterId, nodeId });
const workerAs = (nodeId: string): SwarmMembership => ({ state: 'worker', nodeId, managers: ['10.0.0.11:2377'] });
const node = (n: number, extra: Partial<SwarmCandidate> = {}): SwarmCandidate => ({ mac: `m${n}`, hostname: `pi-0${n}`, swarm: none, ...extra });

describe('Raft quorum', () => {
  it.each([
    [1, 1, 0],
    [2, 2, 0],
    [3, 2, 1],
    [4, 3, 1],
    [5, 3, 2],
    [7, 4, 3],
  ])('%i managers need %i up and survive %i failures', (managers, quorum, tolerated) => {
    expect(quorumSize(managers)).toBe(quorum);
    expect(faultTolerance(managers)).toBe(tolerated);
  });

  it('finds fault with even counts and more than 7, in numbers', () => {
    for (const fine of [1, 3, 5, 7]) expect(managerCountProblem(fine)).toBeUndefined();
    expect(managerCountProblem(4)).toBe('4 managers need 3 up to keep quorum, so they survive 1 failure(s), no more than 3 would; the extra manager only adds Raft traffic.');
    expect(managerCountProblem(9)).toBe('9 managers survive 4 failures but every change waits for 5 of them; Docker advises at most 7.');
    expect(faultToleranceTable()).toBe('1 → quorum 1, survives 0; 2 → quorum 2, survives 0; 3 → quorum 2, survives 1; 4 → quorum 3, survives 1; 5 → quorum 3, survives 2; 6 → quorum 4, survives 2; 7 → quorum 4, survives 3');
  });
});

describe('chooseRoles', () => {
  const roles = (nodes: SwarmCandidate[], managers?: number) => [...chooseRoles(nodes, managers).roles.entries()].filter(([, r]) => r === 'manager').map(([mac]) => mac);

  it('makes one manager by default: the first node', () => {
    expect(roles([node(1), node(2), node(3)])).toEqual(['m1']);
  });

  it('keeps the inventory managers, then current managers, then unassigned nodes, and inventory workers last', () => {
    const nodes = [node(1, { role: 'worker' }), node(2), node(3, { swarm: managerOf('c') }), node(4, { role: 'manager' }), node(5)];
    expect(roles(nodes)).toEqual(['m4']);
    expect(roles(nodes, 3)).toEqual(['m4', 'm3', 'm2']);
    expect(roles(nodes, 5)).toEqual(['m4', 'm3', 'm2', 'm5', 'm1']);
  });

  it('refuses more managers than nodes, with the largest sensible count', () => {
    expect(() => chooseRoles([node(1), node(2)], 3)).toThrow(UsageError);
    expect(() => chooseRoles([node(1), node(2), node(3), node(4)], 5)).toThrow(/--managers 5 is more than the 4 node/);
    try {
      chooseRoles([node(1), node(2), node(3), node(4)], 5);
    } catch (error) {
      expect((error as UsageError).hint).toContain('Use --managers 3 or fewer');
    }
  });

  it('refuses an even count with the fault-tolerance table, and only warns when forced', () => {
    expect(() => chooseRoles([node(1), node(2), node(3)], 2)).toThrow(/^2 managers need 2 up/);
    try {
      chooseRoles([node(1), node(2), node(3)], 2);
    } catch (error) {
      expect((error as UsageError).hint).toMatch(/^Use 1, 3, 5 or 7 managers \(1 → quorum 1, survives 0; .*\); --force to go ahead anyway\.$/);
    }
    expect(chooseRoles([node(1), node(2), node(3)], 2, true).warnings[0]).toMatch(/^2 managers need 2 up/);
  });
});

describe('findSwarm', () => {
  const managersFirst = (nodes: SwarmCandidate[], count = 1) => chooseRoles(nodes, count).roles;

  it('inits on the first reachable manager when there is no swarm', () => {
    const nodes = [node(1, { swarm: undefined }), node(2), node(3)];
    expect(findSwarm(nodes, managersFirst(nodes, 3), undefined, false)).toEqual({ leader: 'm2' });
  });

  it('adopts a swarm a chosen manager already manages', () => {
    const nodes = [node(1), node(2, { swarm: managerOf('c2') })];
    const roles = managersFirst(nodes, 1);
    expect(findSwarm(nodes, roles, undefined, false)).toEqual({ leader: 'm2', swarmId: 'c2' });
  });

  it('follows the recorded swarm, and refuses to start a second one when its managers are unreachable', () => {
    const nodes = [node(1, { swarm: undefined }), node(2, { swarm: managerOf('rec') }), node(3)];
    expect(findSwarm(nodes, managersFirst(nodes, 1), 'rec', false)).toEqual({ leader: 'm2', swarmId: 'rec' });
    const down = [node(1, { swarm: undefined }), node(2), node(3)];
    expect(() => findSwarm(down, managersFirst(down), 'rec', false)).toThrow(/No reachable node manages the swarm recorded in the inventory \(rec\); unreachable: pi-01/);
    // --force: a new swarm, on the chosen manager (bootstrap then says it is unreachable).
    expect(findSwarm(down, managersFirst(down), 'rec', true)).toEqual({ leader: 'm1' });
  });
});

describe('planNode', () => {
  const target = { leader: 'm1', swarmId: 'c1' };
  const members = new Set(['w2']);
  const plan = (swarm: SwarmMembership, role: 'manager' | 'worker', force = false, t = target, mac = 'm2') => planNode({ mac, hostname: 'pi-02', swarm }, role, t, members, force);

  it.each([
    ['a fresh node joins', none, 'worker', { action: 'join' }],
    ['a worker of this swarm stays', workerAs('w2'), 'worker', { action: 'keep' }],
    ['a worker of this swarm that should manage is promoted', workerAs('w2'), 'manager', { action: 'promote' }],
    ['a manager of this swarm that should work is demoted', managerOf('c1', 'x'), 'worker', { action: 'demote' }],
    ['a manager of this swarm stays', managerOf('c1', 'x'), 'manager', { action: 'keep' }],
  ] as const)('%s', (_, swarm, role, expected) => {
    expect(plan(swarm, role)).toEqual(expected);
  });

  it('refuses nodes of other swarms and stuck ones, and moves them with force', () => {
    expect(plan(managerOf('other'), 'worker')).toEqual({ refused: 'it manages another swarm (other)' });
    expect(plan(workerAs('elsewhere'), 'worker')).toEqual({ refused: 'it is a worker of another swarm (managers 10.0.0.11:2377)' });
    expect(plan({ state: 'pending' }, 'worker')).toEqual({ refused: 'it is in swarm state "pending"' });
    expect(plan(workerAs('elsewhere'), 'worker', true)).toEqual({ action: 'rejoin' });
  });

  it('inits on the leader only when it is in no swarm', () => {
    const fresh = { leader: 'm1' };
    expect(plan(none, 'manager', false, fresh, 'm1')).toEqual({ action: 'init' });
    expect(plan(workerAs('w9'), 'manager', false, fresh, 'm1')).toHaveProperty('refused');
    expect(plan(managerOf('c1'), 'manager', false, target, 'm1')).toEqual({ action: 'keep' });
  });
});

describe('scrubSecrets', () => {
  it('hides join tokens wherever they appear', () => {
    expect(scrubSecrets('docker swarm join --token SWMTKN-1-3pu6hszjas19xyp7ghgosyx9k8atbfcr8p2is99znpy26u2lkl-1awxwuwd3z9j1z3puu7rcgdbx 10.0.0.11:2377')).toBe(
      'docker swarm join --token SWMTKN-… 10.0.0.11:2377',
    );
  });
});

describe('bootstrap scripts', () => {
  it.each(Object.entries({
    install: scripts.installKeyScript('ssh-ed25519 AAAAC3Nza me@laptop'),
    random: scripts.replacePasswordScript('pirate', 'random'),
    lock: scripts.replacePasswordScript('pirate', 'lock'),
    sshd: scripts.disablePasswordLoginScript("pi'rate"),
    hostname: scripts.setHostnameScript("it's-01"),
    trust: trustRegistryScript(['10.0.0.11', 'manager-01.local']),
    login: registryLoginScript('piswarm', ['10.0.0.11', 'manager-01']),
  }))('%s is valid sh', (_, script) => {
    execFileSync('sh', ['-n'], { input: script });
  });

  it('never puts a secret in a script: passwords come on stdin', () => {
    expect(scripts.replacePasswordScript('pirate', 'random')).toContain('as_root chpasswd');
    expect(registryLoginScript('piswarm', ['10.0.0.11'])).toContain('read -r password');
  });

  it('refuses a registry name that could become a path outside certs.d', () => {
    expect(() => trustRegistryScript(['../../etc'])).toThrow('"../../etc" is not a host name or IPv4 address');
    expect(() => registryLoginScript('piswarm', ['a b'])).toThrow('is not a host name');
  });

  it('installs a key once, after a last line without a newline, and keeps the file private', () => {
    const home = mkdtempSync(join(tmpdir(), 'piswarm-keys-'));
    execFileSync('mkdir', ['-p', join(home, '.ssh')]);
    writeFileSync(join(home, '.ssh', 'authorized_keys'), 'ssh-rsa AAAAB3old old@box');
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJL1tUgkGmGZtO6ka6m8sHEGHFu2ZC9icniEaHT38bLJ me@laptop';
    const run = () => execFileSync('sh', ['-c', scripts.installKeyScript(key)], { env: { ...process.env, HOME: home }, encoding: 'utf8' }).trim();
    expect(run()).toBe('changed');
    // The same key with another comment is the same key.
    expect(execFileSync('sh', ['-c', scripts.installKeyScript(key.replace('me@laptop', 'other'))], { env: { ...process.env, HOME: home }, encoding: 'utf8' }).trim()).toBe('unchanged');
    expect(run()).toBe('unchanged');
    expect(readFileSync(join(home, '.ssh', 'authorized_keys'), 'utf8')).toBe(`ssh-rsa AAAAB3old old@box\n${key}\n`);
    expect(execFileSync('stat', ['-c', '%a', join(home, '.ssh', 'authorized_keys')], { encoding: 'utf8' }).trim()).toBe('600');
  });
});

describe('node ls rows', () => {
  const swarmNode = (id: string, hostname: string, extra: Partial<SwarmNodeView> = {}): SwarmNodeView => ({
    id, hostname, role: 'worker', arch: 'aarch64', os: 'linux', labels: {}, engineLabels: {}, state: 'ready', availability: 'active', ...extra,
  });
  const inventoryNodes = [
    { mac: 'b8:27:eb:00:00:01', hostname: 'manager-01', ip: '192.168.1.41', swarmNodeId: 'm1' },
    { mac: 'b8:27:eb:00:00:02', hostname: 'worker-01', ip: '192.168.1.22' },
  ];

  it('joins the swarm with the inventory, managers first, and warns about a manager whose address moved', () => {
    const { rows, warnings } = nodeRows(
      [swarmNode('w1', 'worker-01', { availability: 'drain' }), swarmNode('m1', 'manager-01', { role: 'manager', leader: true, managerAddr: '192.168.1.21:2377', engine: '24.0.7' })],
      inventoryNodes,
      new Map([['m1', 3], ['w1', 0]]),
    );
    expect(rows).toEqual([
      { hostname: 'manager-01', role: 'manager', leader: true, status: 'ready', availability: 'active', arch: 'aarch64', engine: '24.0.7', tasks: 3, ip: '192.168.1.41', mac: 'b8:27:eb:00:00:01' },
      { hostname: 'worker-01', role: 'worker', leader: false, status: 'ready', availability: 'drain', arch: 'aarch64', tasks: 0, ip: '192.168.1.22', mac: 'b8:27:eb:00:00:02' },
    ]);
    expect(warnings).toEqual([expect.stringMatching(/^manager-01 \(a manager\) advertises 192\.168\.1\.21:2377 but is at 192\.168\.1\.41 now/)]);
  });

  it('says nothing when managers are where they advertise', () => {
    expect(nodeRows([swarmNode('m1', 'manager-01', { role: 'manager', managerAddr: '192.168.1.41:2377' })], inventoryNodes, new Map()).warnings).toEqual([]);
  });
});
