import type { SshConnector } from '../../adapters/ssh.js';
import { mergeDiscovered, type MergeReport } from '../../core/discovery-merge.js';
import type { Inventory } from '../../core/inventory.js';
import { parseIpv4 } from '../../core/ipv4.js';
import { NODE_FACTS_SCRIPT, parseNodeFacts } from '../../core/node-facts.js';
import { mapSettled } from '../../core/parallel.js';
import { PiswarmError, UsageError } from '../../errors.js';
import type { SshCredentials } from '../ssh-credentials.js';

/**
 * `bootstrap --nodes IP,...`: logs in to each address, learns its hostname and the MAC of the
 * interface it answered on, and files it in the inventory like discover does. Returns the nodes'
 * hostnames, for bootstrap to work on just these.
 */
export async function addNodesByAddress(connector: SshConnector, inventory: Inventory, addresses: readonly string[], credentials: SshCredentials): Promise<{ hostnames: string[]; report: MergeReport }> {
  const bad = addresses.filter((a) => parseIpv4(a) === undefined);
  if (bad.length > 0) throw new UsageError(`--nodes takes IPv4 addresses, got ${bad.map((b) => `"${b}"`).join(', ')}.`, 'Write them like --nodes 192.168.1.21,192.168.1.22.');
  const ssh = inventory.sshDefaults;
  const settled = await mapSettled(addresses, 16, async (ip) => {
    const known = inventory.nodes().find((n) => n.ip === ip);
    const connection = await connector.connect({ name: known?.hostname ?? ip, host: ip, port: ssh.port, username: known?.user ?? ssh.user, ...credentials, pinnedHostKey: known ? inventory.expectedHostKey(known) : undefined });
    try {
      const result = await connection.exec(NODE_FACTS_SCRIPT, { timeoutMs: 30_000 });
      const facts = parseNodeFacts(result.stdout);
      if (!facts.mac) throw new PiswarmError(`${ip}: can't tell the MAC address of the interface it answered on.`, { hint: 'Add the node to the inventory by hand, keyed by its MAC (ip link).' });
      return { ip, mac: facts.mac, hostname: facts.hostname, hostKey: connection.hostKey };
    } finally {
      connection.close();
    }
  });
  const failed = settled.filter((s) => !s.ok);
  if (failed.length > 0) {
    const first = (failed[0] as { error: Error }).error;
    throw new PiswarmError(`Can't add ${failed.map((f) => f.item).join(', ')}: ${first.message}`, { hint: (first as PiswarmError).hint, cause: first });
  }
  const found = settled.flatMap((s) => (s.ok ? [s.value] : []));
  const report = mergeDiscovered(inventory, found);
  const hostnames = found.map((f) => inventory.nodes().find((n) => n.mac === f.mac)!.hostname);
  return { hostnames, report };
}
