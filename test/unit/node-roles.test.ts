import { describe, expect, it } from 'vitest';
import type { EngineJson, NodeChange } from '../../cli/core/swarm-api.js';
import type { SwarmNodeView } from '../../cli/core/placement.js';
import { demoteNode, promoteNode } from '../../cli/services/swarm/node-roles.js';
import { readSwarmNodes } from '../../cli/services/swarm/swarm-nodes.js';
import { sessionOver } from '../helpers/fake-session.js';

/** Swarm nodes in memory; a role change takes effect at once, as Raft settles on a quiet swarm. */
function fakeSwarm(nodes: Array<{ id: string; role: 'manager' | 'worker'; state?: string }>) {
  const writes: string[] = [];
  const json = (): EngineJson[] =>
    nodes.map((n) => ({ ID: n.id, Description: { Hostname: n.id, Platform: { Architecture: 'aarch64' } }, Spec: { Role: n.role, Availability: 'active' }, Status: { State: n.state ?? 'ready' }, ...(n.role === 'manager' ? { ManagerStatus: { Reachability: n.state === 'down' ? 'unreachable' : 'reachable', Leader: n.id === 'm1' } } : {}) }));
  const session = sessionOver({
    nodes: async () => json(),
    updateNode: async (id: string, change: NodeChange) => {
      writes.push(`${id} ${JSON.stringify(change)}`);
      nodes.find((n) => n.id === id)!.role = change.role!;
    },
  });
  // The session is m1's, the manager everything goes through.
  session.facts = { hostname: 'm1', arch: 'aarch64', swarm: { state: 'manager', clusterId: 'c', nodeId: 'm1' } };
  return { session, writes };
}
const events = { step: () => undefined, warn: () => undefined };
const view = async (session: ReturnType<typeof sessionOver>, id: string): Promise<SwarmNodeView> => (await readSwarmNodes(session)).find((n) => n.id === id)!;

describe('node roles through the engine', () => {
  it('promotes a worker to manager through the engine, and waits until Raft lists it reachable', async () => {
    const { session, writes } = fakeSwarm([{ id: 'm1', role: 'manager' }, { id: 'w1', role: 'worker' }, { id: 'w2', role: 'worker' }]);
    expect(await promoteNode(session, await view(session, 'w1'), events)).toBe(true);
    expect(writes).toEqual(['w1 {"role":"manager"}']);
    expect((await view(session, 'w1')).role).toBe('manager');
  });

  it('refuses a demotion that would lose quorum, writing nothing', async () => {
    const { session, writes } = fakeSwarm([{ id: 'm1', role: 'manager' }, { id: 'm2', role: 'manager' }, { id: 'm3', role: 'manager', state: 'down' }]);
    await expect(demoteNode(session, await view(session, 'm2'), events)).rejects.toThrow(/quorum/i);
    expect(writes).toEqual([]);
  });

  it('demotes a manager of three through another, never through itself, and leaves a worker alone', async () => {
    const { session, writes } = fakeSwarm([{ id: 'm1', role: 'manager' }, { id: 'm2', role: 'manager' }, { id: 'm3', role: 'manager' }, { id: 'w1', role: 'worker' }]);
    expect(await demoteNode(session, await view(session, 'm3'), events)).toBe(true);
    expect(await demoteNode(session, await view(session, 'w1'), events)).toBe(false);
    await expect(demoteNode(session, await view(session, 'm1'), events)).rejects.toThrow('a manager cannot be demoted through itself');
    expect(writes).toEqual(['m3 {"role":"worker"}']);
  });
});
