import { findOrCreateUserKey } from '../adapters/user-key.js';
import type { Context } from '../context.js';
import { HYPRIOT_DEFAULT_PASSWORD } from '../core/boot-config.js';
import { DEFAULT_SSH_USER, type Inventory } from '../core/inventory.js';
import { parseIpv4 } from '../core/ipv4.js';
import { findSwarmNode, inventoryNodeFor } from '../core/node-table.js';
import { describeReplacement, planReplacement } from '../core/replace-plan.js';
import { CancelledError, ExitCode, PiswarmError, UsageError } from '../errors.js';
import { printJson, printLines } from '../io.js';
import { resolveSshCredentials } from '../services/ssh-credentials.js';
import { addNodesByAddress } from '../services/swarm/add-by-address.js';
import { secureOptions } from '../services/swarm/bootstrap.js';
import { replaceNode } from '../services/swarm/replace-node.js';
import { readSwarmNodes } from '../services/swarm/swarm-nodes.js';
import { createPrompter } from '../ui/prompter.js';
import { registryPlatforms, withCluster } from './cluster-access.js';
import { opEvents, otherManager } from './node.js';
import { firstLineOfStdin, parseIntegerFlag } from './parse.js';
import { StepJournal } from './step-journal.js';

export interface ReplaceFlags {
  args: string[];
  dryRun: boolean;
  timeout: string;
  keepPassword: boolean;
  passwordStdin: boolean;
}

/** `node replace OLD NEW`: a freshly flashed Pi takes a dead (or retiring) one's place: role, labels, tasks. */
export async function nodeReplaceAction(context: Context, flags: ReplaceFlags): Promise<number> {
  const [oldRef, newRef] = flags.args;
  if (!oldRef || !newRef) throw new UsageError('Which node goes, and which takes its place?', 'piswarm node replace OLD NEW, e.g. piswarm node replace worker-02 192.168.1.37 (NEW by IP, MAC or inventory hostname).');
  const timeoutMs = parseIntegerFlag('--timeout', flags.timeout, 1, 86_400) * 1000;
  const password = flags.passwordStdin ? await firstLineOfStdin() : undefined;
  return withCluster(context, async (cluster, inventory) => {
    const swarm = await readSwarmNodes(cluster.manager);
    const old = findSwarmNode(swarm, inventory.nodes(), oldRef);
    const oldEntry = inventoryNodeFor(old, inventory.nodes());
    const newIp = newAddress(inventory, newRef, oldEntry?.mac);
    if (newIp === oldEntry?.ip && old.state === 'ready') throw new UsageError(`${newRef} is ${old.hostname} itself.`, 'Name the new Pi by its own IP or MAC.');
    const own = cluster.nodes.find((s) => s.swarmNodeId === old.id);
    const newName = inventory.nodes().find((n) => n.ip === newIp && n.mac !== oldEntry?.mac)?.hostname ?? newIp;
    const preview = planReplacement(old, swarm, { hostname: newName }, { sshReachable: Boolean(own) });
    if (preview.removal.refusal) throw new PiswarmError(preview.removal.refusal.message, { hint: preview.removal.refusal.hint });
    const lines = describeReplacement(preview, old.hostname, newName);
    if (flags.dryRun) {
      if (context.io.json) printJson(context.io, { old: old.hostname, new: newName, dryRun: true, steps: lines, warnings: preview.removal.warnings });
      else printLines(context.io, [`To replace ${old.hostname} with ${newName}, piswarm would:`, ...lines.map((l, i) => `  ${i + 1}. ${l}`)].join('\n'));
      return ExitCode.ok;
    }
    for (const warning of preview.removal.warnings) context.reporter.warn(warning);
    if (!context.io.json) context.io.stderr.write(`To replace ${old.hostname} with ${newName}:\n${lines.map((l, i) => `  ${i + 1}. ${l}`).join('\n')}\n`);
    const state = own ? 'it still answers, so it is drained and leaves' : `it is ${old.state} and does not answer, so it is removed by force`;
    if (!(await createPrompter(context.io).confirm(`Replace ${old.hostname} (${state}) with ${newName}?`))) {
      throw new CancelledError(`Replacement of ${old.hostname} cancelled; nothing was changed.`, 'Run it with --yes to skip the question (for scripts).');
    }

    const userKey = await findOrCreateUserKey(inventory.sshDefaults.privateKey);
    const credentials = await resolveSshCredentials({ privateKeyPath: userKey.path, password });
    // A fresh HypriotOS card accepts its published default, which securing replaces.
    if (!credentials.password && inventory.sshDefaults.user === DEFAULT_SSH_USER) credentials.password = HYPRIOT_DEFAULT_PASSWORD;
    const added = await addNodesByAddress(context.ssh(), inventory, [newIp], credentials, timeoutMs);
    const fresh = [...added.sessions.values()][0]!;
    // A card flashed with OLD's hostname was filed under a unique name; it keeps its own (securing would rename it).
    if (fresh.facts.hostname === old.hostname && fresh.node.hostname !== old.hostname) {
      inventory.upsertNode(fresh.node.mac, { hostname: old.hostname });
      fresh.adopt(inventory.nodes().find((n) => n.mac === fresh.node.mac)!);
    }
    const journal = new StepJournal();
    const events = opEvents(context, journal);
    try {
      await journal.guard(['node', 'replace', old.hostname, newIp], () =>
        replaceNode(
          { manager: otherManager(cluster, old), nodes: cluster.nodes, fresh, ...(own ? { own } : {}) },
          old,
          { timeoutMs },
          { connector: context.ssh(), secure: secureOptions(fresh, inventory, { keepPassword: flags.keepPassword, lockPassword: false }, { userKey, credentials }), ...registryPlatforms },
          {
            ...events,
            joined: (nodeId) => inventory.upsertNode(fresh.node.mac, { role: 'worker', swarmNodeId: nodeId, labels: { ...fresh.node.labels, ...oldEntry?.labels, ...old.labels } }),
            done: (step) => {
              if (step.kind === 'promote') inventory.upsertNode(fresh.node.mac, { role: 'manager' });
              if (step.kind === 'remove' && oldEntry) inventory.forgetNode(oldEntry.mac);
            },
            services: () => undefined,
          },
        ),
      );
    } finally {
      fresh.close();
      await context.saveInventory(inventory);
    }
    const role = inventory.nodes().find((n) => n.mac === fresh.node.mac)?.role ?? 'worker';
    if (context.io.json) printJson(context.io, { old: old.hostname, new: fresh.node.hostname, role, replaced: true });
    else context.reporter.step(`${fresh.node.hostname} took ${old.hostname}'s place as a ${role}; ${old.hostname} is out of the swarm and of ${inventory.file}`);
    return ExitCode.ok;
  });
}

/** NEW's address: an IP as given, else the inventory node named (not OLD, which may share its hostname). */
function newAddress(inventory: Inventory, ref: string, oldMac: string | undefined): string {
  if (parseIpv4(ref) !== undefined) return ref;
  const needle = ref.toLowerCase();
  const node = inventory.nodes().find((n) => n.mac !== oldMac && (n.mac === needle || n.hostname.toLowerCase() === needle));
  if (!node) throw new UsageError(`No new node "${ref}" in ${inventory.file}.`, 'Name it by its IP address (piswarm discover lists the Pis on the LAN), or file it first with piswarm discover --login --save.');
  if (!node.ip) throw new UsageError(`No IP address is known for ${node.hostname}.`, 'Run piswarm discover --save to find it.');
  return node.ip;
}
