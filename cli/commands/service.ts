import type { Context } from '../context.js';
import { parseScaleTargets } from '../core/service-scale.js';
import { serviceRows } from '../core/service-table.js';
import { ExitCode } from '../errors.js';
import { printJson, printLines } from '../io.js';
import { scaleServices } from '../services/swarm/scale-services.js';
import { readServices } from '../services/swarm/service-state.js';
import { readSwarmNodes } from '../services/swarm/swarm-nodes.js';
import { convergenceProgress } from '../ui/convergence-progress.js';
import { formatTable } from '../ui/table.js';
import { withCluster } from './cluster-access.js';
import { parseIntegerFlag } from './parse.js';

export async function serviceLsAction(context: Context): Promise<number> {
  return withCluster(context, async (cluster) => {
    const [{ services, tasks }, nodes] = await Promise.all([readServices(cluster.manager, 'all'), readSwarmNodes(cluster.manager)]);
    const rows = serviceRows(services, tasks, nodes);
    if (context.io.json) printJson(context.io, rows);
    else if (rows.length === 0) printLines(context.io, 'No services.');
    else printLines(context.io, formatTable(['NAME', 'STACK', 'MODE', 'RUNNING', 'IMAGE', 'UPDATE'], rows.map((r) => [r.name, r.stack ?? '-', r.mode, `${r.running}/${r.desired}`, r.image, r.update ?? '-'])));
    return ExitCode.ok;
  });
}

export interface ScaleFlags {
  args: string[];
  timeout: string;
  window: string;
}

export async function serviceScaleAction(context: Context, flags: ScaleFlags): Promise<number> {
  const targets = parseScaleTargets(flags.args);
  const timeoutMs = parseIntegerFlag('--timeout', flags.timeout, 1, 86_400) * 1000;
  const windowMs = parseIntegerFlag('--window', flags.window, 0, 600) * 1000;
  return withCluster(context, async (cluster) => {
    const result = await scaleServices(cluster.manager, cluster.nodes, targets, { timeoutMs, windowMs, failLimit: 3 }, {
      progress: convergenceProgress(context.io, 'running for the whole window'),
    });
    if (context.io.json) printJson(context.io, result);
    else for (const c of result.changes) context.reporter.step(`${c.name}: ${c.from} → ${c.to} replicas, all running (${result.seconds.toFixed(1)} s)`);
    return ExitCode.ok;
  });
}
