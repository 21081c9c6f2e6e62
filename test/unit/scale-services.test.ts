import { describe, expect, it } from 'vitest';
import type { EngineJson, SwarmApi } from '../../cli/core/swarm-api.js';
import { scaleServices } from '../../cli/services/swarm/scale-services.js';
import { sessionOver } from '../helpers/fake-session.js';

/** A one-manager swarm in memory: a scale makes that many tasks run at once, as a quick scheduler would. */
function fakeSwarm(replicas: number) {
  const calls: string[] = [];
  let running = replicas;
  const node = { ID: 'n1', Description: { Hostname: 'pi-01', Platform: { Architecture: 'aarch64', OS: 'linux' }, Resources: { NanoCPUs: 4e9, MemoryBytes: 4e9 } }, Spec: { Role: 'manager', Availability: 'active' }, Status: { State: 'ready' } };
  const service = () => ({ ID: 's1', Spec: { Name: 'hello_web', Labels: { 'com.docker.stack.namespace': 'hello' }, Mode: { Replicated: { Replicas: running } }, TaskTemplate: { ContainerSpec: { Image: 'hello:1' } } } });
  const tasks = (): EngineJson[] =>
    Array.from({ length: running }, (_, i) => ({ ID: `t${i}`, ServiceID: 's1', NodeID: 'n1', Slot: i + 1, DesiredState: 'running', Status: { State: 'running', Timestamp: new Date(Date.now() - 60_000).toISOString() } }));
  const api: Partial<SwarmApi> = {
    nodes: async () => [node],
    services: async () => [service()],
    tasks: async () => tasks(),
    scaleService: async (id, n) => {
      calls.push(`scale ${id} ${n}`);
      running = n;
    },
    events: async (_filter, _onEvent, signal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve())),
  };
  const session = sessionOver(api);
  return { session, calls };
}

describe('service scale through the engine', () => {
  it('scales by service ID and answers once exactly that many tasks run, running no shell on the manager', async () => {
    const { session, calls } = fakeSwarm(1);
    const result = await scaleServices(session, [session], [{ name: 'web', replicas: 4 }], { timeoutMs: 5000, windowMs: 0, failLimit: 3 }, { progress: () => undefined });
    expect(calls).toEqual(['scale s1 4']);
    expect(result.changes).toEqual([{ name: 'hello_web', from: 1, to: 4 }]);
    expect(result.services).toMatchObject([{ name: 'hello_web', desired: 4, running: 4, done: true }]);
  });

  it('changes nothing when the swarm cannot hold the count', async () => {
    const { session, calls } = fakeSwarm(1);
    await expect(scaleServices(session, [session], [{ name: 'nope', replicas: 2 }], { timeoutMs: 5000, windowMs: 0, failLimit: 3 }, { progress: () => undefined })).rejects.toThrow('No service "nope"');
    expect(calls).toEqual([]);
  });
});
