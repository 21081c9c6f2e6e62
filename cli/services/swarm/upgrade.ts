import type { CheckResult } from '../../core/doctor/check.js';
import type { Inventory, InventoryNode } from '../../core/inventory.js';
import type { ImagePlatform } from '../../core/placement.js';
import { describeUpgradeStep, type NodeUpgrade, type UpgradePlan, type UpgradeRequest, type UpgradeStepName } from '../../core/upgrade-plan.js';
import { remoteScript } from '../../core/remote-shell.js';
import { ConnectionLostError, PiswarmError } from '../../errors.js';
import { activateNode, drainNode, type NodeOpEvents } from './drain-node.js';
import type { NodeSession } from './node-session.js';
import { demoteNode, promoteNode, waitForNode, waitForSwarm } from './node-roles.js';
import { readSwarmNodes } from './swarm-nodes.js';
import { clearUpgradeRecord, writeUpgradeRecord, type UpgradeRecord } from './upgrade-record.js';

export interface UpgradeOptions {
  /** What the user asked to run (for messages) and the script that runs it. */
  action: string;
  script: string;
  reboot: UpgradeRequest['reboot'];
  surge: boolean;
  drainTimeoutMs: number;
  actionTimeoutMs: number;
  bootTimeoutMs: number;
}

export interface UpgradePorts {
  /** A fresh session to a node whose engine answers again (followed by MAC if it moved); rejects while it does not. */
  reconnect(node: InventoryNode): Promise<NodeSession>;
  /** Doctor's checks of one node. */
  check(node: InventoryNode): Promise<CheckResult[]>;
  fetchPlatforms(image: string): Promise<ImagePlatform[]>;
  pollMs?: number;
}

export interface NodeUpgraded {
  node: string;
  role: 'manager' | 'worker';
  docker: { before?: string; after?: string };
  rebooted: boolean;
  seconds: number;
}

/** Which node is being upgraded now: the swarm lock is renewed through another manager too. */
export interface UpgradeState {
  busy?: string;
}

/** A manager that is not the node being upgraded (nor demoted for it), while there is one; else that node itself. */
export function managerFor(sessions: readonly NodeSession[], state: UpgradeState): NodeSession {
  return sessions.find((s) => s.facts.swarm.state === 'manager' && s.swarmNodeId !== state.busy && !s.lost) ?? sessions.find((s) => s.swarmNodeId === state.busy) ?? sessions[0]!;
}

/** The OS's own upgrade, Docker included, answering no question and keeping changed config files. */
export const DEFAULT_ACTION = 'apt-get update && apt-get -y dist-upgrade';
export const DEFAULT_SCRIPT = remoteScript(
  'as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q',
  'as_root env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold dist-upgrade',
);

/** Reboots after the SSH command has returned: systemd's graceful reboot, else the kernel's. */
const REBOOT_SCRIPT = remoteScript(`as_root nohup sh -c 'sleep 1; systemctl reboot 2>/dev/null || reboot -f' >/dev/null 2>&1 </dev/null &`);

/**
 * Upgrades the plan's nodes one at a time, each drained (its tasks running elsewhere first), its
 * action run, rebooted when asked or needed, waited for until it is ready in the swarm again,
 * checked, and activated. Progress is kept in the swarm, so a run that stops (a failed action, a
 * node that does not come back) is resumed by running the same command again.
 */
export async function runUpgrade(
  sessions: NodeSession[],
  inventory: Inventory,
  plan: UpgradePlan,
  record: UpgradeRecord,
  options: UpgradeOptions,
  ports: UpgradePorts,
  events: NodeOpEvents,
  state: UpgradeState = {},
): Promise<NodeUpgraded[]> {
  const done: NodeUpgraded[] = [];
  const via = () => managerFor(sessions, state);
  for (const [index, node] of plan.order.entries()) {
    state.busy = node.id;
    const started = Date.now();
    const at = `${node.hostname} (${index + 1}/${plan.order.length})`;
    let step: UpgradeStepName = node.steps[0]!;
    try {
      record.current = node.id;
      await writeUpgradeRecord(via(), record);
      const upgraded = await upgradeNode(node, sessions, inventory, via, record, options, ports, {
        ...events,
        step: (message) => events.step(`${at}: ${message}`),
        at: (name) => {
          step = name;
          events.step(`${at}: ${describeUpgradeStep(name, node, options.action, options.reboot)}`);
        },
      });
      record.done.add(node.id);
      record.current = undefined;
      await writeUpgradeRecord(via(), record);
      done.push({ ...upgraded, seconds: (Date.now() - started) / 1000 });
    } catch (error) {
      throw stopped(node, step, error, [...plan.skipped, ...done.map((d) => d.node)], record.demoted === node.id);
    }
  }
  state.busy = undefined;
  await clearUpgradeRecord(via());
  return done;
}

async function upgradeNode(
  node: NodeUpgrade,
  sessions: NodeSession[],
  inventory: Inventory,
  via: () => NodeSession,
  record: UpgradeRecord,
  options: UpgradeOptions,
  ports: UpgradePorts,
  events: NodeOpEvents & { at(step: UpgradeStepName): void },
): Promise<Omit<NodeUpgraded, 'seconds'>> {
  const view = async () => (await readSwarmNodes(via())).find((n) => n.id === node.id) ?? gone(node);
  let session = sessionOf(sessions, node);
  const entry = inventory.findNode(session.node.hostname)!;
  const before = session.facts.docker;
  let rebooted = false;
  for (const step of node.steps) {
    events.at(step);
    if (step === 'demote') {
      // The demotion's warning about an even manager count says what is true only until the promotion back.
      await demoteNode(via(), await view(), { ...events, warn: () => undefined }, 'another manager leads while it is upgraded');
      record.demoted = node.id;
      await writeUpgradeRecord(via(), record);
    } else if (step === 'drain') {
      await settled(via(), options.bootTimeoutMs);
      await drainNode(via(), sessions, await view(), { force: false, surge: options.surge, timeoutMs: options.drainTimeoutMs, dryRun: false }, ports, events);
    } else if (step === 'run') {
      await session.run(`run the upgrade (${options.action})`, options.script, undefined, options.actionTimeoutMs);
    } else if (step === 'reboot') {
      rebooted = options.reboot === 'always' || (await session.run('ask whether a reboot is needed', '[ -f /var/run/reboot-required ] && echo yes || echo no')).stdout.trim() === 'yes';
      if (rebooted) await reboot(session, options, ports.pollMs ?? 500);
      else events.step('no reboot needed');
    } else if (step === 'wait') {
      if (rebooted) {
        session = await comeBack(entry, sessions, session, options.bootTimeoutMs, ports);
      }
      // A manager must be back in Raft before the next one goes: two out at once would lose quorum.
      await waitForNode(via(), await view(), (n) => n.state === 'ready' && (n.role !== 'manager' || n.reachable === true), 'ready in the swarm', options.bootTimeoutMs);
    } else if (step === 'check') {
      const failed = (await ports.check(entry)).filter((c) => c.status === 'fail');
      if (failed.length > 0) throw new PiswarmError(`${node.hostname} came back with ${failed.map((c) => `${c.id}: ${c.found}`).join('; ')}`, { hint: failed[0]!.fix });
    } else if (step === 'activate') {
      await activateNode(via(), await view());
    } else if (step === 'promote') {
      await promoteNode(via(), await view(), events, 'it leads no more, but manages again');
      record.demoted = undefined;
    }
  }
  return { node: node.hostname, role: node.role, docker: { before, after: session.facts.docker }, rebooted };
}

/**
 * A new leader (after a demotion or a manager's reboot) marks every node "unknown" until it hears
 * from it again; the drain's plan needs to see where tasks can go, so it waits for that.
 */
async function settled(manager: NodeSession, timeoutMs: number): Promise<void> {
  await waitForSwarm(manager, (nodes) => nodes.every((n) => n.state !== 'unknown'), (nodes) => `The managers still do not know the state of ${nodes.filter((n) => n.state === 'unknown').map((n) => n.hostname).join(', ')} after ${timeoutMs / 1000} s.`, timeoutMs);
}

function sessionOf(sessions: readonly NodeSession[], node: NodeUpgrade): NodeSession {
  const session = sessions.find((s) => s.swarmNodeId === node.id);
  if (!session) throw new PiswarmError(`${node.hostname} is a swarm node piswarm has no SSH session to.`, { hint: 'Add it to the inventory (`piswarm discover --save`), or leave it out with --only.' });
  return session;
}

/** Tells the node to reboot, then waits until its SSH connection drops (so a fresh one is the node after its boot). */
async function reboot(session: NodeSession, options: UpgradeOptions, pollMs: number): Promise<void> {
  await session.run('reboot', REBOOT_SCRIPT);
  const limitMs = Math.min(options.bootTimeoutMs, 180_000);
  const deadline = Date.now() + limitMs;
  while (!session.lost) {
    if (Date.now() >= deadline) throw new PiswarmError(`${session.node.hostname} was told to reboot, but its SSH connection stayed up for ${limitMs / 1000} s.`, { hint: 'Reboot it by hand (or check that `sudo reboot` works there), then run the same upgrade again.' });
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** A fresh session once the node's engine answers again; it replaces the old one in `sessions`. */
async function comeBack(entry: InventoryNode, sessions: NodeSession[], old: NodeSession, timeoutMs: number, ports: UpgradePorts): Promise<NodeSession> {
  const deadline = Date.now() + timeoutMs;
  let last: Error | undefined;
  while (Date.now() < deadline) {
    try {
      const fresh = await ports.reconnect(entry);
      // An engine that has just started may still be rejoining: back means back in the swarm.
      if (fresh.facts.swarm.state !== 'manager' && fresh.facts.swarm.state !== 'worker') {
        fresh.close();
        throw new Error(`its engine is ${fresh.facts.swarm.state} in the swarm`);
      }
      old.close();
      sessions.splice(sessions.indexOf(old), 1, fresh);
      return fresh;
    } catch (error) {
      last = error as Error;
      await new Promise((resolve) => setTimeout(resolve, ports.pollMs ?? 2000));
    }
  }
  throw new PiswarmError(`${entry.hostname} did not come back within ${timeoutMs / 1000} s of its reboot (${last?.message ?? 'no answer'}).`, { hint: 'Power? Cable? Once it answers (`piswarm doctor --only NODE`), run the same upgrade again: it resumes there.' });
}

function gone(node: NodeUpgrade): never {
  throw new PiswarmError(`${node.hostname} is no longer a swarm node.`, { hint: 'See `piswarm node ls`.' });
}

/** Where the upgrade stopped, what was done, and that the same command resumes it. */
function stopped(node: NodeUpgrade, step: UpgradeStepName, error: unknown, done: readonly string[], demoted: boolean): PiswarmError {
  const said = (error as Error).message;
  const drained = ['run', 'reboot', 'wait', 'check', 'activate', 'promote'].includes(step);
  const worker = demoted ? ', a worker until the rerun promotes it back' : '';
  const state = drained ? `${node.hostname} is left drained${worker}` : `${node.hostname} was not changed further${worker}`;
  return new PiswarmError(`Upgrade stopped at ${node.hostname}, step "${step}": ${said}`, {
    hint: `${state}. ${done.length ? `Done: ${done.join(', ')}. ` : ''}Once it is fixed, run the same command again: it resumes at ${node.hostname}.${(error as { hint?: string }).hint ? ` (${(error as { hint?: string }).hint})` : ''}`,
    exitCode: error instanceof ConnectionLostError ? error.exitCode : undefined,
    cause: error,
  });
}
