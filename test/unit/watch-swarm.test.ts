import { describe, expect, it } from 'vitest';
import type { SwarmApi } from '../../cli/core/swarm-api.js';
import { watchSwarm } from '../../cli/services/swarm/watch-swarm.js';
import { sessionOver } from '../helpers/fake-session.js';

/** A node whose engine sends one event `afterMs` after the stream opens, and records how the stream ended. */
function node(afterMs: number) {
  const seen = { opened: 0, stopped: 0 };
  const api: Partial<SwarmApi> = {
    events: (_filter, onEvent, signal) =>
      new Promise<void>((resolve) => {
        seen.opened++;
        const timer = setTimeout(() => onEvent({ Type: 'container', Action: 'start' }), afterMs);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          seen.stopped++;
          resolve();
        });
      }),
  };
  return { session: sessionOver(api), seen };
}

describe('following the swarm', () => {
  it('looks until the look says done, with one event stream per node, stopped at the end', async () => {
    const { session, seen } = node(30);
    let looks = 0;
    const result = await watchSwarm([session], 5000, async () => ({ state: ++looks, done: looks === 3 }));
    expect(result).toEqual({ state: 3, done: true });
    expect(seen).toEqual({ opened: 1, stopped: 1 });
  });

  it('gives up at the deadline with the last state, not done', async () => {
    const { session, seen } = node(60_000);
    const result = await watchSwarm([session], 400, async () => ({ state: 'waiting', done: false }));
    expect(result).toEqual({ state: 'waiting', done: false });
    expect(seen.stopped).toBe(1);
  });

  it('stops the streams when a look gives up early, and passes its error on', async () => {
    const { session, seen } = node(60_000);
    await expect(watchSwarm([session], 5000, async () => Promise.reject(new Error('task rejected')))).rejects.toThrow('task rejected');
    expect(seen.stopped).toBe(1);
  });
});
