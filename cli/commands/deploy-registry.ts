import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { homeCa } from '../adapters/home-ca.js';
import { ensureRegistryLogin, REGISTRY_USER, saveRegistryNames } from '../adapters/home-registry.js';
import type { Context } from '../context.js';
import type { InventoryNode } from '../core/inventory.js';
import { REGISTRY_PORT } from '../core/registry-scripts.js';
import { ExitCode, UsageError } from '../errors.js';
import { printJson, printLines } from '../io.js';
import { PACKAGE_ROOT } from '../paths.js';
import { loginManagers, prepareRegistryNodes, REGISTRY_LABEL } from '../services/swarm/home-registry.js';
import { withCluster } from './cluster-access.js';
import { parseIntegerFlag } from './parse.js';
import { deployComposeFiles } from './stack/deploy.js';

export interface DeployRegistryFlags {
  node?: string;
  timeout: string;
  dryRun: boolean;
}

/**
 * The swarm's private registry, safe on a home network: HTTPS with a certificate from piswarm's
 * home CA (which every node's Docker is made to trust), a login (user piswarm, password generated
 * and kept 0600), no deletes, pinned to one node whose volume holds the images. Managers log in,
 * so every deploy passes the login on to the nodes that pull.
 */
export async function deployRegistryAction(context: Context, flags: DeployRegistryFlags): Promise<number> {
  const timeoutMs = parseIntegerFlag('--timeout', flags.timeout, 1, 86_400) * 1000;
  const inventory = await context.loadInventory();
  const node = flags.node ? inventory.requireNode(flags.node) : inventory.nodes().find((n) => n.role === 'manager');
  if (!node?.ip) {
    throw new UsageError(flags.node ? `${flags.node} has no known IP address.` : `${inventory.file} names no manager with an IP address.`, 'Run `piswarm bootstrap` first, or name the node with --node.');
  }
  const names = registryNames(node);
  const plan = [
    `label ${node.hostname} ${REGISTRY_LABEL}=true (the registry and its volume stay there)`,
    `make every node's Docker trust the home CA for ${names.map((n) => `${n}:${REGISTRY_PORT}`).join(', ')}`,
    `deploy stacks/registry.yml as the stack registry: HTTPS, login ${REGISTRY_USER}, no deletes`,
    'log in to it on every manager (stack deploys pass the login on to the nodes)',
  ];
  if (flags.dryRun) {
    if (context.io.json) printJson(context.io, { node: node.hostname, names, plan });
    else printLines(context.io, plan.map((step, i) => `${i + 1}. ${step}`).join('\n'));
    context.reporter.step('Nothing was changed (--dry-run)');
    return ExitCode.ok;
  }

  const ca = homeCa(context.runner);
  if (await ca.ensure()) context.reporter.step(`Home CA created: ${ca.certFile} (trust it on your own machine to push, see docs/stacks.md)`);
  const { certificate } = await ca.issue('registry', names);
  const login = await ensureRegistryLogin();
  if (login.created) context.reporter.step(`Registry password generated in ${login.passwordFile} (user ${REGISTRY_USER})`);
  await saveRegistryNames(names);
  const env = {
    ...process.env,
    REGISTRY_HTPASSWD_FILE: login.htpasswdFile,
    REGISTRY_TLS_CERT_FILE: certificate.certFile,
    REGISTRY_TLS_KEY_FILE: certificate.keyFile,
  };
  const caCertificate = await readFile(ca.certFile, 'utf8');
  return withCluster(context, async (cluster) => {
    for (const change of await prepareRegistryNodes(cluster, { node: node.hostname, names, caCertificate })) context.reporter.step(change);
    const code = await deployComposeFiles(context, { paths: [join(PACKAGE_ROOT, 'stacks', 'registry.yml')], name: 'registry', timeoutMs, windowMs: 3000, skipArchCheck: false, env, finish: ['deploy', 'registry', '--node', node.hostname] }, cluster);
    if (code !== ExitCode.ok) return code;
    for (const change of await loginManagers(cluster, names, REGISTRY_USER, login.password)) context.reporter.step(change);
    if (!context.io.json) context.reporter.step(`Registry: https://${names[0]}:${REGISTRY_PORT} — user ${REGISTRY_USER}, password in ${login.passwordFile}, CA ${ca.certFile}`);
    return ExitCode.ok;
  });
}

/** The names pushes and pulls may use: the node's address, its hostname and its mDNS name. */
function registryNames(node: InventoryNode): string[] {
  return [node.ip!, node.hostname, `${node.hostname}.local`];
}
