import type { Context } from '../../context.js';
import { CancelledError, ExitCode } from '../../errors.js';
import { printJson, printLines } from '../../io.js';
import { resolveSshCredentials } from '../../services/ssh-credentials.js';
import { teardownSwarm } from '../../services/swarm/teardown.js';
import { createNodeProgress } from '../../ui/node-progress.js';
import { createPrompter } from '../../ui/prompter.js';
import { formatTable } from '../../ui/table.js';
import { nodeLocator, swarmLock } from '../cluster-access.js';
import { firstLineOfStdin, parseIntegerFlag } from '../parse.js';
import { StepJournal } from '../step-journal.js';

export interface TeardownFlags {
  concurrency: string;
  timeout: string;
  passwordStdin: boolean;
}

export async function teardownAction(context: Context, flags: TeardownFlags): Promise<number> {
  const concurrency = parseIntegerFlag('--concurrency', flags.concurrency, 1, 256);
  const timeoutMs = parseIntegerFlag('--timeout', flags.timeout, 1, 3600) * 1000;
  const password = flags.passwordStdin ? await firstLineOfStdin() : undefined;
  const inventory = await context.loadInventory();
  const names = inventory.nodes().map((n) => n.hostname);
  const question = `Tear down the swarm of ${names.join(', ')}? Every stack and service is removed and every node leaves the swarm.`;
  if (!(await createPrompter(context.io).confirm(question))) {
    throw new CancelledError('Teardown cancelled; nothing was changed.', 'Run it with --yes to skip the question (for scripts).');
  }
  const credentials = await resolveSshCredentials({ privateKeyPath: inventory.sshDefaults.privateKey, password });
  const progress = createNodeProgress(context.io, names);
  let result;
  try {
    result = await new StepJournal().guard(['swarm', 'teardown'], () =>
      teardownSwarm(inventory, { concurrency, timeoutMs }, { connector: context.ssh(), credentials, events: progress, locator: nodeLocator(context, inventory), reporter: context.reporter, lock: (leader) => swarmLock(context, leader) }),
    );
  } finally {
    await progress.close();
  }
  await context.saveInventory(inventory);
  const failed = result.nodes.filter((n) => !n.ok);
  if (context.io.json) printJson(context.io, result);
  else {
    const rows = result.nodes.map((n) => [n.node, n.ip, n.ok ? n.result ?? '-' : 'FAILED (see below)']);
    const removed = result.removed.length > 0 ? `Removed ${result.removed.join(', ')}.` : 'No stacks or services to remove.';
    printLines(context.io, `${formatTable(['NODE', 'IP', 'RESULT'], rows)}\n${result.swarmId ? `Swarm ${result.swarmId.slice(0, 12)} torn down. ${removed}` : 'No swarm to tear down.'}`);
  }
  for (const node of failed) context.reporter.warn(`${node.error!.startsWith(`${node.node}: `) ? '' : `${node.node}: `}${node.error}${node.hint ? `\n  ${node.hint}` : ''}`);
  return failed.length === 0 ? ExitCode.ok : ExitCode.partial;
}
