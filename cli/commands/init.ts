import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import type { Context } from '../context.js';
import { checksumCandidates } from '../core/checksum.js';
import { expandHostnames, formatPlan, managersOf, parsePlan, validatePlan, DEPLOYABLES, type ClusterPlan, type Deployable } from '../core/cluster-plan.js';
import { DEFAULT_LAB_SUBNET } from '../core/lab-plan.js';
import { CancelledError, ExitCode, UsageError } from '../errors.js';
import { createReporter, printJson, printLines } from '../io.js';
import { runJourney, type JourneyResult } from '../services/init/journey.js';
import { askPlan } from '../ui/init-questions.js';
import { createPrompter } from '../ui/prompter.js';
import { formatTable } from '../ui/table.js';
import { initPorts } from './init-ports.js';
import { parseIntegerFlag } from './parse.js';

export interface InitFlags {
  plan?: string;
  savePlan?: string;
  lab: boolean;
  name?: string;
  hostname?: string;
  managers?: string;
  image?: string;
  sha256?: string;
  user?: string;
  sshKey?: string;
  wifiSsid?: string;
  wifiCountry?: string;
  ip?: string;
  gateway?: string;
  dns?: string;
  deploy?: string;
  iotBrokerUrlFile?: string;
  subnet?: string;
  device?: string[];
  force: boolean;
  timeout: string;
  dryRun: boolean;
}

const DEFAULT_PLAN_FILE = 'cluster.yaml';

export async function initAction(context: Context, flags: InitFlags): Promise<number> {
  const gatherTimeoutMs = parseIntegerFlag('--timeout', flags.timeout, 10, 86_400, 'Seconds to wait for the Pis to appear; a first boot takes a minute or two.') * 1000;
  const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY) && !context.io.yes;
  const fromFile = flags.plan ? await readPlan(flags.plan) : undefined;
  let plan = validatePlan(withFlags(fromFile ?? defaultPlan(flags.lab), flags));
  if (!fromFile) {
    if (interactive) plan = validatePlan(await askPlan(context.io, plan, (image) => /^https?:\/\//i.test(image) || checksumCandidates(image).some((file) => existsSync(file))));
    else if (!context.io.yes && !flags.dryRun) throw new UsageError('piswarm init asks its questions on a terminal, and there is none.', 'Replay a plan with --plan cluster.yaml --yes, or give the answers as flags with --yes (see --help).');
  }
  const planFile = flags.savePlan ?? (fromFile ? undefined : DEFAULT_PLAN_FILE);
  if (planFile && !flags.dryRun) {
    await writeFile(planFile, formatPlan(plan), { mode: 0o644 });
    context.reporter.step(`Plan saved to ${planFile}: \`piswarm init --plan ${planFile} --yes\` replays it`);
  }

  const shown = describePlan(plan);
  if (flags.dryRun) {
    if (context.io.json) printJson(context.io, { plan, dryRun: true });
    else printLines(context.io, `${shown}\nDry run: nothing was written, booted or changed.`);
    return ExitCode.ok;
  }
  context.io.stderr.write(`${shown}\n`);
  const prompter = createPrompter(context.io);
  if (!(await prompter.confirm('Go ahead?'))) throw new CancelledError('Nothing was done.', `Replay it later with \`piswarm init --plan ${planFile ?? flags.plan} --yes\`.`);

  // The first Ctrl-C stops at the next safe point (a card write is abandoned, marked incomplete);
  // the listener is gone after it, so a second one stops at once.
  const interrupt = new AbortController();
  const onSignal = () => {
    context.reporter.warn('Stopping after the step in progress (Ctrl-C again to stop at once).');
    interrupt.abort();
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    // The stages' own output is progress here, on stderr even with --json: stdout keeps the summary alone.
    const io = { ...context.io, stdout: context.io.stderr, json: false };
    const quiet: Context = { ...context, io, reporter: createReporter(io) };
    let last = '';
    const result = await runJourney(
      plan,
      initPorts(quiet, prompter, { devices: flags.device, force: flags.force, bootTimeoutMs: 300_000, signal: interrupt.signal }),
      {
        stage: (title) => context.io.stderr.write(`\n== ${title}\n`),
        step: (message) => context.reporter.step(message),
        warn: (message) => context.reporter.warn(message),
        checklist(rows) {
          const line = rows.map((r) => `${r.found ? '✓' : '…'} ${r.hostname}`).join('   ');
          if (line !== last) context.io.stderr.write(`  ${line}\n`);
          last = line;
        },
      },
      { gatherTimeoutMs, pollMs: 2000, signal: interrupt.signal },
    );
    const inventory = await context.loadInventory();
    const nodes = plan.hostnames.map((h) => inventory.nodes().find((n) => n.hostname === h)).filter((n) => n !== undefined);
    if (context.io.json) printJson(context.io, { plan: result.plan, cards: result.cards, found: result.nodes, managers: result.managers, nodes: nodes.map((n) => ({ hostname: n.hostname, ip: n.ip, mac: n.mac, role: n.role })), deployed: result.deployed });
    else printLines(context.io, summary(plan, result, nodes));
    return result.deployed.every((d) => d.ok) ? ExitCode.ok : ExitCode.partial;
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}

async function readPlan(file: string): Promise<ClusterPlan> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`Can't read the plan ${file} (${error.code}).`, 'Give a plan saved by `piswarm init`, or run `piswarm init` to answer the questions and save one.');
  });
  return parsePlan(file, text);
}

function defaultPlan(lab: boolean): ClusterPlan {
  return {
    name: lab ? 'pilab' : 'home',
    hostnames: ['manager-01', 'worker-01', 'worker-02'],
    managers: 1,
    user: 'pirate',
    deploy: ['hello-world'],
    ...(lab ? { lab: { name: 'pilab', subnet: DEFAULT_LAB_SUBNET } } : {}),
  };
}

/** The flags given override the plan's answers (or the defaults). */
function withFlags(plan: ClusterPlan, flags: InitFlags): ClusterPlan {
  const list = (text: string) => text.split(',').map((s) => s.trim()).filter(Boolean);
  const next: ClusterPlan = { ...plan };
  if (flags.name !== undefined) next.name = flags.name;
  if (flags.hostname !== undefined) next.hostnames = safely('--hostname', () => expandHostnames([flags.hostname!]));
  if (flags.managers !== undefined) next.managers = parseIntegerFlag('--managers', flags.managers, 1, 99, 'Use 1, 3 or 5: an odd number keeps Raft quorum.');
  if (flags.image !== undefined) next.image = flags.image;
  if (flags.sha256 !== undefined) next.sha256 = flags.sha256;
  if (flags.user !== undefined) next.user = flags.user;
  if (flags.sshKey !== undefined) next.sshKey = flags.sshKey;
  if (flags.wifiSsid !== undefined) next.wifi = { ssid: flags.wifiSsid, country: (flags.wifiCountry ?? '').toUpperCase() };
  if (flags.ip !== undefined) next.addresses = list(flags.ip);
  if (flags.gateway !== undefined) next.gateway = flags.gateway;
  if (flags.dns !== undefined) next.dns = list(flags.dns);
  if (flags.deploy !== undefined) next.deploy = list(flags.deploy).filter((d) => d !== 'none') as Deployable[];
  if (flags.iotBrokerUrlFile !== undefined) next.iot = { brokerUrlFile: flags.iotBrokerUrlFile };
  if (flags.lab || flags.subnet !== undefined) {
    const labName = /^[a-z][a-z0-9]{0,7}$/.test(next.name) ? next.name : 'pilab';
    next.lab = { name: flags.name !== undefined || !next.lab ? labName : next.lab.name, subnet: flags.subnet ?? next.lab?.subnet ?? DEFAULT_LAB_SUBNET };
  }
  for (const d of next.deploy) if (!DEPLOYABLES.includes(d)) throw new UsageError(`--deploy ${d}: piswarm deploys ${DEPLOYABLES.join(', ')}.`, 'e.g. --deploy hello-world,portainer');
  return next;
}

function safely<T>(flag: string, make: () => T): T {
  try {
    return make();
  } catch (error) {
    throw new UsageError(`${flag}: ${(error as Error).message}.`, 'e.g. --hostname manager-01,worker-{01..04}');
  }
}

function describePlan(plan: ClusterPlan): string {
  const managers = managersOf(plan);
  const lines = [
    `Cluster ${plan.name}${plan.lab ? ` (lab ${plan.lab.name} on ${plan.lab.subnet}, on this machine)` : ''}:`,
    `1. write ${plan.hostnames.length} card(s) from ${plan.image ?? 'the built-in lab card (HypriotOS-shaped)'}: ${plan.hostnames.join(', ')}; user ${plan.user}, your SSH key, ${plan.wifi ? `wifi ${plan.wifi.ssid} (${plan.wifi.country})` : 'cable'}, ${plan.addresses ? `static ${plan.addresses.join(', ')}` : 'DHCP'}`,
    `2. ${plan.lab ? 'boot a lab node from each card' : 'you power on the Pis'}; piswarm finds each one by its card's host key`,
    `3. bootstrap: your key in, the default password out; swarm with manager(s) ${managers.join(', ')}`,
    `4. deploy: ${plan.deploy.length > 0 ? plan.deploy.join(', ') : 'nothing'}`,
  ];
  return lines.join('\n');
}

function summary(plan: ClusterPlan, result: JourneyResult, nodes: Array<{ hostname: string; ip?: string; mac: string; role?: string }>): string {
  const first = nodes.find((n) => n.hostname === result.managers[0]);
  const deployed = result.deployed.map((d) => (d.ok ? `  ✓ ${d.name}${d.url ? `  ${d.url}` : ''}` : `  ✗ ${d.name}: ${d.error}${d.hint ? `\n      ${d.hint}` : ''}`));
  return [
    `Cluster ${plan.name} is up: ${nodes.length} Pi(s), ${result.managers.length} manager(s).`,
    formatTable(['NODE', 'IP', 'MAC', 'ROLE'], nodes.map((n) => [n.hostname, n.ip ?? '-', n.mac, n.role ?? '-'])),
    ...(deployed.length > 0 ? ['Deployed:', ...deployed] : []),
    `Log in: ssh ${plan.user}@${first?.ip ?? 'MANAGER'}   (your SSH key; password login is off)`,
    'Next: piswarm dashboard (live view) · piswarm doctor (what quietly breaks Pi swarms) · piswarm node ls',
  ].join('\n');
}
