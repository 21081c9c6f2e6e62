import type { Context } from '../context.js';
import { nodeRows } from '../core/node-table.js';
import { NODE_TASK_COUNTS_SCRIPT } from '../core/swarm-scripts.js';
import { ExitCode } from '../errors.js';
import { printJson, printLines } from '../io.js';
import { readSwarmNodes } from '../services/swarm/swarm-nodes.js';
import { formatTable } from '../ui/table.js';
import { withCluster } from './cluster-access.js';

export async function nodeLsAction(context: Context): Promise<number> {
  return withCluster(context, async (cluster, inventory) => {
    const swarm = await readSwarmNodes(cluster.manager);
    const counts = (await cluster.manager.run('count the tasks per node', NODE_TASK_COUNTS_SCRIPT)).stdout.split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]);
    const { rows, warnings } = nodeRows(swarm, inventory.nodes(), new Map(counts.map(([id, n]) => [id, Number(n)])));
    if (context.io.json) printJson(context.io, rows);
    else {
      printLines(
        context.io,
        formatTable(
          ['HOSTNAME', 'ROLE', 'STATUS', 'AVAILABILITY', 'ARCH', 'ENGINE', 'TASKS', 'IP', 'MAC'],
          rows.map((r) => [r.hostname, r.leader ? 'manager (leader)' : r.role, r.status, r.availability, r.arch, r.engine ?? '-', String(r.tasks), r.ip ?? '-', r.mac ?? '-']),
        ),
      );
    }
    for (const warning of warnings) context.reporter.warn(warning);
    for (const down of cluster.unreachable) context.reporter.warn(`${down.node} did not answer over SSH: ${down.error}`);
    return ExitCode.ok;
  });
}
