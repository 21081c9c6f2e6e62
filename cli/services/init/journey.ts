import { setTimeout as wait } from 'node:timers/promises';
import { managersOf, type ClusterPlan, type Deployable } from '../../core/cluster-plan.js';
import { CancelledError, ExitCode, PiswarmError } from '../../errors.js';

/** What the journey needs from the world; each stage is done by piswarm's own commands. */
export interface JourneyPorts {
  /** Hostnames whose cards are written and verified already (a resumed run skips them). */
  cardsDone(plan: ClusterPlan): Promise<string[]>;
  /** Writes these hostnames' cards: waits for each card on Pis, image files in a lab. */
  flash(plan: ClusterPlan, hostnames: string[]): Promise<void>;
  /** Lab: boots a node from each card. Pis: asks the user to power them on. */
  boot(plan: ClusterPlan): Promise<void>;
  /** Hostnames filed in the inventory as nodes already (found before). */
  found(plan: ClusterPlan): Promise<string[]>;
  /** Looks on the LAN for these cards' host keys, files what it finds; returns the hostnames found this time. */
  look(plan: ClusterPlan, missing: string[]): Promise<string[]>;
  bootstrap(plan: ClusterPlan): Promise<void>;
  deploy(plan: ClusterPlan, what: Deployable): Promise<{ url?: string }>;
}

export interface JourneyEvents {
  stage(title: string): void;
  step(message: string): void;
  warn(message: string): void;
  /** The boot checklist: every hostname with whether it has been found. */
  checklist(rows: Array<{ hostname: string; found: boolean }>): void;
}

export interface JourneyOptions {
  gatherTimeoutMs: number;
  /** Aborted (Ctrl-C): the journey stops before its next stage, or its next look. */
  signal?: AbortSignal;
  pollMs: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface JourneyResult {
  plan: string;
  cards: { flashed: string[]; skipped: string[] };
  nodes: { found: string[]; already: string[] };
  managers: string[];
  deployed: Array<{ name: Deployable; ok: boolean; url?: string; error?: string; hint?: string }>;
}

/**
 * Blank cards to a running swarm: write the cards still to write, boot, gather every Pi by its
 * card's host key, bootstrap, deploy. Each stage skips what an earlier run finished, so running
 * it again with the same plan resumes. A deployment that fails is named and the rest go on.
 */
export async function runJourney(plan: ClusterPlan, ports: JourneyPorts, events: JourneyEvents, options: JourneyOptions): Promise<JourneyResult> {
  const now = options.now ?? Date.now;
  const stage = (title: string) => {
    if (options.signal?.aborted) throw new CancelledError(`Interrupted before: ${title}.`, 'Run the same `piswarm init` again to go on: what is done is kept.');
    events.stage(title);
  };
  const sleep = options.sleep ?? ((ms: number) => wait(ms));
  const result: JourneyResult = { plan: plan.name, cards: { flashed: [], skipped: [] }, nodes: { found: [], already: [] }, managers: managersOf(plan), deployed: [] };

  const already = new Set(await ports.found(plan));
  const done = new Set([...(await ports.cardsDone(plan)), ...already]);
  const toFlash = plan.hostnames.filter((h) => !done.has(h));
  result.cards.skipped = plan.hostnames.filter((h) => done.has(h));
  stage(`Cards: ${toFlash.length} to write${result.cards.skipped.length > 0 ? `, ${result.cards.skipped.length} written before (${result.cards.skipped.join(', ')})` : ''}`);
  if (toFlash.length > 0) await ports.flash(plan, toFlash);
  result.cards.flashed = toFlash;

  stage('Boot');
  await ports.boot(plan);

  stage('Finding the Pis by their cards’ host keys');
  result.nodes.already = plan.hostnames.filter((h) => already.has(h));
  const found = new Set(already);
  const deadline = now() + options.gatherTimeoutMs;
  for (;;) {
    const missing = plan.hostnames.filter((h) => !found.has(h));
    events.checklist(plan.hostnames.map((hostname) => ({ hostname, found: found.has(hostname) })));
    if (missing.length === 0) break;
    if (options.signal?.aborted) throw new CancelledError(`Interrupted while looking for ${missing.join(', ')}.`, 'Run the same `piswarm init` again to go on: what is done is kept.');
    if (now() >= deadline) {
      throw new PiswarmError(`${missing.length} Pi(s) did not appear within ${Math.round(options.gatherTimeoutMs / 1000)} s: ${missing.join(', ')}.`, {
        exitCode: ExitCode.partial,
        hint: `Check that ${missing.length > 1 ? 'they are' : 'it is'} powered (the green LED flickers at first boot), on the cable or, for wifi, that the card's country and passphrase are right; a first boot takes a minute or two. Then run the same \`piswarm init\` again: what is done is kept.`,
      });
    }
    for (const hostname of await ports.look(plan, missing)) {
      if (found.has(hostname)) continue;
      found.add(hostname);
      result.nodes.found.push(hostname);
    }
    if (plan.hostnames.some((h) => !found.has(h))) await sleep(options.pollMs);
  }

  stage(`Swarm: ${result.managers.length} manager(s) (${result.managers.join(', ')}), ${plan.hostnames.length - result.managers.length} worker(s)`);
  await ports.bootstrap(plan);

  for (const name of plan.deploy) {
    stage(`Deploy ${name}`);
    try {
      const { url } = await ports.deploy(plan, name);
      result.deployed.push({ name, ok: true, ...(url ? { url } : {}) });
    } catch (error) {
      const hint = error instanceof PiswarmError ? error.hint : undefined;
      events.warn(`${name} was not deployed: ${(error as Error).message}`);
      result.deployed.push({ name, ok: false, error: (error as Error).message, ...(hint ? { hint } : {}) });
    }
  }
  return result;
}
