import { forgetPendingLookups, readNeighbours } from '../adapters/neighbours.js';
import type { CommandRunner } from '../adapters/process.js';
import type { SshProber, ProbeState } from '../adapters/tcp-probe.js';
import type { SshConnector, SshTarget } from '../adapters/ssh.js';
import { sameHostKey } from '../core/host-key.js';
import type { Inventory } from '../core/inventory.js';
import { formatIpv4, hostAddresses, parseIpv4 } from '../core/ipv4.js';
import { raspberryPiVendor } from '../core/mac-address.js';
import { readEngineInfo } from '../adapters/engine-api.js';
import { NODE_FACTS_SCRIPT, parseNodeFacts, withEngine, type NodeFacts } from '../core/node-facts.js';
import { mapSettled } from '../core/parallel.js';
import { parseSshBanner, type SshBanner } from '../core/ssh-banner.js';
import type { SweepPlan } from '../core/sweep-plan.js';
import type { PiswarmError } from '../errors.js';
import type { SshCredentials } from './ssh-credentials.js';
import { runOnNodes } from './ssh-pool.js';

export interface DiscoveredHost {
  ip: string;
  mac?: string;
  /** The Raspberry Pi organisation the MAC belongs to; absent for other hosts. */
  vendor?: string;
  isPi: boolean;
  ssh: ProbeState;
  banner?: SshBanner;
  /** The node's name in the inventory, when its MAC is known there. */
  known?: string;
  /** The card piswarm flashed that this host's key belongs to (its hostname), read in the handshake. */
  card?: string;
  /** Set with --login. */
  facts?: NodeFacts;
  hostKey?: string;
  loginError?: string;
  /** A new host presenting none of the keys of the cards still to be found: not logged in to, not saved. */
  untrusted?: boolean;
}

export interface SweepPorts {
  probe: SshProber;
  neighbours: () => Promise<Map<string, string>>;
  /** Readies the neighbour table for a fresh sweep of the network. */
  prepare: (cidr: string) => Promise<void>;
}

/** The sweep's ports on this machine: the kernel's neighbour table, and `ip` to ready it. */
export function sweepPorts(runner: CommandRunner, probe: SshProber): SweepPorts {
  return { probe, neighbours: () => readNeighbours(), prepare: (cidr) => forgetPendingLookups(runner, cidr) };
}

/** Probes that may be open at once: a /24 goes in one wave, well under any fd limit. */
export const SWEEP_CONCURRENCY = 256;

/**
 * TCP-connects to port 22 on every address of the plan (bounded in flight, each with its own
 * timeout), then reads the neighbour table the sweep has just filled. A host counts as present only
 * if it answered this sweep (SSH, accepted, or refused): a stale ARP entry is not a host.
 */
export async function sweep(plan: SweepPlan, ports: SweepPorts, inventory: Inventory): Promise<DiscoveredHost[]> {
  for (const { cidr } of plan.networks) await ports.prepare(cidr);
  const addresses = [...new Set(plan.networks.flatMap((n) => hostAddresses(n.network)))].map(formatIpv4);
  const probes = await mapSettled(addresses, SWEEP_CONCURRENCY, (ip) => ports.probe(ip));
  const neighbours = await ports.neighbours();
  const hosts: DiscoveredHost[] = [];
  for (const outcome of probes) {
    if (!outcome.ok || outcome.value.state === 'silent') continue;
    const { ip, state, banner } = outcome.value;
    const mac = neighbours.get(ip);
    const vendor = mac ? raspberryPiVendor(mac) : undefined;
    const parsed = banner ? parseSshBanner(banner) : undefined;
    const known = mac ? inventory.nodes().find((n) => n.mac === mac) : undefined;
    hosts.push({
      ip,
      ...(mac ? { mac } : {}),
      ...(vendor ? { vendor } : {}),
      isPi: vendor !== undefined,
      // A line starting "SSH-" that does not parse is garbage, not SSH: nothing is sent to it.
      ssh: state === 'ssh' && !parsed ? 'open' : state,
      ...(parsed ? { banner: parsed } : {}),
      ...(known ? { known: known.hostname } : {}),
    });
  }
  return hosts.sort((a, b) => parseIpv4(a.ip)! - parseIpv4(b.ip)!);
}

export interface LoginOptions {
  credentials: SshCredentials;
  concurrency: number;
  timeoutMs: number;
  /** Who to log in as on a Pi neither the inventory nor a card names a user for (--user). */
  user?: string;
  /** Log in to a new host that presents none of the unmatched cards' keys (--trust-new-hosts). */
  trustNewHosts?: boolean;
}

/** Concurrent handshakes while reading host keys. */
const HANDSHAKES = 16;

/**
 * Reads every SSH-speaking Pi's host key in the handshake (no login, nothing sent) and names the
 * ones that present the key of a card piswarm flashed after that card.
 */
export async function identifyByHostKey(hosts: DiscoveredHost[], inventory: Inventory, readKey: (ip: string) => Promise<string | undefined>): Promise<void> {
  const pis = hosts.filter((h) => h.isPi && h.ssh === 'ssh');
  const keys = await mapSettled(pis, HANDSHAKES, (host) => readKey(host.ip));
  pis.forEach((host, i) => {
    const key = keys[i]!.ok ? keys[i]!.value : undefined;
    if (!key) return;
    host.hostKey = key;
    const card = cardOf(inventory, key);
    if (card) host.card = card;
  });
}

/** Cards piswarm flashed that no inventory node is yet: while any is, a stranger's key is not trusted on first use. */
function unmatchedCards(inventory: Inventory): string[] {
  const nodes = inventory.nodes();
  return Object.entries(inventory.cardEntries())
    .filter(([hostname, card]) => !nodes.some((n) => n.hostname === hostname || (n.hostKey && sameHostKey(n.hostKey, card.hostKey))))
    .map(([hostname]) => hostname);
}

/**
 * Logs in to the Pis that speak SSH (never to other hosts) and asks each for its facts, as the
 * user its inventory entry or its card names (else --user, else the inventory's default). The
 * host key must match the one pinned for that MAC, or the one its card was flashed with. A Pi
 * seen for the first time is trusted on first use only when no flashed card is still to be found
 * (or with --trust-new-hosts); its key is returned for pinning.
 */
export async function identifyPis(connector: SshConnector, inventory: Inventory, hosts: DiscoveredHost[], options: LoginOptions): Promise<void> {
  const ssh = inventory.sshDefaults;
  const waiting = unmatchedCards(inventory);
  const cards = inventory.cardEntries();
  const pis = hosts.filter((h) => h.isPi && h.ssh === 'ssh').filter((host) => {
    const known = inventory.nodes().some((n) => n.mac === host.mac);
    if (known || host.card || waiting.length === 0 || options.trustNewHosts) return true;
    // A Raspberry Pi MAC is easy to fake: while flashed cards are still to be found, only their keys are let in.
    host.untrusted = true;
    host.loginError = `it presents none of the host keys of the cards still to be found (${waiting.join(', ')}), so it was not sent a password or key. If it is a Pi of yours, log in anyway with --trust-new-hosts.`;
    return false;
  });
  const targets: SshTarget[] = pis.map((host) => {
    const node = inventory.nodes().find((n) => n.mac === host.mac);
    const card = host.card ? cards[host.card] : undefined;
    return {
      name: node?.hostname ?? host.card ?? host.ip,
      host: host.ip,
      port: ssh.port,
      username: node?.user ?? card?.user ?? options.user ?? ssh.user,
      ...options.credentials,
      pinnedHostKey: node ? inventory.expectedHostKey(node) : card?.hostKey,
    };
  });
  const settled = await runOnNodes(connector, targets, (connection) => Promise.all([connection.exec(NODE_FACTS_SCRIPT, { timeoutMs: options.timeoutMs }), readEngineInfo(connection, options.timeoutMs)]), {
    concurrency: options.concurrency,
  });
  settled.forEach((outcome, i) => {
    const host = pis[i]!;
    if (!outcome.ok) {
      const hint = (outcome.error as PiswarmError).hint;
      host.loginError = hint ? `${outcome.error.message} ${hint}` : outcome.error.message;
      return;
    }
    const { value: [os, engine], hostKey } = outcome.value;
    host.hostKey = hostKey;
    if (os.code !== 0) host.loginError = `the identification command failed (exit ${os.code}): ${os.stderr.trim()}`;
    else host.facts = withEngine(parseNodeFacts(os.stdout), engine);
  });
}

/** The flashed card a Pi's host key belongs to (its identity, whatever its address or hostname now). */
export function cardOf(inventory: Inventory, hostKey: string | undefined): string | undefined {
  if (!hostKey) return undefined;
  return Object.entries(inventory.cardEntries()).find(([, card]) => sameHostKey(card.hostKey, hostKey))?.[0];
}
