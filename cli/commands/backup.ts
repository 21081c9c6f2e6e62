import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { homeRegistryAccess } from '../adapters/home-registry.js';
import type { Context } from '../context.js';
import { summarise, type BackupContent } from '../core/backup-content.js';
import { checkPassphrase, openBackup, sealBackup } from '../core/backup-file.js';
import { parseImageRef } from '../core/image-ref.js';
import { blockedSteps, describeRestoreStep } from '../core/restore-plan.js';
import { CancelledError, ExitCode, PiswarmError, UsageError } from '../errors.js';
import { printJson, printLines } from '../io.js';
import { applyRestore, backupSwarm, planRestoreInto } from '../services/swarm/backup.js';
import { createPrompter } from '../ui/prompter.js';
import { registryPlatforms, withCluster } from './cluster-access.js';
import { firstLineOfStdin, parseIntegerFlag } from './parse.js';

export interface BackupFlags {
  output?: string;
  list?: string;
  passphraseStdin: boolean;
}

export async function backupAction(context: Context, flags: BackupFlags): Promise<number> {
  if (flags.list) return listBackup(context, flags.list, flags);
  if (!flags.output) throw new UsageError('Where should the backup go?', 'Give --output FILE (or --list FILE to see what a backup holds).');
  const output = resolve(flags.output);
  // Asked before anything is read: a bad passphrase costs no connection.
  const passphrase = await readPassphrase(context, flags, true);
  const content = await withCluster(context, async (cluster, inventory) => {
    for (const down of cluster.unreachable) context.reporter.warn(`${down.node} did not answer (${down.error}); the backup is the managers' view, which has every node.`);
    const readSource = (path: string) => readFile(path, 'utf8').catch(() => undefined);
    return backupSwarm(cluster.manager, readSource, { file: inventory.file, text: inventory.toString() });
  });
  const sealed = await sealBackup(content, passphrase);
  // Written beside, then renamed: a backup cut short never replaces a good one.
  const partial = `${output}.partial-${process.pid}`;
  try {
    await writeFile(partial, sealed, { mode: 0o600, flag: 'wx' });
    await rename(partial, output);
  } catch (error) {
    await rm(partial, { force: true });
    throw new PiswarmError(`Can't write ${output} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`, { hint: 'Choose a folder you can write to.' });
  }
  const summary = summarise(content);
  if (context.io.json) printJson(context.io, { file: output, bytes: sealed.length, swarmId: content.swarmId, createdAt: content.createdAt, contents: summary });
  else {
    printLines(context.io, formatSummary(summary));
    context.reporter.step(`Backup of swarm ${content.swarmId.slice(0, 12)} written to ${output} (${sealed.length} bytes, mode 600, encrypted)`);
  }
  for (const secret of content.secrets.filter((s) => s.data === undefined)) context.reporter.warn(`Secret ${secret.name}: ${secret.missing}. A restore needs it as --secret ${secret.name}=FILE.`);
  return ExitCode.ok;
}

async function listBackup(context: Context, file: string, flags: BackupFlags): Promise<number> {
  const content = await readBackup(context, file, flags);
  const summary = summarise(content);
  if (context.io.json) printJson(context.io, { file: resolve(file), swarmId: content.swarmId, createdAt: content.createdAt, inventory: content.inventory?.file, contents: summary });
  else printLines(context.io, `Backup of swarm ${content.swarmId.slice(0, 12)}, made ${content.createdAt}${content.inventory ? ` with ${content.inventory.file}` : ''}:\n${formatSummary(summary)}`);
  return ExitCode.ok;
}

export interface RestoreFlags {
  args: string[];
  secret?: string[];
  skipMissing: boolean;
  dryRun: boolean;
  passphraseStdin: boolean;
  timeout: string;
  window: string;
}

export async function restoreAction(context: Context, flags: RestoreFlags): Promise<number> {
  const file = flags.args[0];
  if (!file) throw new UsageError('Which backup?', 'Name the file: piswarm restore cluster.backup');
  const timeoutMs = parseIntegerFlag('--timeout', flags.timeout, 1, 86_400) * 1000;
  const windowMs = parseIntegerFlag('--window', flags.window, 0, 3600) * 1000;
  const secretFiles = parseSecretFlags(flags.secret ?? []);
  const backup = await readBackup(context, file, flags);
  return withCluster(context, async (cluster) => {
    const plan = await planRestoreInto(cluster.manager, backup, secretFiles);
    const unknown = [...secretFiles.keys()].filter((name) => !backup.secrets.some((s) => s.name === name));
    if (unknown.length) throw new UsageError(`The backup has no secret ${unknown.join(', ')}.`, `Its secrets: ${backup.secrets.map((s) => s.name).join(', ') || 'none'}.`);
    const lines = [`Restoring ${file} (swarm ${backup.swarmId.slice(0, 12)}, ${backup.createdAt}) into the swarm of ${cluster.manager.node.hostname}:`, ...plan.steps.map((s, i) => `  ${i + 1}. ${describeRestoreStep(s)}`)];
    const blocked = blockedSteps(plan);
    if (flags.dryRun) {
      if (context.io.json) printJson(context.io, { dryRun: true, steps: plan.steps, warnings: plan.warnings });
      else printLines(context.io, lines.join('\n'));
      return ExitCode.ok;
    }
    if (!context.io.json) context.io.stderr.write(`${lines.join('\n')}\n`);
    for (const warning of plan.warnings) context.reporter.warn(warning);
    if (blocked.length > 0 && !flags.skipMissing) {
      throw new PiswarmError(`Nothing was restored: ${blocked.map((s) => s.name).join(', ')} cannot be restored (see the plan).`, { hint: 'Give each missing secret with --secret NAME=FILE, or --skip-missing to restore the rest.' });
    }
    if (!(await createPrompter(context.io).confirm('Restore into this swarm?'))) throw new CancelledError('Restore cancelled; nothing was changed.', 'Run it with --yes to skip the question (for scripts).');
    const state = await applyRestore(cluster.manager, cluster.nodes, backup, plan, { timeoutMs, windowMs }, restorePorts, {
      step: (message) => (context.io.json ? context.io.stderr.write(`${JSON.stringify({ event: 'step', message })}\n`) : context.reporter.step(message)),
      warn: (message) => context.reporter.warn(message),
      progress: () => undefined,
    });
    if (context.io.json) printJson(context.io, { restored: true, steps: plan.steps, services: state.services });
    else context.reporter.step(`Restored: ${state.services.map((s) => `${s.name} ${s.running}/${s.desired}`).join(', ') || 'nothing needed changing'}`);
    return blocked.length > 0 ? ExitCode.partial : ExitCode.ok;
  });
}

const restorePorts = {
  readSecretFile: (path: string) => readFile(path, 'utf8'),
  currentDigest: async (image: string) => (await registryPlatforms.inspectImage(image)).digest,
  registryAuth: async (image: string) => {
    const registry = parseImageRef(image.replace(/@sha256:[0-9a-f]+$/, '')).registry;
    const access = await homeRegistryAccess(registry);
    return access ? { username: access.username, password: access.password, serveraddress: registry } : undefined;
  },
};

/** `--secret NAME=FILE`: the file is checked now, so a typo fails before anything changes. */
function parseSecretFlags(values: readonly string[]): Map<string, string> {
  const files = new Map<string, string>();
  for (const value of values) {
    const match = /^([^=]+)=(.+)$/.exec(value);
    if (!match) throw new UsageError(`--secret ${value} is not NAME=FILE.`, 'Write it like --secret hw_token_0123456789=./token.txt');
    files.set(match[1]!, resolve(match[2]!));
  }
  return files;
}

async function readBackup(context: Context, file: string, flags: { passphraseStdin: boolean }): Promise<BackupContent> {
  const bytes = await readFile(file).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`Can't read the backup ${file} (${error.code}).`, 'Check the path.');
  });
  return openBackup(bytes, await readPassphrase(context, flags, false), file);
}

/** PISWARM_BACKUP_PASSPHRASE, or the first line of stdin, or asked (twice for a new backup); never from the command line. */
async function readPassphrase(context: Context, flags: { passphraseStdin: boolean }, creating: boolean): Promise<string> {
  let passphrase = flags.passphraseStdin ? await firstLineOfStdin() : process.env.PISWARM_BACKUP_PASSPHRASE;
  if (passphrase === undefined) {
    const prompter = createPrompter(context.io);
    passphrase = await prompter.secret('Backup passphrase:');
    if (creating && (await prompter.secret('The same passphrase again:')) !== passphrase) throw new UsageError('The two passphrases differ.', 'Type the same passphrase twice.');
  }
  if (creating) checkPassphrase(passphrase);
  return passphrase;
}

function formatSummary(summary: ReturnType<typeof summarise>): string {
  return summary.map((s) => `  ${s.kind.padEnd(9)} ${s.items.length ? s.items.join(', ') : '-'}`).join('\n');
}
