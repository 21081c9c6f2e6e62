import type { SshConnector } from '../../adapters/ssh.js';
import { mergeDiscovered, type MergeReport } from '../../core/discovery-merge.js';
import type { Inventory } from '../../core/inventory.js';
import { parseIpv4 } from '../../core/ipv4.js';
import { mapSettled } from '../../core/parallel.js';
import { PiswarmError, UsageError } from '../../errors.js';
import type { SshCredentials } from '../ssh-credentials.js';
import { NodeSession } from './node-session.js';

/**
 * `bootstrap --nodes IP,...`: logs in to each address, learns its hostname and the MAC of the
 * interface it answered on, and files it in the inventory like discover does. Returns the nodes'
 * hostnames and their sessions, still open (by MAC), for bootstrap to carry on with.
 */
export async function addNodesByAddress(
  connector: SshConnector,
  inventory: Inventory,
  addresses: readonly string[],
  credentials: SshCredentials,
  timeoutMs: number,
  /** Who to log in as where the inventory names nobody (--user); recorded for the nodes added. */
  user?: string,
): Promise<{ hostnames: string[]; report: MergeReport; sessions: Map<string, NodeSession> }> {
  const bad = addresses.filter((a) => parseIpv4(a) === undefined);
  if (bad.length > 0) throw new UsageError(`--nodes takes IPv4 addresses, got ${bad.map((b) => `"${b}"`).join(', ')}.`, 'Write them like --nodes 192.168.1.21,192.168.1.22.');
  const ssh = inventory.sshDefaults;
  const settled = await mapSettled(addresses, 16, async (ip) => {
    const known = inventory.nodes().find((n) => n.ip === ip);
    const node = known ?? { hostname: ip, ip, mac: '' };
    const connection = await connector.connect({ name: node.hostname, host: ip, port: ssh.port, username: node.user ?? user ?? ssh.user, ...credentials, pinnedHostKey: known ? inventory.expectedHostKey(known) : undefined });
    const session = new NodeSession(node, connection, timeoutMs);
    const facts = await session.readFacts().catch((error: Error) => {
      session.close();
      throw error;
    });
    if (!facts.mac) {
      session.close();
      throw new PiswarmError(`${ip}: can't tell the MAC address of the interface it answered on.`, { hint: 'Add the node to the inventory by hand, keyed by its MAC (ip link).' });
    }
    return session;
  });
  const opened = settled.flatMap((s) => (s.ok ? [s.value] : []));
  const failed = settled.filter((s) => !s.ok);
  if (failed.length > 0) {
    for (const session of opened) session.close();
    const first = (failed[0] as { error: Error }).error;
    throw new PiswarmError(`Can't add ${failed.map((f) => f.item).join(', ')}: ${first.message}`, { hint: (first as PiswarmError).hint, cause: first });
  }
  const report = mergeDiscovered(
    inventory,
    opened.map((s) => ({ ip: s.node.ip!, mac: s.facts.mac!, hostname: s.facts.hostname, hostKey: s.hostKey, user })),
  );
  const sessions = new Map<string, NodeSession>();
  for (const session of opened) {
    const node = inventory.nodes().find((n) => n.mac === session.facts.mac)!;
    session.adopt(node);
    sessions.set(node.mac, session);
  }
  return { hostnames: [...sessions.values()].map((s) => s.node.hostname), report, sessions };
}
