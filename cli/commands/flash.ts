import { readFile } from 'node:fs/promises';
import { saveInventory } from '../adapters/inventory-file.js';
import { listDrives } from '../adapters/drives.js';
import type { Context } from '../context.js';
import { parseAuthorizedKeys, parseStaticAddress, validateCountry, validateHostname, validateUsername, wifiPsk, type CardSettings } from '../core/card-settings.js';
import { isSha256 } from '../core/checksum.js';
import { formatBytes, judgeDrive } from '../core/drive-safety.js';
import { sha512Crypt } from '../core/sha512-crypt.js';
import { UsageError } from '../errors.js';
import { printJson, printLines } from '../io.js';
import { flash, type FlashRequest } from '../services/flash/flash.js';
import { expandHome } from '../adapters/user-key.js';
import { createFlashProgress } from '../ui/flash-progress.js';
import { createPrompter, type Prompter } from '../ui/prompter.js';
import { firstLineOfStdin } from './parse.js';
import { formatTable } from '../ui/table.js';

export interface FlashFlags {
  args: string[];
  device?: string[];
  output?: string[];
  hostname?: string;
  sha256?: string;
  checksum: boolean;
  user: string;
  sshKey?: string;
  password?: boolean;
  wifiSsid?: string;
  /** true: ask for it; a string: someone typed the secret on the command line, which is refused. */
  wifiPassword?: boolean | string;
  wifiCountry?: string;
  ip?: string;
  gateway?: string;
  dns?: string[];
  force: boolean;
  dryRun: boolean;
  verifyAll: boolean;
  list: boolean;
}

export async function flashAction(context: Context, flags: FlashFlags): Promise<number> {
  if (flags.list) return listCards(context);
  const [image] = flags.args;
  if (!image) throw new UsageError('No image given.', 'e.g. `piswarm flash hypriotos-rpi-v1.12.3.img.zip --device /dev/sdb --hostname manager-01`.');
  const prompter = createPrompter(context.io);
  const request = await buildRequest(image, flags, prompter);
  const inventory = await context.loadInventory();
  const before = inventory.toString();
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  const progress = createFlashProgress(context.io, new Set(request.targets.map((t) => t.path)).size);
  try {
    const outcome = await flash(
      context.runner,
      inventory,
      { ...request, signal: interrupt.signal },
      { confirm: (q) => prompter.confirm(q), nextCard: (hostname, device) => prompter.waitForEnter(`Put the card for ${hostname} into ${device}.`) },
      progress,
    ).catch(async (error: Error) => {
      await progress.close(error);
      throw error;
    });
    await progress.close();
    if (context.io.json) printJson(context.io, outcome);
    else if (outcome.dryRun) printLines(context.io, `Dry run: every check passed; nothing was opened for writing (${request.targets.map((t) => t.path).join(', ')}).`);
    else {
      printLines(
        context.io,
        outcome.cards
          .map((c) => `✓ ${c.hostname} → ${c.target}: verified, personalised (${c.format}: ${c.files.join(', ')}); ${formatBytes(c.bytesWritten)} written, ${formatBytes(c.bytesRead)} read back in ${c.seconds.toFixed(1)} s`)
          .join('\n'),
      );
    }
    return 0;
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    // Host keys of the cards that were finished are kept even when a later card fails.
    if (inventory.toString() !== before) await saveInventory(inventory);
  }
}

async function buildRequest(image: string, flags: FlashFlags, prompter: Prompter): Promise<Omit<FlashRequest, 'signal'>> {
  if (!flags.hostname) throw new UsageError('--hostname is required.', 'Name each card: --hostname manager-01,worker-01,worker-02.');
  const hostnames = flags.hostname.split(',').map((h) => validateHostname(h.trim()));
  if (new Set(hostnames).size !== hostnames.length) throw new UsageError('--hostname lists the same name twice.');
  const devices = (flags.device ?? []).flatMap((d) => d.split(','));
  const outputs = (flags.output ?? []).flatMap((o) => o.split(','));
  if ((devices.length > 0) === (outputs.length > 0)) throw new UsageError('Give either --device or --output.', '--device /dev/sdb writes a card; --output card.img writes an image file.');
  const targets =
    outputs.length > 0
      ? matchTargets(outputs, hostnames, '--output').map((path) => ({ kind: 'file' as const, path }))
      : (devices.length === 1 ? hostnames.map(() => devices[0]!) : matchTargets(devices, hostnames, '--device')).map((path) => ({ kind: 'device' as const, path }));
  if (devices.length === 1 && hostnames.length > 1 && !process.stdin.isTTY) {
    throw new UsageError(`${hostnames.length} cards through one --device need a terminal, to say when each card is in.`, 'Run it in a terminal, or give one --device per hostname.');
  }
  if (flags.sha256 !== undefined && !isSha256(flags.sha256)) throw new UsageError(`--sha256 "${flags.sha256}" is not a SHA-256 (64 hex digits).`);

  const base = {
    user: validateUsername(flags.user),
    sshAuthorizedKeys: await readSshKeys(flags.sshKey),
    password: await readPassword(flags.password, prompter),
    wifi: flags.wifiSsid !== undefined ? await wifiSettings(flags.wifiSsid, flags.wifiCountry, flags.wifiPassword, prompter) : undefined,
    network: flags.ip !== undefined ? parseStaticAddress(flags.ip, flags.gateway, flags.dns ?? []) : undefined,
  } satisfies Omit<CardSettings, 'hostname' | 'hostKeys' | 'instanceId'>;
  if (flags.ip !== undefined && hostnames.length > 1) throw new UsageError('--ip gives one address, but several cards are being flashed.', 'Flash cards with static addresses one at a time.');
  return {
    image,
    sha256: flags.sha256,
    noChecksum: !flags.checksum,
    targets,
    settings: hostnames.map((hostname) => ({ hostname, ...base })),
    verifyAll: flags.verifyAll,
    force: flags.force,
    dryRun: flags.dryRun,
  };
}

function matchTargets(paths: string[], hostnames: string[], flag: string): string[] {
  if (paths.length !== hostnames.length) throw new UsageError(`${flag} names ${paths.length} target(s) for ${hostnames.length} hostname(s).`, `Give one ${flag} per hostname.`);
  return paths;
}

export async function readSshKeys(path: string | undefined): Promise<string[]> {
  const file = expandHome(path ?? '~/.ssh/id_ed25519.pub');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (path === undefined) return [];
    throw new UsageError(`Can't read the SSH key ${file} (${(error as NodeJS.ErrnoException).code}).`, 'Give a readable public key file, e.g. --ssh-key ~/.ssh/id_ed25519.pub.');
  }
  return parseAuthorizedKeys(text, file);
}

/** --password: typed at a prompt on a terminal, else the first line of standard input. */
async function readPassword(flag: boolean | undefined, prompter: Prompter): Promise<CardSettings['password']> {
  if (flag === undefined) return undefined;
  if (flag === false) return { lock: true };
  const typed = process.stdin.isTTY ? await prompter.secret('Password for the card user:') : await firstLineOfStdin();
  if (!typed) throw new UsageError('The password is empty.', 'Give one, or use --no-password to lock password login (SSH keys only).');
  return { hash: sha512Crypt(typed) };
}

/** The wifi passphrase from PISWARM_WIFI_PASSWORD or a prompt, never from the command line (ps and shell history keep it). */
export async function wifiSettings(ssid: string, country: string | undefined, ask: boolean | string | undefined, prompter: Prompter): Promise<NonNullable<CardSettings['wifi']>> {
  if (typeof ask === 'string') {
    throw new UsageError('--wifi-password takes no value: a passphrase on the command line is seen by every user in ps and kept in shell history.', 'Set PISWARM_WIFI_PASSWORD, or give --wifi-password alone to be asked for it.');
  }
  const passphrase = process.env.PISWARM_WIFI_PASSWORD || (ask && process.stdin.isTTY ? await prompter.secret(`Passphrase of the wifi network ${ssid}:`) : undefined);
  if (!passphrase) throw new UsageError('--wifi-ssid needs the wifi passphrase.', 'Set PISWARM_WIFI_PASSWORD, or give --wifi-password on a terminal to be asked for it.');
  if (!country) throw new UsageError('--wifi-ssid needs --wifi-country (e.g. GB): the Pi keeps wifi off until it knows the country.');
  return { ssid, psk: wifiPsk(ssid, passphrase), country: validateCountry(country) };
}

async function listCards(context: Context): Promise<number> {
  const drives = await listDrives(context.runner);
  const rows = drives.map((d) => {
    const verdict = judgeDrive(d, { imageDevices: [] });
    const status = verdict.refusals.length > 0 ? 'refused: ' + verdict.refusals.map((r) => r.replace(`${d.path} `, '')).join('; ') : verdict.needsForce.length > 0 ? 'needs --force (not removable)' : 'ok';
    return { ...d, status };
  });
  if (context.io.json) printJson(context.io, rows);
  else {
    printLines(
      context.io,
      formatTable(
        ['DEVICE', 'SIZE', 'MODEL', 'TRANSPORT', 'REMOVABLE', 'MOUNTED', 'FLASH'],
        rows.map((d) => [d.path, formatBytes(d.size), d.model || '-', d.transport || '-', d.removable ? 'yes' : 'no', d.mountpoints.join(',') || '-', d.status]),
      ),
    );
  }
  return 0;
}
