import { eventsScript } from '../../core/stack-scripts.js';
import type { NodeSession } from './node-session.js';

/** Between a burst of events and the look at the swarm they trigger. */
const DEBOUNCE_MS = 50;
/** States that come without an event anywhere (a task rejected before any container, a state an agent reports late) are caught by this; looks are one API call, so it is cheap. */
const HEARTBEAT_MS = 500;
/**
 * A node's agent reports a task's new state to the managers a little after its container event:
 * one more look this long after the last event catches it without waiting for the heartbeat.
 */
const FOLLOW_UP_MS = 250;
/** Looks cost the manager's CPU, which the tasks being started need: at most one per this. */
const MIN_GAP_MS = 250;

export interface WatchStep<S> {
  state: S;
  done: boolean;
  /** When to look again even without an event (a task completing its stability window). */
  recheckAt?: number;
}

/**
 * Follows the swarm until `look` says done or `timeoutMs` passes: every node's engine events are
 * streamed at once, and the swarm is looked at again after each burst (and at least once a
 * second), so the answer comes as soon as the last container starts instead of at the next poll.
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
  let followUp: NodeJS.Timeout | undefined;
  const onEvent = () => {
    poke();
    clearTimeout(followUp);
    followUp = setTimeout(poke, FOLLOW_UP_MS);
  };
  // Event streams end by themselves a little after the deadline, should a channel outlive us.
  const streams = nodes.map((node) => node.stream(eventsScript(timeoutMs / 1000 + 30), onEvent, stop.signal).catch(() => undefined));
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
    clearTimeout(followUp);
    stop.abort();
    await Promise.all(streams);
  }
}
