import type { SshConnection, SshConnector, SshTarget } from '../adapters/ssh.js';
import { mapSettled, type Settled } from '../core/parallel.js';
import { sameHostKey } from '../core/host-key.js';

export interface PoolResult<R> {
  value: R;
  /** The host key the node presented; `learned` when it was not pinned before (or was replaced). */
  hostKey: string;
  learned: boolean;
}

export const DEFAULT_CONCURRENCY = 8;

/**
 * Connects to each target (at most `concurrency` at once), runs `work`, and closes the
 * connection. A node that fails (unreachable, refused, changed host key, work threw) gets its own
 * error; the others carry on.
 */
export function runOnNodes<R>(
  connector: SshConnector,
  targets: readonly SshTarget[],
  work: (connection: SshConnection, target: SshTarget) => Promise<R>,
  options: { concurrency?: number } = {},
): Promise<Array<Settled<SshTarget, PoolResult<R>>>> {
  return mapSettled(targets, options.concurrency ?? DEFAULT_CONCURRENCY, async (target) => {
    const connection = await connector.connect(target);
    try {
      const value = await work(connection, target);
      const learned = !target.pinnedHostKey || !sameHostKey(target.pinnedHostKey, connection.hostKey);
      return { value, hostKey: connection.hostKey, learned };
    } finally {
      connection.close();
    }
  });
}
