import type { NodeSession } from './node-session.js';

/** Between a burst of events and the look at the swarm they trigger. */
const DEBOUNCE_MS = 50;
/**
 * Task states the managers record without any event (a task rejected before any container, the
 * state an agent reports some time after its container event) are caught by a look this often;
 * a look is one API call on the manager, so it is cheap.
 */
const HEARTBEAT_MS = 250;
/** Looks cost the manager's CPU, which the tasks being started need: at most one per this. */
const MIN_GAP_MS = 100;

export interface WatchStep<S> {
  state: S;
  done: boolean;
  /** When to look again even without an event (a task completing its stability window). */
  recheckAt?: number;
}

/**
 * Follows the swarm until `look` says done or `timeoutMs` passes: every node's engine events are
 * streamed at once, and the swarm is looked at again after each burst (and at least every
 * quarter second), so the answer comes as soon as the last container starts.
 * `look` throws to give up early (a failure no wait will fix).
 */
export async function watchSwarm<S>(nodes: readonly NodeSession[], timeoutMs: number, look: () => Promise<WatchStep<S>>): Promise<{ state: S; done: boolean }> {
  const stop = new AbortController();
  const deadline = Date.now() + timeoutMs;
  let wake: () => void = () => undefined;
  let pending = true;
  const poke = () => {
    pending = true;
    wake();
  };
  // Event streams end by themselves a little after the deadline, should a channel outlive us.
  const streams = nodes.map((node) => node.events(['container', 'service'], timeoutMs / 1000 + 30, poke, stop.signal).catch(() => undefined));
  const heartbeat = setInterval(poke, HEARTBEAT_MS);
  try {
    let step: WatchStep<S> | undefined;
    let lastLook = 0;
    for (;;) {
      if (!pending) {
        const until = Math.min(deadline, step?.recheckAt ?? Infinity);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(0, until - Date.now()));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        await new Promise((resolve) => setTimeout(resolve, DEBOUNCE_MS));
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, lastLook + MIN_GAP_MS - Date.now())));
      pending = false;
      lastLook = Date.now();
      step = await look();
      if (step.done || Date.now() >= deadline) return { state: step.state, done: step.done };
    }
  } finally {
    clearInterval(heartbeat);
    stop.abort();
    await Promise.all(streams);
  }
}
