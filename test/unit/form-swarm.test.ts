import { describe, expect, it } from 'vitest';
import type { ExecResult, SshConnection } from '../../cli/adapters/ssh.js';
import { EngineError, membershipOf, type SwarmApi } from '../../cli/core/swarm-api.js';
import type { SwarmRole } from '../../cli/core/swarm-plan.js';
import { applyLabels, initSwarm, JoinTokens, placeNode } from '../../cli/services/swarm/form-swarm.js';
import { NodeSession } from '../../cli/services/swarm/node-session.js';

const TOKEN = { worker: 'SWMTKN-1-abcdefghijklmnopqrstuvwxyz0123456789-worker', manager: 'SWMTKN-1-abcdefghijklmnopqrstuvwxyz0123456789-manager' };

/** "state|control|node|cluster|managers", as the engine's info has them. */
function membership(line: string) {
  const [state, control, nodeId, clusterId, managers] = line.split('|');
  return membershipOf({ LocalNodeState: state, ControlAvailable: control === 'true', NodeID: nodeId, Cluster: clusterId ? { ID: clusterId } : undefined, RemoteManagers: (managers ?? '').split(' ').filter(Boolean).map((Addr) => ({ Addr })) });
}

/** A recording engine: every call is logged (tokens included, to check where they went); answers from its state. */
class FakeEngine implements SwarmApi {
  calls: string[] = [];
  labels: Record<string, string> = {};
  /** The node IDs a manager lists. */
  listed: string[] = [];
  joinError?: EngineError;
  constructor(
    private readonly onChange: (state: string) => void,
    private readonly state: () => string,
  ) {}
  async info() {
    return { hostname: 'x', arch: 'aarch64', serverVersion: '20.10.24', apiVersion: '1.41', swarm: membership(this.state()) };
  }
  async swarmInit({ advertiseAddr }: { advertiseAddr: string }) {
    this.calls.push(`init ${advertiseAddr}`);
    this.onChange('active|true|leader-id|cluster-1|');
    return 'leader-id';
  }
  async swarmJoin({ token, managerAddr, advertiseAddr }: { token: string; managerAddr: string; advertiseAddr: string }) {
    this.calls.push(`join ${token} ${managerAddr} ${advertiseAddr}`);
    if (this.joinError) throw this.joinError;
    this.onChange(`active|false|node-id||${managerAddr}:2377`);
  }
  async swarmLeave(force: boolean) {
    this.calls.push(`leave ${force}`);
    return true;
  }
  async joinToken(role: SwarmRole) {
    this.calls.push(`token ${role}`);
    return TOKEN[role];
  }
  async nodeLabels(nodeId: string) {
    this.calls.push(`labels ${nodeId}`);
    return this.labels;
  }
  async updateNode(nodeId: string, change: { role?: SwarmRole; addLabels?: Record<string, string> }) {
    this.calls.push(`update ${nodeId} ${JSON.stringify(change)}`);
  }
  async nodes() {
    return this.listed.map((ID) => ({ ID, Description: { Hostname: ID }, Spec: { Role: 'worker', Availability: 'active' }, Status: { State: 'ready' } }));
  }
  close() {}
}

/** A node session whose engine is a fake, its swarm state `engineState` to begin with. */
function session(hostname: string, ip: string, engineState = 'inactive|false|||') {
  let state = engineState;
  const engine = new FakeEngine(
    (next) => (state = next),
    () => state,
  );
  const connection: SshConnection = {
    hostKey: 'ssh-ed25519 AAAA',
    authMethod: 'publickey',
    exec: async (): Promise<ExecResult> => ({ code: 0, stdout: `hostname=${hostname}\narch=aarch64\n`, stderr: '' }),
    openSocket: async () => {
      throw new Error('not used');
    },
    openCommandStream: async () => {
      throw new Error('not used');
    },
    close: () => undefined,
  };
  const s = new NodeSession({ mac: `b8:27:eb:00:00:${ip.split('.')[3]}`, hostname, ip }, connection, 1000, async () => engine);
  return { session: s, engine, become: (next: string) => void (state = next) };
}

describe('forming the swarm through the engine API', () => {
  it('inits on the leader and returns the cluster ID the engine then reports', async () => {
    const leader = session('manager-01', '10.0.0.11');
    await leader.session.readFacts();
    expect(await initSwarm(leader.session, '10.0.0.11')).toBe('cluster-1');
    expect(leader.engine.calls).toEqual(['init 10.0.0.11']);
  });

  it('asks the leader for each join token once, and joins with it in the request only', async () => {
    const leader = session('manager-01', '10.0.0.11', 'active|true|leader-id|cluster-1|');
    const tokens = new JoinTokens(leader.session);
    const target = { leader: 'b8:27:eb:00:00:11', swarmId: 'cluster-1' };
    const workers = [session('worker-01', '10.0.0.12'), session('worker-02', '10.0.0.13')];
    for (const w of workers) await w.session.readFacts();
    const changes = await Promise.all(workers.map((w) => placeNode(w.session, 'worker', { leader: leader.session, target, members: new Set(), tokens, force: false })));
    expect(changes).toEqual(['joined as worker', 'joined as worker']);
    expect(leader.engine.calls).toEqual(['token worker']);
    expect(workers[0]!.engine.calls).toEqual([`join ${TOKEN.worker} 10.0.0.11 10.0.0.12`]);
  });

  it('with --force, leaves the other swarm first; promotes and demotes through the leader', async () => {
    const leader = session('manager-01', '10.0.0.11', 'active|true|leader-id|cluster-1|');
    const tokens = new JoinTokens(leader.session);
    const target = { leader: 'b8:27:eb:00:00:11', swarmId: 'cluster-1' };
    const stranger = session('worker-03', '10.0.0.14', 'active|true|x|other-cluster|');
    await stranger.session.readFacts();
    await expect(placeNode(stranger.session, 'worker', { leader: leader.session, target, members: new Set(), tokens, force: false })).rejects.toThrow('worker-03 was left out: it manages another swarm');
    expect(stranger.engine.calls).toEqual([]);
    expect(await placeNode(stranger.session, 'worker', { leader: leader.session, target, members: new Set(), tokens, force: true })).toBe('left its old swarm, joined as worker');
    expect(stranger.engine.calls).toEqual(['leave true', `join ${TOKEN.worker} 10.0.0.11 10.0.0.14`]);

    const worker = session('worker-01', '10.0.0.12', 'active|false|w1||10.0.0.11:2377');
    await worker.session.readFacts();
    expect(await placeNode(worker.session, 'manager', { leader: leader.session, target, members: new Set(['w1']), tokens, force: false })).toBe('promoted to manager');
    expect(leader.engine.calls.at(-1)).toBe('update w1 {"role":"manager"}');
  });

  it('waits for a join cut short (the engine goes on with it, "pending"), and joins nothing twice', async () => {
    const leader = session('manager-01', '10.0.0.11', 'active|true|leader-id|cluster-1|');
    const worker = session('worker-01', '10.0.0.12', 'pending|false|||');
    await worker.session.readFacts();
    setTimeout(() => {
      worker.become('active|false|w9||10.0.0.11:2377');
      leader.engine.listed = ['leader-id', 'w9'];
    }, 200);
    const change = await placeNode(worker.session, 'worker', { leader: leader.session, target: { leader: 'b8:27:eb:00:00:11', swarmId: 'cluster-1' }, members: new Set(['leader-id']), tokens: new JoinTokens(leader.session), force: false });
    expect(change).toBeUndefined();
    expect(worker.engine.calls).toEqual([]);
    expect(leader.engine.calls).toEqual([]);
  });

  it("names the node and step with the engine's words, a token in them scrubbed", async () => {
    const leader = session('manager-01', '10.0.0.11', 'active|true|leader-id|cluster-1|');
    const worker = session('worker-01', '10.0.0.12');
    await worker.session.readFacts();
    worker.engine.joinError = new EngineError(400, `invalid join token ${TOKEN.worker}`);
    const placing = placeNode(worker.session, 'worker', { leader: leader.session, target: { leader: 'b8:27:eb:00:00:11', swarmId: 'cluster-1' }, members: new Set(), tokens: new JoinTokens(leader.session), force: false });
    await expect(placing).rejects.toThrow('worker-01: can\'t join the swarm: invalid join token SWMTKN-…');
    await placing.catch((error: Error) => expect(JSON.stringify({ ...error, message: error.message })).not.toContain('abcdefghij'));
  });

  it('adds only the labels a node lacks, and none when it has them all', async () => {
    const leader = session('manager-01', '10.0.0.11', 'active|true|leader-id|cluster-1|');
    leader.engine.labels = { zone: 'hall', rabbitmq: 'true' };
    expect(await applyLabels(leader.session, 'n1', { zone: 'hall' })).toBe(false);
    expect(await applyLabels(leader.session, 'n1', { zone: 'attic', rabbitmq: 'true' })).toBe(true);
    expect(leader.engine.calls).toEqual(['labels n1', 'labels n1', 'update n1 {"addLabels":{"zone":"attic"}}']);
  });
});
