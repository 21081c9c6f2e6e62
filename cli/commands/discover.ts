import { localNetworks } from '../adapters/local-networks.js';
import { readHostKey } from '../adapters/ssh-host-key.js';
import { createSshProber } from '../adapters/tcp-probe.js';
import type { Context } from '../context.js';
import { HYPRIOT_DEFAULT_PASSWORD } from '../core/boot-config.js';
import { mergeDiscovered, type FoundPi, type MergeReport } from '../core/discovery-merge.js';
import { validateUsername } from '../core/card-settings.js';
import { DEFAULT_SSH_USER } from '../core/inventory.js';
import { describeSwarm } from '../core/node-facts.js';
import { planSweep, type SweepPlan } from '../core/sweep-plan.js';
import type { Inventory } from '../core/inventory.js';
import { ExitCode } from '../errors.js';
import { printJson, printLines } from '../io.js';
import { identifyByHostKey, identifyPis, sweep, sweepPorts, type DiscoveredHost } from '../services/discover.js';
import { resolveSshCredentials } from '../services/ssh-credentials.js';
import { formatTable } from '../ui/table.js';
import { firstLineOfStdin, parseIntegerFlag } from './parse.js';

export interface DiscoverFlags {
  cidr?: string[];
  interface?: string;
  timeout: string;
  login: boolean;
  save: boolean;
  all: boolean;
  passwordStdin: boolean;
  user?: string;
  trustNewHosts: boolean;
}

export async function discoverAction(context: Context, flags: DiscoverFlags): Promise<number> {
  const timeoutMs = parseIntegerFlag('--timeout', flags.timeout, 50, 60_000, 'Milliseconds per host; 500 suits a home LAN.');
  const plan = planSweep({ cidrs: flags.cidr ?? [], interface: flags.interface, local: localNetworks() });
  for (const skipped of plan.skipped) {
    const say = skipped.reason.startsWith('too large') ? context.reporter.warn : context.reporter.debug;
    say(`Skipped ${skipped.interface} (${skipped.cidr}): ${skipped.reason}`);
  }
  if (plan.networks.length === 0) {
    return noNetwork(context);
  }
  const password = flags.passwordStdin ? await firstLineOfStdin() : undefined;
  const user = flags.user === undefined ? undefined : validateUsername(flags.user);
  const inventory = await context.loadInventory();

  const started = Date.now();
  const hosts = await sweepForCards(context, inventory, plan, timeoutMs);
  const pis = hosts.filter((h) => h.isPi);
  const swept = plan.networks.map((n) => n.cidr).join(', ');
  context.reporter.step(`Swept ${swept} in ${((Date.now() - started) / 1000).toFixed(1)} s: ${pis.length} Pi(s), ${hosts.length - pis.length} other host(s)`);
  if (flags.login && pis.length > 0) {
    const credentials = await resolveSshCredentials({ privateKeyPath: inventory.sshDefaults.privateKey, password });
    // A fresh HypriotOS card accepts its published default; only Pis are ever sent it.
    if (!credentials.password && (user ?? inventory.sshDefaults.user) === DEFAULT_SSH_USER) credentials.password = HYPRIOT_DEFAULT_PASSWORD;
    await identifyPis(context.ssh(), inventory, hosts, { credentials, concurrency: 16, timeoutMs: Math.max(timeoutMs, 10_000), user, trustNewHosts: flags.trustNewHosts });
  }

  let saved: MergeReport | undefined;
  if (flags.save && pis.length > 0) {
    saved = mergeDiscovered(
      inventory,
      pis.filter((h) => h.mac && !h.untrusted).map((h) => asFoundPi(inventory, h, user)),
    );
    await context.saveInventory(inventory);
    reportSaved(context, saved, inventory.file);
  } else {
    for (const host of pis) {
      const node = inventory.nodes().find((n) => n.mac === host.mac);
      if (node?.ip && node.ip !== host.ip) context.reporter.warn(`${node.hostname} moved ${node.ip} → ${host.ip} (run with --save to record it)`);
    }
  }

  const shown = flags.all ? hosts : pis;
  if (context.io.json) {
    printJson(context.io, { networks: plan.networks.map((n) => n.cidr), hosts: shown, ...(saved ? { saved } : {}) });
  } else if (shown.length === 0) {
    printLines(context.io, `No Raspberry Pi answered on ${swept}${hosts.length > 0 ? ` (${hosts.length} other host(s) did; --all shows them)` : ''}.`);
    context.reporter.warn('Is the Pi powered and on this network? A first boot takes a minute or two. Try --cidr for another subnet.');
  } else {
    printLines(context.io, formatHosts(shown));
  }
  for (const host of shown.filter((h) => h.loginError)) context.reporter.warn(`${host.known ?? host.card ?? host.ip}: ${host.untrusted ? 'not logged in' : 'login failed'}: ${host.loginError}`);
  return shown.some((h) => h.loginError) ? ExitCode.partial : ExitCode.ok;
}

/** Sweeps the networks; the cards piswarm flashed then name themselves by the host key they present, no login needed. */
export async function sweepForCards(context: Context, inventory: Inventory, plan: SweepPlan, timeoutMs: number): Promise<DiscoveredHost[]> {
  const hosts = await sweep(plan, sweepPorts(context.runner, createSshProber(inventory.sshDefaults.port, timeoutMs)), inventory);
  await identifyByHostKey(hosts, inventory, (ip) => readHostKey(ip, inventory.sshDefaults.port, Math.max(timeoutMs, 2000)));
  return hosts;
}

/** A Pi as the inventory files it: by MAC, named by its facts or its card, logged in to as its card's user. */
export function asFoundPi(inventory: Inventory, host: DiscoveredHost, user?: string): FoundPi {
  return { ip: host.ip, mac: host.mac!, hostname: host.facts?.hostname ?? host.card, hostKey: host.hostKey, user: (host.card ? inventory.cardEntries()[host.card]?.user : undefined) ?? user };
}

function noNetwork(context: Context): number {
  printLines(context.io, 'No network to sweep: this machine has no IPv4 LAN interface.');
  context.reporter.warn('Name one with --interface, or a subnet with --cidr 192.168.1.0/24.');
  return ExitCode.ok;
}

function reportSaved(context: Context, saved: MergeReport, file: string): void {
  for (const move of saved.moved) context.reporter.step(`${move.hostname} moved ${move.from ?? '(no address)'} → ${move.to}`);
  for (const added of saved.added) context.reporter.step(`${added.hostname} added (${added.mac}, ${added.ip})`);
  for (const duplicate of saved.duplicates) {
    context.reporter.warn(`Another node is already called ${duplicate.hostname}; ${duplicate.mac} saved as ${duplicate.savedAs}. Rename one of them.`);
  }
  context.reporter.step(`Saved to ${file}`);
}

function formatHosts(hosts: DiscoveredHost[]): string {
  const rows = hosts.map((h) => {
    const hostname = h.facts?.hostname && h.known && h.facts.hostname !== h.known ? `${h.facts.hostname} (saved as ${h.known})` : (h.facts?.hostname ?? h.known ?? (h.card ? `${h.card} (its card's key)` : '-'));
    const ssh = h.banner ? `${h.banner.software}${h.banner.distro ? ` (${h.banner.distro})` : ''}` : { ssh: 'ssh', open: 'no SSH banner', closed: 'closed', silent: '-' }[h.ssh];
    return [
      h.ip,
      h.mac ?? '-',
      h.vendor ?? '-',
      hostname,
      h.facts ? `${h.facts.model ?? '-'} / ${h.facts.arch}` : '-',
      ssh,
      h.facts ? (h.facts.docker ?? 'none') : '-',
      h.facts ? describeSwarm(h.facts.swarm) : '-',
    ];
  });
  return formatTable(['IP', 'MAC', 'VENDOR', 'HOSTNAME', 'MODEL / ARCH', 'SSH', 'DOCKER', 'SWARM'], rows);
}
