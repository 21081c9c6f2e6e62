import { saveInventory } from '../adapters/inventory-file.js';
import type { Context } from '../context.js';
import { ExitCode, UsageError } from '../errors.js';
import { printJson, printLines } from '../io.js';
import { runCommand, type NodeRunResult } from '../services/run-command.js';
import { resolveSshCredentials } from '../services/ssh-credentials.js';
import { nodeLocator } from './cluster-access.js';
import { firstLineOfStdin, parseIntegerFlag, recordUserFlag } from './parse.js';

export interface RunFlags {
  args: string[];
  node?: string[];
  concurrency: string;
  timeout: string;
  passwordStdin: boolean;
  acceptNewHostKey: boolean;
  user?: string;
}

export async function runAction(context: Context, flags: RunFlags): Promise<number> {
  const command = flags.args.join(' ');
  if (!command.trim()) throw new UsageError('No command given.', 'Put it after --, e.g. `piswarm run -- uptime`.');
  const concurrency = parseIntegerFlag('--concurrency', flags.concurrency, 1, 256);
  const timeoutMs = parseIntegerFlag('--timeout', flags.timeout, 1, 86_400) * 1000;
  const password = flags.passwordStdin ? await firstLineOfStdin() : undefined;

  const inventory = await context.loadInventory();
  const user = recordUserFlag(inventory, flags.user);
  const credentials = await resolveSshCredentials({ privateKeyPath: inventory.sshDefaults.privateKey, password });
  const { results, pinned, moved } = await runCommand(context.ssh(), inventory, credentials, context.reporter, {
    command,
    nodes: flags.node ?? [],
    concurrency,
    timeoutMs,
    acceptChangedHostKey: flags.acceptNewHostKey,
    locator: nodeLocator(context, inventory),
  });
  if (pinned.length > 0 || moved.length > 0 || user) await saveInventory(inventory);

  if (context.io.json) printJson(context.io, results);
  else printLines(context.io, results.map(formatResult).join('\n'));
  const failed = results.filter((r) => !r.ok).length;
  return failed === 0 ? ExitCode.ok : failed === results.length ? ExitCode.failed : ExitCode.partial;
}

function formatResult(result: NodeRunResult): string {
  const header = `── ${result.node} (${result.ip}) ${result.error ? 'failed' : `exit ${result.exitCode}`}`;
  const body = result.error ? `${result.error}${result.hint ? `\n${result.hint}` : ''}` : `${result.stdout ?? ''}${result.stderr ?? ''}`.trimEnd();
  return body ? `${header}\n${body}` : header;
}
