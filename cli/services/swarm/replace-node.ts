import type { SshConnector } from '../../adapters/ssh.js';
import type { Convergence } from '../../core/convergence.js';
import type { ImagePlatform, SwarmNodeView } from '../../core/placement.js';
import { planReplacement, type ReplacePlan } from '../../core/replace-plan.js';
import type { RemovalStep } from '../../core/removal-plan.js';
import { PiswarmError } from '../../errors.js';
import type { NodeOpEvents } from './drain-node.js';
import { followServices } from './follow-services.js';
import { applyLabels, JoinTokens, placeNode } from './form-swarm.js';
import { waitForNode } from './node-roles.js';
import type { NodeSession } from './node-session.js';
import { removeNode } from './remove-node.js';
import { secureNode, type SecureOptions } from './secure-node.js';
import { readSwarmNodes } from './swarm-nodes.js';

export interface ReplaceAccess {
  /** A reachable manager other than OLD. */
  manager: NodeSession;
  nodes: readonly NodeSession[];
  /** OLD's own session, when it still answers. */
  own?: NodeSession;
  /** NEW, logged in (with the password, if it is fresh). */
  fresh: NodeSession;
}

export interface ReplacePorts {
  connector: SshConnector;
  secure: SecureOptions;
  fetchPlatforms(image: string): Promise<ImagePlatform[]>;
}

export interface ReplaceEvents extends NodeOpEvents {
  /** NEW is in the swarm with this node ID (the caller records it). */
  joined(nodeId: string): void;
  /** A removal step is complete. */
  done(step: RemovalStep): void;
  services(state: Convergence): void;
}

/**
 * NEW secured and joined as a worker with OLD's labels, then OLD taken out by the removal
 * sequence (NEW promoted when OLD managed), then every service followed until it runs all its
 * tasks again. Each step is on fresh swarm state, so a run cut short is finished by running it again.
 */
export async function replaceNode(access: ReplaceAccess, old: SwarmNodeView, options: { timeoutMs: number }, ports: ReplacePorts, events: ReplaceEvents): Promise<ReplacePlan> {
  const { manager, fresh } = access;
  const since = Date.now();
  events.step(`secure ${fresh.node.hostname}`);
  await secureNode(fresh, ports.connector, ports.secure, (step) => events.step(`${fresh.node.hostname}: ${step}`), []);
  const swarmId = manager.facts.swarm.state === 'manager' ? manager.facts.swarm.clusterId : undefined;
  const members = new Set((await readSwarmNodes(manager)).map((n) => n.id));
  events.step(`join ${fresh.node.hostname} as a worker`);
  await placeNode(fresh, fresh.facts.swarm.state === 'manager' ? 'manager' : 'worker', { leader: manager, target: { leader: manager.node.mac, swarmId }, members, tokens: new JoinTokens(manager), force: false });
  const nodeId = fresh.swarmNodeId;
  if (!nodeId) throw new PiswarmError(`${fresh.node.hostname} did not join the swarm.`, { hint: `Run: piswarm node replace ${old.hostname} ${fresh.node.ip}` });
  events.joined(nodeId);
  const joined = await waitForNode(manager, { ...old, id: nodeId, hostname: fresh.node.hostname }, (n) => n.state === 'ready', 'ready in the swarm');
  if (Object.keys(old.labels).length > 0) {
    events.step(`label ${fresh.node.hostname} ${Object.entries(old.labels).map(([k, v]) => `${k}=${v}`).join(' ')}`);
    await applyLabels(manager, nodeId, old.labels);
  }
  // The removal is planned now that NEW is a member: it is the worker promoted in OLD's place.
  const swarm = await readSwarmNodes(manager);
  const current = swarm.find((n) => n.id === old.id) ?? old;
  const plan = planReplacement(current, swarm, swarm.find((n) => n.id === joined.id) ?? joined, { sshReachable: Boolean(access.own) });
  if (plan.removal.refusal) throw new PiswarmError(plan.removal.refusal.message, { hint: plan.removal.refusal.hint });
  await removeNode({ manager, nodes: access.nodes, ...(access.own ? { own: access.own } : {}) }, current, plan.removal, options, ports, events);
  events.step('wait until every service runs all its tasks');
  events.services(await followServices(manager, [...access.nodes, fresh], 'all', { timeoutMs: options.timeoutMs, windowMs: 0, since, what: 'the services', waitPending: true }, events.services));
  return plan;
}
