import type { EngineDetails, NodeEvidence } from '../core/doctor/check.js';
import { diagnoseCluster, type NodeReport } from '../core/doctor/checks.js';
import { planFixes, type PlannedFix } from '../core/doctor/fixes.js';
import { parseProbe, probeScript, type NodeProbe } from '../core/doctor/probe.js';
import type { Inventory, InventoryNode } from '../core/inventory.js';
import { mapSettled } from '../core/parallel.js';
import type { SwarmNodeView } from '../core/placement.js';
import { connectFollowingMoves, type NodeMove } from './node-locator.js';
import { findManager, type ClusterPorts } from './swarm/cluster.js';
import { NodeSession, targetOf } from './swarm/node-session.js';
import { readSwarmNodes } from './swarm/swarm-nodes.js';

export interface DoctorPorts extends ClusterPorts {
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

  const engines = new Map<NodeSession, EngineDetails>();
  await mapSettled(open, 16, async (session) => {
    said.node(session.node.hostname, 'reading Docker and the clock');
    const found = evidence.get(session.node.hostname) ?? { hostname: session.node.hostname };
    await Promise.all([readEngine(session, found, engines), ...(checked(session) ? [readClock(session, found, now)] : [])]);
  });
  const swarm = await readManagersView(open, inventory, engines);
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

/** Sessions to the nodes that answer (no facts read yet: a node whose Docker is down is still checked). */
async function connectAll(inventory: Inventory, nodes: readonly InventoryNode[], ports: DoctorPorts, events: { node(hostname: string, step: string): unknown }) {
  const sessions = new Map<string, NodeSession>();
  const connect = async (some: readonly InventoryNode[]) => {
    const settled = await mapSettled(some, 16, async (node) => {
      events.node(node.hostname, 'connecting');
      sessions.set(node.hostname, new NodeSession(node, await ports.connector.connect({ ...targetOf(node, inventory), ...ports.credentials }), ports.timeoutMs, ports.openApi));
    });
    return settled.flatMap((s) => (s.ok ? [] : [{ node: s.item, error: s.error as Error & { hint?: string } }]));
  };
  const { failures, moved } = await connectFollowingMoves(inventory, nodes, connect, ports);
  return { open: [...sessions.values()], failed: new Map(failures.map((f) => [f.node.hostname, f.error])), moved };
}

/** Doctor's reports of these nodes, the connections closed after (upgrade's check, the dashboard's column). */
export async function checkNodes(inventory: Inventory, nodes: readonly InventoryNode[], ports: DoctorPorts): Promise<NodeReport[]> {
  const diagnosis = await diagnose(inventory, nodes, ports, { node: () => undefined });
  diagnosis.close();
  return diagnosis.reports;
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

async function readEngine(session: NodeSession, found: NodeEvidence, engines: Map<NodeSession, EngineDetails>): Promise<void> {
  try {
    const info = await session.readEngineFacts();
    found.engine = { version: info.serverVersion, dockerRootDir: '/var/lib/docker', loggingDriver: 'json-file', warnings: [], ...info.details };
    engines.set(session, found.engine);
  } catch (error) {
    found.engineError = (error as Error).message.replace(`${session.node.hostname}: can't read the engine facts: `, '');
  }
}

/** The node's clock against this one: its reading taken between two of ours, so off by at most half the round trip. */
async function readClock(session: NodeSession, found: NodeEvidence, now: () => number): Promise<void> {
  const sent = now();
  const { stdout } = await session.run('read the clock', 'date +%s%N').catch(() => ({ stdout: '' }));
  const received = now();
  const text = stdout.trim();
  // A date without %N (busybox) prints whole seconds: a second more of uncertainty.
  const fine = /^\d{19}$/.test(text);
  if (!fine && !/^\d{10}/.test(text)) return;
  const ms = fine ? Number(BigInt(text) / 1_000_000n) : Number(text.slice(0, 10)) * 1000;
  found.clock = { offsetMs: ms - (sent + received) / 2, uncertaintyMs: (received - sent) / 2 + (fine ? 0 : 1000) };
}

/** The swarm's nodes as a manager of the inventory's swarm sees them, and the certificate lifetime it sets. */
async function readManagersView(sessions: readonly NodeSession[], inventory: Inventory, engines: ReadonlyMap<NodeSession, EngineDetails>): Promise<{ nodes?: SwarmNodeView[]; error?: string; certExpirySeconds?: number }> {
  const manager = findManager(sessions.filter((s) => engines.has(s)), inventory);
  if (!manager) return { error: 'no manager of the swarm answered' };
  try {
    return { nodes: await readSwarmNodes(manager), certExpirySeconds: engines.get(manager)!.certExpirySeconds };
  } catch (error) {
    return { error: (error as Error).message };
  }
}
