import type { SshConnector } from '../../adapters/ssh.js';
import type { UserKey } from '../../adapters/user-key.js';
import { fingerprint, sameHostKey } from '../../core/host-key.js';
import type { Inventory, InventoryNode } from '../../core/inventory.js';
import { mapSettled } from '../../core/parallel.js';
import { chooseRoles, findSwarm, type SwarmRole, type SwarmTarget } from '../../core/swarm-plan.js';
import { ConnectionLostError, PiswarmError, UsageError } from '../../errors.js';
import type { Reporter } from '../../io.js';
import type { LocatorPorts } from '../node-locator.js';
import type { SshCredentials } from '../ssh-credentials.js';
import { applyLabels, initSwarm, JoinTokens, placeNode } from './form-swarm.js';
import { followMovedNodes } from './cluster.js';
import { readSwarmNodes } from './swarm-nodes.js';
import { openSessions, targetOf, type NodeSession } from './node-session.js';
import { secureNode } from './secure-node.js';

export interface BootstrapOptions {
  managers?: number;
  /** Hostnames, MACs or IPs; every inventory node when empty. */
  only: string[];
  /** The leader's advertised address (default: its inventory IP). */
  advertiseAddr?: string;
  keepPassword: boolean;
  lockPassword: boolean;
  force: boolean;
  /** Connect to nodes whose host key changed (after a deliberate re-flash) and pin the new key. */
  acceptChangedHostKey: boolean;
  concurrency: number;
  timeoutMs: number;
}

export interface BootstrapPorts {
  connector: SshConnector;
  userKey: UserKey;
  /** Agent, key and the login password, tried in that order on first contact. */
  credentials: SshCredentials;
  reporter: Reporter;
  events: BootstrapEvents;
  /** Sessions already open (from `--nodes`), by MAC; bootstrap uses and closes them. */
  opened?: ReadonlyMap<string, NodeSession>;
  /** To follow nodes whose address changed (by MAC) before connecting; off when absent. */
  locator?: LocatorPorts;
  /** The swarm's lock, taken through its first manager as soon as there is a swarm to hold it. */
  lock?: (leader: NodeSession) => Promise<() => Promise<void>>;
}

/** Per-node progress, for listr2 or JSON lines. */
export interface BootstrapEvents {
  step(node: string, step: string): void;
  done(node: string, summary: string): void;
  failed(node: string, error: Error): void;
}

export interface NodeOutcome {
  node: string;
  ip: string;
  mac: string;
  ok: boolean;
  role?: SwarmRole;
  swarmNodeId?: string;
  /** What this run changed on the node; empty when it was already as wanted. */
  changes: string[];
  error?: string;
  hint?: string;
  hostKeyPinned?: string;
}

export interface BootstrapResult {
  swarmId?: string;
  leader?: string;
  nodes: NodeOutcome[];
  warnings: string[];
}

/** Newer than any HypriotOS release's Docker (19.03 in v1.12); older engines miss swarm features. */
const MIN_DOCKER_MAJOR = 19;
/** How long joined nodes get to show as Ready on the leader. */
const READY_TIMEOUT_MS = 60_000;

/**
 * From fresh Pis to a secured swarm: every node connected and secured in parallel, the swarm
 * initialised (or found) on the leader, the others joined in parallel, roles and labels applied,
 * readiness confirmed on the leader. One node failing never stops the others; its outcome says why.
 */
export async function bootstrap(inventory: Inventory, options: BootstrapOptions, ports: BootstrapPorts): Promise<BootstrapResult> {
  // Every node is connected (facts are needed to pick the leader); only selected ones are changed.
  const sessions = new Map<string, NodeSession>(ports.opened ?? []);
  const held: Array<() => Promise<void>> = [];
  try {
    return await bootstrapWith(sessions, inventory, options, ports, held);
  } finally {
    for (const release of held) await release();
    for (const session of sessions.values()) session.close();
  }
}

async function bootstrapWith(sessions: Map<string, NodeSession>, inventory: Inventory, options: BootstrapOptions, ports: BootstrapPorts, held: Array<() => Promise<void>>): Promise<BootstrapResult> {
  // Nodes just logged in to by address (--nodes) are where they are.
  if (!ports.opened) await followMovedNodes(inventory, ports);
  const all = inventory.nodes();
  if (all.length === 0) {
    throw new PiswarmError(`${inventory.file} lists no nodes.`, { hint: 'Find your Pis with `piswarm discover --login --save`, or start with `piswarm bootstrap --nodes IP,IP,...`.' });
  }
  const selected = options.only.length === 0 ? all : options.only.map((ref) => inventory.requireNode(ref));
  const noIp = all.filter((n) => !n.ip);
  if (noIp.length > 0) throw new PiswarmError(`No IP address is known for ${noIp.map((n) => n.hostname).join(', ')}.`, { hint: 'Run `piswarm discover --save` to find it.' });
  // Roles are checked before anything is touched: a bad --managers changes nothing.
  chooseRoles(all, options.managers, options.force);

  const outcomes = new Map<string, NodeOutcome>(all.map((n) => [n.mac, { node: n.hostname, ip: n.ip!, mac: n.mac, ok: true, changes: [] }]));
  const fail = (node: InventoryNode, failure: Error) => {
    const outcome = outcomes.get(node.mac)!;
    if (!outcome.ok) return;
    const error = explainLoss(failure, node, sessions.get(node.mac), outcome.changes);
    Object.assign(outcome, { ok: false, error: error.message, hint: (error as PiswarmError).hint });
    ports.events.failed(node.hostname, error);
  };

  const toOpen = all.filter((n) => !sessions.has(n.mac));
  for (const failure of await openSessions(toOpen, inventory, sessions, { ...ports, ...options })) fail(failure.node, failure.error);
  for (const [mac, session] of sessions) pinHostKey(inventory, session.node, session, outcomes.get(mac)!, ports.reporter);
  const isSelected = (node: InventoryNode) => selected.some((n) => n.mac === node.mac);

  const candidates = all.map((n) => ({ ...n, swarm: sessions.get(n.mac)?.facts?.swarm }));
  const { roles, warnings } = chooseRoles(candidates, options.managers, options.force);
  for (const node of all.filter((n) => roles.get(n.mac) === 'manager' && sessions.get(n.mac)?.facts.dhcp)) {
    warnings.push(`${node.hostname} (a manager) has ${node.ip} on a DHCP lease; if the router hands it another address, the swarm loses this manager. Reserve the address in the router, or flash the card with --ip.`);
  }
  const target = findSwarm(candidates, roles, inventory.swarmId, options.force);
  const leaderNode = all.find((n) => n.mac === target.leader)!;
  if (!target.swarmId && !isSelected(leaderNode)) {
    throw new UsageError(`There is no swarm yet, and ${leaderNode.hostname} (its first manager) is not among --only.`, 'Run bootstrap without --only first.');
  }
  const secure = async (node: InventoryNode) => {
    const session = sessions.get(node.mac)!;
    await secureNode(session, ports.connector, secureOptions(session, inventory, options, ports), (step) => ports.events.step(node.hostname, step), outcomes.get(node.mac)!.changes);
    inventory.upsertNode(node.mac, { arch: session.facts.arch || undefined, model: session.facts.model });
  };

  // The leader is secured and inits the swarm while the other nodes are still being secured.
  const leaderReady = (async () => {
    const leader = sessions.get(leaderNode.mac);
    if (!leader) throw new Error(outcomes.get(leaderNode.mac)!.error ?? 'unreachable');
    const lock = async () => ports.lock && held.push(await ports.lock(leader));
    if (target.swarmId) await lock();
    if (isSelected(leaderNode)) await secure(leaderNode);
    let swarmId = target.swarmId;
    if (!swarmId) {
      ports.events.step(leaderNode.hostname, 'initialising the swarm');
      swarmId = await initSwarm(leader, options.advertiseAddr ?? leaderNode.ip!);
      outcomes.get(leaderNode.mac)!.changes.push('swarm initialised');
      await lock();
    }
    inventory.setSwarmId(swarmId);
    const members = new Set((await readSwarmNodes(leader)).map((n) => n.id));
    return { leader, placed: { leader: target.leader, swarmId } satisfies SwarmTarget, members, tokens: new JoinTokens(leader) };
  })();
  // Its failure is reported through the nodes that await it; it must not count as unhandled before they do.
  leaderReady.catch(() => undefined);
  const leaderFailed = (error: Error) =>
    new PiswarmError(`${leaderNode.hostname}, the swarm's ${target.swarmId ? 'manager' : 'first manager'}, is not ready: ${error.message}`, {
      hint: `Fix ${leaderNode.hostname} first, then run bootstrap again.`,
    });

  const settled = await mapSettled(
    selected.filter((n) => sessions.has(n.mac) || n.mac === leaderNode.mac),
    options.concurrency,
    async (node) => {
      if (node.mac === leaderNode.mac) return void (await leaderReady);
      await secure(node);
      const ready = await leaderReady.catch((error: Error) => Promise.reject(leaderFailed(error)));
      ports.events.step(node.hostname, 'joining the swarm');
      const change = await placeNode(sessions.get(node.mac)!, roles.get(node.mac)!, { ...ready, target: ready.placed, force: options.force });
      if (change) outcomes.get(node.mac)!.changes.push(change);
    },
  );
  settled.forEach((s) => !s.ok && fail(s.item, s.error));
  const ready = await leaderReady.catch(() => undefined);
  if (!ready) return finish();

  const inSwarm = selected.filter((n) => sessions.has(n.mac) && outcomes.get(n.mac)!.ok);
  await confirmReady(ready.leader, inSwarm, sessions, roles, fail);
  for (const node of inSwarm.filter((n) => outcomes.get(n.mac)!.ok)) {
    const session = sessions.get(node.mac)!;
    const outcome = outcomes.get(node.mac)!;
    const nodeId = (session.facts.swarm as { nodeId: string }).nodeId;
    if (await applyLabels(ready.leader, nodeId, node.labels).catch((error: Error) => (fail(node, error), false))) outcome.changes.push('labels applied');
    Object.assign(outcome, { role: roles.get(node.mac), swarmNodeId: nodeId });
    inventory.upsertNode(node.mac, { role: roles.get(node.mac), swarmNodeId: nodeId });
    if (outcome.ok) ports.events.done(node.hostname, outcome.changes.length > 0 ? outcome.changes.join(', ') : `already a ${roles.get(node.mac)}, nothing to change`);
  }
  return finish(ready.placed.swarmId, leaderNode.hostname, warnings);

  function finish(swarmId?: string, leaderName?: string, warnings: string[] = []): BootstrapResult {
    return { swarmId, leader: leaderName, warnings, nodes: selected.map((n) => outcomes.get(n.mac)!) };
  }
}

/**
 * A node's failure with what had been done on it already. One whose connection was lost is
 * reported as such, whatever error the loss surfaced as (a hung-up engine socket).
 */
function explainLoss(error: Error, node: InventoryNode, session: NodeSession | undefined, done: readonly string[]): Error {
  const lost = error instanceof ConnectionLostError && error.node === node.hostname ? error : session?.lost;
  if (lost) return lost.after({ done });
  if (done.length === 0) return error;
  return new PiswarmError(`${error.message} (already done on ${node.hostname}: ${done.join('; ')})`, { hint: (error as PiswarmError).hint });
}

/** How a node is secured: the user's key in and proven over this session's host key, the password replaced or kept. */
export function secureOptions(session: NodeSession, inventory: Inventory, options: Pick<BootstrapOptions, 'keepPassword' | 'lockPassword'>, ports: Pick<BootstrapPorts, 'userKey' | 'credentials'>) {
  // The checking logins must meet the very host key this session was opened with.
  const target = { ...targetOf(session.node, inventory), pinnedHostKey: session.hostKey };
  const { password } = ports.credentials;
  return {
    publicKey: ports.userKey.publicKey,
    keyLogin: { ...target, privateKey: ports.userKey.privateKey },
    loginPassword: password ? { ...target, password } : undefined,
    keepPassword: options.keepPassword,
    lockPassword: options.lockPassword,
    minDockerMajor: MIN_DOCKER_MAJOR,
  };
}

/** Pins a host key seen for the first time (or accepted as changed), as `run` does. */
function pinHostKey(inventory: Inventory, node: InventoryNode, session: NodeSession, outcome: NodeOutcome, reporter: Reporter): void {
  if (node.hostKey && sameHostKey(node.hostKey, session.hostKey)) return;
  inventory.upsertNode(node.mac, { hostKey: session.hostKey });
  outcome.hostKeyPinned = fingerprint(session.hostKey);
  reporter.debug(`Host key of ${node.hostname} pinned (${outcome.hostKeyPinned})`);
}

/** Waits until the leader lists every node as Ready, managers as reachable managers. */
async function confirmReady(
  leader: NodeSession,
  nodes: readonly InventoryNode[],
  sessions: ReadonlyMap<string, NodeSession>,
  roles: ReadonlyMap<string, SwarmRole>,
  fail: (node: InventoryNode, error: Error) => void,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let pending = [...nodes];
  while (pending.length > 0) {
    const listed = new Map((await readSwarmNodes(leader)).map((entry) => [entry.id, entry]));
    pending = pending.filter((node) => {
      const entry = listed.get((sessions.get(node.mac)!.facts.swarm as { nodeId?: string }).nodeId ?? '');
      const manager = entry?.leader === true || entry?.reachable === true;
      return !(entry?.state === 'ready' && manager === (roles.get(node.mac) === 'manager'));
    });
    if (pending.length === 0 || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  for (const node of pending) {
    fail(node, new PiswarmError(`${node.hostname} joined but is not Ready as a ${roles.get(node.mac)} after ${READY_TIMEOUT_MS / 1000} s.`, { hint: `Check \`docker node ls\` on ${leader.node.hostname}, then run: piswarm bootstrap --only ${node.hostname}` }));
  }
}
