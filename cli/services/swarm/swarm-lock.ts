import { PiswarmError } from '../../errors.js';
import type { NodeSession } from './node-session.js';

/** Who holds the swarm's lock, as its labels say. */
export interface SwarmLockHolder {
  command: string;
  pid: number;
  host: string;
  since: string;
}

export interface SwarmLockOptions {
  /** How long to wait for another run to finish before refusing. */
  waitMs: number;
  pollMs: number;
  /** A holder that has not renewed its lease for this long is gone (crashed, or its machine off). */
  leaseMs: number;
  renewMs: number;
  /** Whether a holder is known to be gone before its lease ends (a dead process of this machine). */
  isGone?: (holder: SwarmLockHolder) => boolean;
}

export const SWARM_LOCK_DEFAULTS: Omit<SwarmLockOptions, 'waitMs'> = { pollMs: 500, leaseMs: 60_000, renewMs: 20_000 };

/** A config only the lock uses: the managers' Raft store creates a name once, whichever manager is asked. */
const NAME = 'piswarm-lock';
const LABEL = 'io.piswarm.lock';

/**
 * One changing run per swarm, whichever machine (and inventory) it starts from: a swarm config
 * named piswarm-lock, created by the run that holds it and renewed while it runs. A second run
 * waits a little, then refuses, naming the holder; a holder silent past its lease is taken over.
 * Returns the release (which never fails: a swarm torn down takes the lock with it).
 */
export async function holdSwarmLock(through: NodeSession | (() => NodeSession), me: SwarmLockHolder, options: SwarmLockOptions): Promise<() => Promise<void>> {
  // A run that reboots managers (upgrade) renews and releases through whichever one is up.
  const via = typeof through === 'function' ? through : () => through;
  const manager = via();
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    if (await tryCreate(manager, me)) break;
    const held = (await manager.engine('read the swarm lock', (api) => api.labelled('config', LABEL))).find((o) => o.name === NAME);
    const renewed = Date.parse(held?.labels[`${LABEL}.renewed`] ?? '');
    if (held && (!(Date.now() - renewed < options.leaseMs) || options.isGone?.(holderOf(held.labels)))) {
      // Its holder has gone quiet (or died here, its release lost with its connection): the lock, as it was read, is taken over.
      await manager.engine('take over the swarm lock', (api) => api.remove('config', held.id));
      continue;
    }
    // (Not found: released between the two requests; tried again after the pause.)
    if (Date.now() >= deadline) throw refusal(holderOf(held?.labels ?? {}), manager.node.hostname, options.leaseMs);
    await new Promise((resolve) => setTimeout(resolve, options.pollMs));
  }
  const mine = async () => (await via().engine('read the swarm lock', (api) => api.labelled('config', LABEL))).find((o) => o.name === NAME && o.labels[`${LABEL}.pid`] === String(me.pid) && o.labels[`${LABEL}.host`] === me.host);
  const renewal = setInterval(() => {
    void mine()
      .then((held) => held && via().engine('renew the swarm lock', (api) => api.relabelConfig(held.id, labelsOf(me))))
      .catch(() => undefined);
  }, options.renewMs);
  renewal.unref();
  return async () => {
    clearInterval(renewal);
    const held = await mine().catch(() => undefined);
    if (held) await via().engine('release the swarm lock', (api) => api.remove('config', held.id)).catch(() => undefined);
  };
}

async function tryCreate(manager: NodeSession, me: SwarmLockHolder): Promise<boolean> {
  try {
    // The engine takes no empty config: the holder goes in its data too, for `docker config inspect`.
    await manager.engine('take the swarm lock', (api) => api.createObject('config', NAME, JSON.stringify(me), labelsOf(me)));
    return true;
  } catch (error) {
    if (/already exists/i.test((error as Error).message)) return false;
    throw error;
  }
}

function labelsOf(me: SwarmLockHolder): Record<string, string> {
  return { [LABEL]: 'true', [`${LABEL}.command`]: me.command, [`${LABEL}.pid`]: String(me.pid), [`${LABEL}.host`]: me.host, [`${LABEL}.since`]: me.since, [`${LABEL}.renewed`]: new Date().toISOString() };
}

function holderOf(labels: Record<string, string>): SwarmLockHolder {
  return { command: labels[`${LABEL}.command`] ?? 'run', pid: Number(labels[`${LABEL}.pid`]), host: labels[`${LABEL}.host`] ?? 'another machine', since: labels[`${LABEL}.since`] ?? '?' };
}

function refusal(holder: SwarmLockHolder, manager: string, leaseMs: number): PiswarmError {
  return new PiswarmError(`Another piswarm ${holder.command} (pid ${holder.pid} on ${holder.host}, since ${holder.since}) is changing this swarm.`, {
    hint: `Wait for it to finish and try again (PISWARM_LOCK_WAIT=SECONDS waits longer). A run that died lets go ${leaseMs / 1000} s after its last renewal; to free it at once: docker config rm ${NAME} (on ${manager}).`,
  });
}
