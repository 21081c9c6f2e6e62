import { findOrCreateUserKey } from '../adapters/user-key.js';
import type { Context } from '../context.js';
import { HYPRIOT_DEFAULT_PASSWORD } from '../core/boot-config.js';
import { DEFAULT_SSH_USER } from '../core/inventory.js';
import { ExitCode, UsageError } from '../errors.js';
import { printJson, printLines } from '../io.js';
import { addNodesByAddress } from '../services/swarm/add-by-address.js';
import type { NodeSession } from '../services/swarm/node-session.js';
import { bootstrap, type BootstrapResult } from '../services/swarm/bootstrap.js';
import { resolveSshCredentials } from '../services/ssh-credentials.js';
import { createNodeProgress } from '../ui/node-progress.js';
import { formatTable } from '../ui/table.js';
import { nodeLocator, swarmLock } from './cluster-access.js';
import { firstLineOfStdin, parseIntegerFlag, recordUserFlag } from './parse.js';

export interface BootstrapFlags {
  managers?: string;
  only?: string[];
  nodes?: string;
  advertiseAddr?: string;
  keepPassword: boolean;
  lockPassword: boolean;
  force: boolean;
  acceptNewHostKey: boolean;
  concurrency: string;
  timeout: string;
  passwordStdin: boolean;
  user?: string;
}

export async function bootstrapAction(context: Context, flags: BootstrapFlags): Promise<number> {
  const managers = flags.managers === undefined ? undefined : parseIntegerFlag('--managers', flags.managers, 1, 99, 'Use 1, 3 or 5: an odd number keeps Raft quorum.');
  const concurrency = parseIntegerFlag('--concurrency', flags.concurrency, 1, 256);
  const timeoutMs = parseIntegerFlag('--timeout', flags.timeout, 1, 3600) * 1000;
  if (flags.keepPassword && flags.lockPassword) throw new UsageError('--keep-password and --lock-password contradict each other.', 'Give one of them.');
  if (flags.nodes && flags.only) throw new UsageError('--nodes and --only both choose nodes.', 'Use --nodes for addresses not yet in the inventory, --only for nodes in it.');
  const password = flags.passwordStdin ? await firstLineOfStdin() : undefined;

  const inventory = await context.loadInventory();
  const user = recordUserFlag(inventory, flags.user);
  const userKey = await findOrCreateUserKey(inventory.sshDefaults.privateKey);
  if (userKey.created) context.reporter.step(`SSH key ${userKey.path} created (you had none); it is the key piswarm installs on the nodes`);
  const credentials = await resolveSshCredentials({ privateKeyPath: userKey.path, password });
  // A fresh HypriotOS card accepts its published default: the password this command replaces.
  if (!credentials.password && (user ?? inventory.sshDefaults.user) === DEFAULT_SSH_USER) credentials.password = HYPRIOT_DEFAULT_PASSWORD;

  let only = flags.only ?? [];
  let opened: Map<string, NodeSession> | undefined;
  if (flags.nodes) {
    const added = await addNodesByAddress(context.ssh(), inventory, flags.nodes.split(',').map((s) => s.trim()).filter(Boolean), credentials, timeoutMs, user);
    for (const node of added.report.added) context.reporter.step(`${node.hostname} added to ${inventory.file} (${node.mac}, ${node.ip})`);
    only = added.hostnames;
    opened = added.sessions;
  }

  const names = (only.length > 0 ? only.map((ref) => inventory.requireNode(ref)) : inventory.nodes()).map((n) => n.hostname);
  const progress = createNodeProgress(context.io, names);
  let result: BootstrapResult;
  try {
    result = await bootstrap(
      inventory,
      { managers, only, advertiseAddr: flags.advertiseAddr, keepPassword: flags.keepPassword, lockPassword: flags.lockPassword, force: flags.force, acceptChangedHostKey: flags.acceptNewHostKey, concurrency, timeoutMs },
      { connector: context.ssh(), userKey, credentials, reporter: context.reporter, events: progress, opened, locator: nodeLocator(context, inventory), lock: (leader) => swarmLock(context, leader) },
    );
  } finally {
    await progress.close();
    // What was learned (host keys, roles, the swarm ID) is kept even when something failed.
    await context.saveInventory(inventory);
  }

  for (const warning of result.warnings) context.reporter.warn(warning);
  const failed = result.nodes.filter((n) => !n.ok);
  if (context.io.json) printJson(context.io, result);
  else printLines(context.io, summary(result));
  for (const node of failed) context.reporter.warn(`${node.error}${node.hint ? `\n  ${node.hint}` : ''}`);
  if (failed.length > 0) context.reporter.warn(`To finish, once fixed: ${finishCommand(flags, result, failed.map((n) => n.node))}`);
  return failed.length === 0 ? ExitCode.ok : failed.length === result.nodes.length ? ExitCode.failed : ExitCode.partial;
}

function summary(result: BootstrapResult): string {
  const rows = result.nodes.map((n) => [n.node, n.ip, n.role ?? '-', n.ok ? (n.changes.length > 0 ? n.changes.join(', ') : 'nothing to change') : 'FAILED (see below)']);
  const changed = result.nodes.some((n) => n.changes.length > 0);
  const head = result.swarmId
    ? `Swarm ${result.swarmId.slice(0, 12)}, managed from ${result.leader}: ${changed ? 'done' : 'already as wanted, nothing changed'}.`
    : 'No swarm was formed.';
  return `${formatTable(['NODE', 'IP', 'ROLE', 'RESULT'], rows)}\n${head}`;
}

/**
 * The run that finishes the job: the failed nodes only once the swarm exists (the whole inventory
 * otherwise, its first manager among them), with the choices that shaped this run kept.
 */
function finishCommand(flags: BootstrapFlags, result: BootstrapResult, failed: readonly string[]): string {
  const words = ['piswarm bootstrap'];
  if (result.swarmId) words.push(`--only ${failed.join(' ')}`);
  if (flags.managers) words.push(`--managers ${flags.managers}`);
  if (flags.keepPassword) words.push('--keep-password');
  if (flags.lockPassword) words.push('--lock-password');
  if (flags.advertiseAddr) words.push(`--advertise-addr ${flags.advertiseAddr}`);
  return words.join(' ');
}
