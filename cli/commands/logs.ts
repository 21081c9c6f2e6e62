import type { Context } from '../context.js';
import { ExitCode, UsageError } from '../errors.js';
import { serviceLogs } from '../services/swarm/service-logs.js';
import { withCluster } from './cluster-access.js';
import { parseIntegerFlag } from './parse.js';

export interface LogsFlags {
  args: string[];
  follow: boolean;
  since?: string;
  tail?: string;
}

/** Go durations and timestamps that `docker service logs --since` accepts. */
const SINCE = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$|^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$|^\d+(\.\d+)?$/;

export async function logsAction(context: Context, flags: LogsFlags): Promise<number> {
  const wanted = flags.args[0];
  if (!wanted) throw new UsageError('Which service?', 'Name it: piswarm logs web (or hello-world_web); piswarm stack ls lists stacks.');
  if (flags.since !== undefined && !SINCE.test(flags.since)) throw new UsageError(`--since ${flags.since} is neither a duration nor a time.`, 'Write it like 10m, 1h30m or 2026-11-23T09:00:00.');
  const tail = flags.tail === undefined ? undefined : parseIntegerFlag('--tail', flags.tail, 0, 1_000_000);

  // Ctrl-C ends a --follow quietly: the logs so far were the point.
  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  process.once('SIGINT', onInterrupt);
  try {
    return await withCluster(context, async (cluster) => {
      await serviceLogs(cluster.manager, wanted, { follow: flags.follow, since: flags.since, tail }, (line) => context.io.stdout.write(`${line}\n`), stop.signal);
      return ExitCode.ok;
    });
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}
