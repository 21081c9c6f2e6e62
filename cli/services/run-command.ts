import type { SshConnector, SshTarget } from '../adapters/ssh.js';
import { fingerprint } from '../core/host-key.js';
import type { Inventory, InventoryNode } from '../core/inventory.js';
import { PiswarmError } from '../errors.js';
import type { Reporter } from '../io.js';
import type { SshCredentials } from './ssh-credentials.js';
import { relocateMovedNodes, type LocatorPorts, type NodeMove } from './node-locator.js';
import { runOnNodes } from './ssh-pool.js';

export interface RunCommandOptions {
  command: string;
  /** Hostnames, MACs or IPs; all inventory nodes when empty. */
  nodes: string[];
  concurrency: number;
  timeoutMs: number;
  acceptChangedHostKey: boolean;
  /** To follow nodes whose address changed (by MAC) before connecting; off when absent. */
  locator?: LocatorPorts;
}

export interface NodeRunResult {
  node: string;
  ip: string;
  mac: string;
  ok: boolean;
  exitCode?: number;
  stdout?: string;
  stderr?: string;
  error?: string;
  hint?: string;
  /** Fingerprint of the host key pinned by this run (first contact, or an accepted change). */
  hostKeyPinned?: string;
}

/** Runs one shell command on inventory nodes in parallel; pins host keys seen for the first time. */
export async function runCommand(
  connector: SshConnector,
  inventory: Inventory,
  credentials: SshCredentials,
  reporter: Reporter,
  options: RunCommandOptions,
): Promise<{ results: NodeRunResult[]; pinned: string[]; moved: NodeMove[] }> {
  const selected = selectNodes(inventory, options.nodes);
  const moved = options.locator ? await relocateMovedNodes(inventory, selected, options.locator, reporter) : [];
  // Re-read: a node that moved has its new address in the inventory now.
  const nodes = selected.map((n) => inventory.nodes().find((m) => m.mac === n.mac)!);
  const ssh = inventory.sshDefaults;
  const targets: SshTarget[] = nodes.map((node) => ({
    name: node.hostname,
    host: node.ip!,
    port: ssh.port,
    username: node.user ?? ssh.user,
    ...credentials,
    pinnedHostKey: inventory.expectedHostKey(node),
    acceptChangedHostKey: options.acceptChangedHostKey,
  }));
  const settled = await runOnNodes(connector, targets, (connection) => connection.exec(options.command, { timeoutMs: options.timeoutMs }), {
    concurrency: options.concurrency,
  });

  const pinned: string[] = [];
  const results = settled.map((outcome, i): NodeRunResult => {
    const node = nodes[i]!;
    const base = { node: node.hostname, ip: node.ip!, mac: node.mac };
    if (!outcome.ok) {
      return { ...base, ok: false, error: outcome.error.message, hint: (outcome.error as PiswarmError).hint };
    }
    const { value, hostKey, learned } = outcome.value;
    const result: NodeRunResult = { ...base, ok: value.code === 0, exitCode: value.code, stdout: value.stdout, stderr: value.stderr };
    if (learned || !node.hostKey) {
      inventory.upsertNode(node.mac, { hostKey });
      pinned.push(node.hostname);
      result.hostKeyPinned = fingerprint(hostKey);
      reporter.step(`Host key of ${node.hostname} pinned (${result.hostKeyPinned})`);
    }
    return result;
  });
  return { results, pinned, moved };
}

function selectNodes(inventory: Inventory, refs: string[]): InventoryNode[] {
  const all = inventory.nodes();
  if (all.length === 0) {
    throw new PiswarmError(`${inventory.file} lists no nodes.`, { hint: 'Find your Pis with `piswarm discover --save`, or add them to the file.' });
  }
  const chosen = refs.length === 0 ? all : refs.map((ref) => inventory.requireNode(ref));
  const noIp = chosen.filter((n) => !n.ip);
  if (noIp.length > 0) {
    throw new PiswarmError(`No IP address is known for ${noIp.map((n) => n.hostname).join(', ')}.`, { hint: 'Run `piswarm discover --save` to find it.' });
  }
  return chosen;
}
