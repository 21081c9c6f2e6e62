/**
 * Service logs as `docker service logs --timestamps` prints them: each line of the engine's log
 * stream (requested with details, so it names its task and node) as
 * "TIME SERVICE.SLOT.TASK@NODE | message".
 */
export interface LogLine {
  timestamp?: string;
  taskId?: string;
  nodeId?: string;
  message: string;
}

/** One raw line: an RFC 3339 time, then the details ("com.docker.swarm.task.id=…,…"), then the message. */
export function parseLogLine(raw: string): LogLine {
  let rest = raw;
  let timestamp: string | undefined;
  const time = /^(\d{4}-\d\d-\d\dT\S+) /.exec(rest);
  if (time) {
    timestamp = time[1];
    rest = rest.slice(time[0].length);
  }
  const details = /^(\S*com\.docker\.swarm\.\S*) ?/.exec(rest);
  const attrs = new Map<string, string>();
  if (details) {
    for (const pair of details[1]!.split(',')) {
      const at = pair.indexOf('=');
      if (at > 0) attrs.set(decodeURIComponent(pair.slice(0, at)), decodeURIComponent(pair.slice(at + 1)));
    }
    rest = rest.slice(details[0].length);
  }
  return { timestamp, taskId: attrs.get('com.docker.swarm.task.id'), nodeId: attrs.get('com.docker.swarm.node.id'), message: rest };
}

export interface LogContext {
  /** Task ID → its name, SERVICE.SLOT (or SERVICE.NODE-ID for a global service). */
  taskName(taskId: string): string | undefined;
  nodeName(nodeId: string): string | undefined;
}

export function formatLogLine(line: LogLine, context: LogContext): string {
  const task = line.taskId ? `${context.taskName(line.taskId) ?? 'task'}.${line.taskId.slice(0, 12)}` : 'task';
  const node = line.nodeId ? (context.nodeName(line.nodeId) ?? line.nodeId.slice(0, 12)) : '?';
  return `${line.timestamp ? `${line.timestamp} ` : ''}${task}@${node}    | ${line.message}`;
}

/** --since as the engine takes it (UNIX seconds): a Go duration back from `now`, a time, or seconds. */
export function sinceSeconds(since: string, now: number): string {
  if (/^\d+(\.\d+)?$/.test(since)) return since;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...since.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length > 0 && parts.map((p) => p[0]).join('') === since) {
    const ms = parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]!]!, 0);
    return String(Math.floor((now - ms) / 1000));
  }
  return String(Math.floor(Date.parse(since) / 1000));
}
