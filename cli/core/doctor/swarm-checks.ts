import { X509Certificate } from 'node:crypto';
import { faultTolerance } from '../quorum.js';
import { fail, ok, skipped, warn, type CheckDefinition, type ClusterEvidence, type NodeEvidence, type Verdict } from './check.js';

/** The checks of a node as part of the swarm: reachability, Docker, Raft, certificates, clocks, addresses, ports. */

const DAY_MS = 86_400_000;
const seconds = (ms: number) => `${ms >= 0 ? '+' : '−'}${(Math.abs(ms) / 1000).toFixed(3)} s`;
const days = (s: number) => `${Math.round(s / 86_400)} days`;

function ssh(node: NodeEvidence): Verdict {
  if (node.sshError) return fail(`did not answer over SSH: ${node.sshError}`, node.sshHint ?? 'Is it powered on, its cable in, its wifi up? If its address changed, `piswarm discover --save` finds it by MAC.');
  return ok('answered over SSH');
}

function docker(node: NodeEvidence): Verdict {
  if (node.sshError) return skipped('skipped: the node does not answer over SSH');
  if (!node.engine) return fail(`Docker does not answer: ${node.engineError ?? 'no engine'}`, 'Start it (`sudo systemctl start docker`) and read why it stopped: `journalctl -u docker -n 50`.');
  return ok(`Docker ${node.engine.version} is running`);
}

function dockerVersion(node: NodeEvidence, cluster: ClusterEvidence): Verdict {
  const others = cluster.nodes.filter((n) => n.engine && n.engine.version !== node.engine!.version);
  if (others.length === 0) return ok(`${node.engine!.version}, as on every node that answered`);
  return warn(`${node.engine!.version} here; ${others.map((n) => `${n.hostname} has ${n.engine!.version}`).join(', ')}`, 'Bring every node to the same Docker: `piswarm upgrade`.');
}

function swarmNode(node: NodeEvidence, cluster: ClusterEvidence): Verdict {
  if (!cluster.swarm) return skipped(`skipped: no manager answered (${cluster.swarmError ?? 'no swarm'})`);
  const seen = cluster.swarm.find((n) => n.hostname === node.hostname);
  if (!seen) return warn('not a member of the swarm', 'Join it: `piswarm bootstrap`.');
  const role = seen.leader ? 'manager, leader' : seen.role;
  if (seen.state !== 'ready') return fail(`${seen.state} in the managers' view (${role})`, 'Power it on or plug it in; a Pi that died is replaced: flash a card, then `piswarm node rm --force` and `piswarm bootstrap`.');
  if (seen.availability !== 'active') return warn(`${seen.availability} (${role}): no new tasks run here`, `When its work is done: \`piswarm node activate ${node.hostname}\`.`);
  return ok(`ready and active (${role})`);
}

function raft(node: NodeEvidence, cluster: ClusterEvidence): Verdict {
  if (!cluster.swarm) return skipped(`skipped: no manager answered (${cluster.swarmError ?? 'no swarm'})`);
  const self = cluster.swarm.find((n) => n.hostname === node.hostname);
  if (self?.role !== 'manager') return skipped('skipped: a worker takes no part in Raft');
  const managers = cluster.swarm.filter((n) => n.role === 'manager');
  const reachable = managers.filter((m) => m.reachable);
  const leader = managers.find((m) => m.leader)?.hostname ?? 'none';
  const count = managers.length;
  const found = `${count} manager(s), ${reachable.length} reachable, leader ${leader}; tolerates ${faultTolerance(count)} down`;
  const down = managers.filter((m) => !m.reachable).map((m) => m.hostname);
  if (reachable.length <= count / 2) return fail(`${found}: quorum is lost (${down.join(', ')} unreachable)`, 'Bring the managers back; as a last resort `docker swarm init --force-new-cluster` on a healthy one.');
  if (down.length > 0) return warn(`${found}; ${down.join(', ')} unreachable: one more failure may lose quorum`, 'Bring it back, or replace it and `piswarm node rm --force` the dead one.');
  if (count % 2 === 0) return warn(`${found}: an even count tolerates no more failures than one fewer`, `Promote a worker or demote a manager: ${count + 1} managers tolerate ${faultTolerance(count + 1)} down.`);
  if (count > 7) return warn(`${found}: more than 7 managers slow every write`, 'Demote managers down to 5 or 7.');
  return ok(found);
}

function certificate(node: NodeEvidence, cluster: ClusterEvidence): Verdict {
  const pem = node.probe!.nodeCertificate;
  if (!pem) return skipped('skipped: no swarm certificate on the node (not in a swarm)');
  let until: Date;
  try {
    until = new Date(new X509Certificate(pem).validTo);
  } catch {
    return fail('its swarm certificate cannot be read', 'Leave and join again: `docker swarm leave` on the node, then `piswarm bootstrap`.');
  }
  const left = until.getTime() - cluster.now.getTime();
  const expiry = cluster.certExpirySeconds ? `; the swarm's certificates last ${days(cluster.certExpirySeconds)} (--cert-expiry) and are renewed while nodes run` : '';
  const found = `valid until ${until.toISOString().slice(0, 10)}${expiry}`;
  const rejoin = `On ${node.hostname}: \`docker swarm leave --force\`, then \`piswarm bootstrap\` (a fresh token and certificate); a node off longer than the expiry cannot rejoin otherwise.`;
  if (left <= 0) return fail(`expired on ${until.toISOString().slice(0, 10)}`, rejoin);
  // A running node renews long before the end; little time left means it has not been able to.
  if (left < 7 * DAY_MS) return warn(`${found}: ${Math.ceil(left / DAY_MS)} day(s) left and not renewed`, rejoin);
  return ok(found);
}

function clock(node: NodeEvidence, cluster: ClusterEvidence): Verdict {
  if (!node.clock) return skipped('skipped: its clock could not be read');
  const others = cluster.nodes.flatMap((n) => (n.clock && n !== node ? [n.clock.offsetMs] : []));
  const spread = Math.max(0, ...others.map((o) => Math.abs(o - node.clock!.offsetMs)));
  const worst = Math.max(Math.abs(node.clock.offsetMs), spread);
  const between = others.length > 0 ? `, at most ${(spread / 1000).toFixed(3)} s from the other nodes` : '';
  const found = `${seconds(node.clock.offsetMs)} from this machine (±${(node.clock.uncertaintyMs / 1000).toFixed(3)} s)${between}`;
  const fix = 'Turn on time sync (`piswarm doctor --fix`); joins fail ("certificate is not yet valid") and Raft elections misbehave with skewed clocks.';
  if (worst - node.clock.uncertaintyMs > 60_000) return fail(found, fix);
  if (worst - node.clock.uncertaintyMs > 2_000) return warn(found, fix);
  return ok(found);
}

function address(node: NodeEvidence, cluster: ClusterEvidence): Verdict {
  if (node.dhcp === undefined) return skipped('skipped: its address could not be read');
  const manager = (cluster.swarm?.find((n) => n.hostname === node.hostname)?.role ?? node.role) === 'manager';
  if (!node.dhcp) return ok('a static address');
  if (manager) return warn('a manager on a DHCP lease: if the router hands it another address, the other nodes lose it', 'Reserve its address for its MAC in the router, or give it a static one (`piswarm flash --ip`).');
  return ok('a DHCP lease (fine for a worker: piswarm follows it by MAC)');
}

function swarmPorts(node: NodeEvidence, cluster: ClusterEvidence): Verdict {
  const { triedPorts, closedPorts } = node.probe!;
  if (triedPorts.length === 0) return skipped('skipped: no other node to try');
  const name = (p: string) => `${cluster.addresses?.[p.split(':')[0]!] ?? p.split(':')[0]}:${p.split(':')[1]}`;
  if (closedPorts.length > 0) {
    return fail(`cannot open ${closedPorts.map(name).join(', ')} from here`, 'Open TCP 2377 to the managers, TCP and UDP 7946 and UDP 4789 between all nodes (e.g. `sudo ufw allow 2377/tcp`), on the nodes and the network between them.');
  }
  return ok(`opened all ${triedPorts.length} (TCP 2377 to managers, TCP 7946 to every node); UDP 7946 and 4789 give no answer to probe`);
}

const probed = { needsProbe: true } as const;

export const SWARM_CHECKS: CheckDefinition[] = [
  { id: 'ssh', title: 'SSH', why: 'piswarm reaches every node over SSH.', run: ssh },
  { id: 'docker', title: 'Docker running', why: 'A node without a running engine runs no tasks.', run: docker },
  { id: 'docker-version', title: 'Same Docker everywhere', why: 'Mixed engine versions disagree on swarm features and stack files.', needsEngine: true, run: dockerVersion },
  { id: 'swarm-node', title: 'Swarm membership', why: 'The managers schedule tasks only on ready, active nodes.', run: swarmNode },
  { id: 'raft', title: 'Raft quorum', why: 'A swarm loses its managers (no changes, no rescheduling) when half of them are gone.', run: raft },
  { id: 'certificate', title: 'Swarm certificate', why: 'A node whose certificate expired (off too long) can no longer talk to the swarm.', ...probed, run: certificate },
  { id: 'clock', title: 'Clock offset', why: 'TLS certificates and Raft timeouts need clocks that agree.', run: clock },
  { id: 'address', title: 'Address', why: 'The router may move a DHCP address; managers are found by theirs.', run: address },
  { id: 'swarm-ports', title: 'Swarm ports', why: 'Swarm needs TCP 2377, TCP/UDP 7946 and UDP 4789 open between nodes.', ...probed, run: swarmPorts },
];
