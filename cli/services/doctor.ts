import type { SshConnection, SshConnector } from '../adapters/ssh.js';
import type { EngineDetails, NodeEvidence } from '../core/doctor/check.js';
import { diagnoseCluster, type NodeReport } from '../core/doctor/checks.js';
import { planFixes, type PlannedFix } from '../core/doctor/fixes.js';
import { parseProbe, probeScript, type NodeProbe } from '../core/doctor/probe.js';
import type { Inventory, InventoryNode } from '../core/inventory.js';
import { mapSettled } from '../core/parallel.js';
import type { SwarmApi } from '../core/swarm-api.js';
import type { SwarmNodeView } from '../core/placement.js';
import type { Reporter } from '../io.js';
import { relocateMovedNodes, type LocatorPorts, type NodeMove } from './node-locator.js';
import { findManager } from './swarm/cluster.js';
import { NodeSession, targetOf } from './swarm/node-session.js';
import { readSwarmNodes } from './swarm/swarm-nodes.js';
import type { SshCredentials } from './ssh-credentials.js';

export interface DoctorPorts {
  connector: SshConnector;
  credentials: SshCredentials;
  timeoutMs: number;
  openApi?: (connection: SshConnection) => Promise<SwarmApi>;
  /** To follow nodes that no longer answer at their saved address (by MAC); off when absent. */
  locator?: LocatorPorts;
  reporter: Reporter;
  /** This machine's clock, in ms. */
  now?: () => number;
}

export interface DoctorEvents {
  node(hostname: string, step: string): void;
}

/** What doctor learnt: each node's report, and what the fixes are made from. */
export interface Diagnosis {
  reports: NodeReport[];
  probes: Map<string, NodeProbe>;
  sessions: NodeSession[];
  /** Nodes found at a new address (the inventory is updated; the caller saves it). */
  moved: NodeMove[];
  close(): void;
}

const SWARM_PORT = 2377;
const GOSSIP_PORT = 7946;

/**
 * Connects to every node in parallel and reads, from each, the engine (one API call), its clock
 * and its operating system (one program, as root); then judges them all together. A node that
 * does not answer, or whose Docker is down, is reported as such; nothing stops the others.
 */
export async function diagnose(inventory: Inventory, nodes: readonly InventoryNode[], ports: DoctorPorts, events: DoctorEvents): Promise<Diagnosis> {
  const now = ports.now ?? Date.now;
  const evidence = new Map<string, NodeEvidence>(nodes.map((n) => [n.hostname, { hostname: n.hostname, role: n.role }]));
  const checked = (session: NodeSession) => evidence.has(session.node.hostname);
  // With --only, the managers are asked too: the swarm's view of the nodes checked is theirs.
  const viewers = inventory.nodes().filter((n) => n.ip && n.role === 'manager' && !evidence.has(n.hostname));
  const said = { node: (hostname: string, step: string) => evidence.has(hostname) && events.node(hostname, step) };
  const { open, failed, moved } = await connectAll(inventory, [...nodes, ...viewers], ports, said);
  for (const [hostname, error] of failed) if (evidence.has(hostname)) Object.assign(evidence.get(hostname)!, { sshError: error.message, sshHint: error.hint });

  await mapSettled(open, 16, async (session) => {
    said.node(session.node.hostname, 'reading Docker and the clock');
    const found = evidence.get(session.node.hostname) ?? { hostname: session.node.hostname };
    await Promise.all([readEngine(session, found), ...(checked(session) ? [readClock(session, found, now)] : [])]);
  });
  const swarm = await readManagersView(open, inventory);
  const addresses = Object.fromEntries(open.map((s) => [s.node.ip!, s.node.hostname]));
  // Managers by the address they advertise, and by hostname (the swarm knows them by the name bootstrap gave them).
  const managers = (swarm.nodes ?? []).filter((n) => n.role === 'manager');
  const managerIps = new Set([...managers.flatMap((n) => (n.managerAddr ? [n.managerAddr.split(':')[0]!] : [])), ...open.filter((s) => managers.some((m) => m.hostname === s.node.hostname)).map((s) => s.node.ip!)]);

  const probes = new Map<string, NodeProbe>();
  await mapSettled(open.filter(checked), 16, async (session) => {
    events.node(session.node.hostname, 'checking');
    const found = evidence.get(session.node.hostname)!;
    // Only peers whose engine is in a swarm listen on the swarm's ports: a dead dockerd is its own finding.
    const peers = open.filter((s) => s !== session && s.facts && s.facts.swarm.state !== 'none').map((s) => s.node.ip!);
    const tried = [...peers.filter((ip) => managerIps.has(ip)).map((ip) => `${ip}:${SWARM_PORT}`), ...peers.map((ip) => `${ip}:${GOSSIP_PORT}`)];
    const root = found.engine?.dockerRootDir ?? '/var/lib/docker';
    try {
      found.probe = parseProbe((await session.run('read the system facts', probeScript(root, session.node.ip!, tried))).stdout, root, tried);
      found.dhcp = found.probe.dhcp;
      probes.set(session.node.hostname, found.probe);
    } catch (error) {
      found.probeError = (error as Error).message;
    }
    events.node(session.node.hostname, 'done');
  });
  for (const n of nodes) if (evidence.get(n.hostname)!.sshError) events.node(n.hostname, 'done');

  const reports = diagnoseCluster({ nodes: [...evidence.values()], swarm: swarm.nodes, swarmError: swarm.error, certExpirySeconds: swarm.certExpirySeconds, addresses, now: new Date(now()) });
  return { reports, probes, sessions: open, moved, close: () => open.forEach((s) => s.close()) };
}

/** Sessions to the nodes that answer; those that did not at their saved address are looked for by MAC and tried there. */
async function connectAll(inventory: Inventory, nodes: readonly InventoryNode[], ports: DoctorPorts, events: { node(hostname: string, step: string): unknown }) {
  const connect = (some: readonly InventoryNode[]) =>
    mapSettled(some, 16, async (node) => {
      events.node(node.hostname, 'connecting');
      const connection = await ports.connector.connect({ ...targetOf(node, inventory), ...ports.credentials });
      return new NodeSession(node, connection, ports.timeoutMs, ports.openApi);
    });
  let settled = await connect(nodes);
  const down = settled.flatMap((s) => (s.ok ? [] : [s.item]));
  const moved = ports.locator && down.length > 0 ? await relocateMovedNodes(inventory, down, ports.locator, ports.reporter) : [];
  if (moved.length > 0) {
    const again = await connect(down.filter((n) => moved.some((m) => m.hostname === n.hostname)).map((n) => inventory.findNode(n.hostname)!));
    settled = [...settled.filter((s) => s.ok || !again.some((a) => a.item.hostname === s.item.hostname)), ...again];
  }
  const open = settled.flatMap((s) => (s.ok ? [s.value] : []));
  const failed = new Map(settled.flatMap((s) => (s.ok ? [] : [[s.item.hostname, s.error as Error & { hint?: string }] as const])));
  return { open, failed, moved };
}

/** The fixes doctor can make for what it found. */
export function fixesFor(diagnosis: Diagnosis): PlannedFix[] {
  return planFixes(diagnosis.reports, diagnosis.probes);
}

/** Applies fixes, each on its node; returns what each did (or why it failed), in order. */
export async function applyFixes(diagnosis: Diagnosis, fixes: readonly PlannedFix[]): Promise<Array<{ fix: PlannedFix; changed?: boolean; error?: string }>> {
  const settled = await mapSettled(fixes, 16, async (fix) => {
    const session = diagnosis.sessions.find((s) => s.node.hostname === fix.node)!;
    return session.change(fix.what, fix.script, fix.input);
  });
  return settled.map((s) => (s.ok ? { fix: s.item, changed: s.value } : { fix: s.item, error: s.error.message }));
}

async function readEngine(session: NodeSession, found: NodeEvidence): Promise<void> {
  try {
    const info = await session.engine('read docker info', (api) => api.info());
    session.facts = { hostname: info.hostname, arch: info.arch, docker: info.serverVersion, swarm: info.swarm };
    const details = info.details ?? { dockerRootDir: '/var/lib/docker', loggingDriver: 'json-file', warnings: [] };
    found.engine = { version: info.serverVersion, ...details } satisfies EngineDetails;
  } catch (error) {
    found.engineError = (error as Error).message.replace(`${session.node.hostname}: can't read docker info: `, '');
  }
}

/** The node's clock against this one: its reading taken between two of ours, so off by at most half the round trip. */
async function readClock(session: NodeSession, found: NodeEvidence, now: () => number): Promise<void> {
  const sent = now();
  const { stdout } = await session.run('read the clock', 'date +%s%N').catch(() => ({ stdout: '' }));
  const received = now();
  const text = stdout.trim();
  const ms = /^\d{19}$/.test(text) ? Number(BigInt(text) / 1_000_000n) : /^\d{10}/.test(text) ? Number(text.slice(0, 10)) * 1000 : undefined;
  if (ms === undefined) return;
  const coarse = !/^\d{19}$/.test(text);
  found.clock = { offsetMs: ms - (sent + received) / 2, uncertaintyMs: (received - sent) / 2 + (coarse ? 1000 : 0) };
}

/** The swarm's nodes as a manager of the inventory's swarm sees them, and the certificate lifetime it sets. */
async function readManagersView(sessions: readonly NodeSession[], inventory: Inventory): Promise<{ nodes?: SwarmNodeView[]; error?: string; certExpirySeconds?: number }> {
  const withEngine = sessions.filter((s) => s.facts);
  const manager = findManager(withEngine, inventory);
  if (!manager) return { error: 'no manager of the swarm answered' };
  try {
    const [nodes, info] = await Promise.all([readSwarmNodes(manager), manager.engine('read docker info', (api) => api.info())]);
    return { nodes, certExpirySeconds: info.details?.certExpirySeconds };
  } catch (error) {
    return { error: (error as Error).message };
  }
}
