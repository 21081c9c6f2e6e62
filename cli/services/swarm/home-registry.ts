import { registryLoginScript, trustRegistryScript } from '../../core/registry-scripts.js';
import { PiswarmError } from '../../errors.js';
import type { Cluster } from './cluster.js';

/** The node label the registry stack is pinned to (its data is that node's volume). */
export const REGISTRY_LABEL = 'registry';

export interface RegistryNodeSetup {
  /** The node the registry runs on, by hostname. */
  node: string;
  /** The names it answers to (the certificate's names). */
  names: readonly string[];
  caCertificate: string;
}

/**
 * Before the registry stack is deployed: its node labelled, and every node's Docker trusting the
 * home CA for it. Nodes that did not answer are named: they cannot pull from it until they do.
 * Returns what changed.
 */
export async function prepareRegistryNodes(cluster: Cluster, setup: RegistryNodeSetup): Promise<string[]> {
  const target = cluster.nodes.find((s) => s.node.hostname === setup.node);
  if (!target?.swarmNodeId) {
    throw new PiswarmError(`${setup.node} did not answer as a swarm node, so the registry cannot be pinned to it.`, { hint: 'Check it with `piswarm node ls`, or choose another node with --node.' });
  }
  const changes: string[] = [];
  await cluster.manager.engine(`label ${setup.node}`, (api) => api.updateNode(target.swarmNodeId!, { addLabels: { [REGISTRY_LABEL]: 'true' } }));
  changes.push(`${setup.node} labelled ${REGISTRY_LABEL}=true`);
  for (const session of cluster.nodes) {
    if (await session.change('trust the home CA for the registry', trustRegistryScript(setup.names), setup.caCertificate)) changes.push(`${session.node.hostname} trusts the home CA`);
  }
  return changes;
}

/**
 * After the deploy: every manager's Docker logged in to the registry under each of its names, so
 * `stack deploy` (which passes the manager's logins on with --with-registry-auth) lets any node pull.
 */
export async function loginManagers(cluster: Cluster, names: readonly string[], username: string, password: string): Promise<string[]> {
  const managers = cluster.nodes.filter((s) => s.facts.swarm.state === 'manager');
  for (const manager of managers) await manager.run('log in to the registry', registryLoginScript(username, names), `${password}\n`);
  return managers.map((m) => `${m.node.hostname} logged in`);
}
