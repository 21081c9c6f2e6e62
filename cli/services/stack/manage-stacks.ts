import type { SwarmObjectKind } from '../../core/swarm-api.js';
import type { NodeSession } from '../swarm/node-session.js';

/** The label `docker stack deploy` puts on everything of a stack. */
const NAMESPACE = 'com.docker.stack.namespace';

/** The stacks of the swarm and how many services each has, by name (what `docker stack ls` shows). */
export async function listStacks(manager: NodeSession): Promise<Array<{ name: string; services: number }>> {
  const services = await manager.engine('list the stacks', (api) => api.services());
  const counts = new Map<string, number>();
  for (const s of services) {
    const stack = s.Spec?.Labels?.[NAMESPACE] as string | undefined;
    if (stack) counts.set(stack, (counts.get(stack) ?? 0) + 1);
  }
  return [...counts].map(([name, count]) => ({ name, services: count })).sort((a, b) => a.name.localeCompare(b.name));
}

export interface StackTaskRow {
  /** SERVICE.SLOT, or SERVICE.NODE-ID for a global service, as Docker names tasks. */
  name: string;
  node: string;
  desired: string;
  /** The state and how long ago it was reached, e.g. "running 2 minutes ago". */
  current: string;
  error?: string;
  image: string;
}

/** A stack's tasks, history included, each service's slots in order and the newest first. */
export async function stackTasks(manager: NodeSession, stack: string, now = Date.now()): Promise<StackTaskRow[]> {
  const [services, tasks, nodes] = await manager.engine(`list the tasks of ${stack}`, (api) => Promise.all([api.services(), api.tasks(), api.nodes()]));
  const names = new Map(services.filter((s) => s.Spec?.Labels?.[NAMESPACE] === stack).map((s) => [s.ID as string, s.Spec.Name as string]));
  const hostnames = new Map(nodes.map((n) => [n.ID as string, (n.Description?.Hostname as string | undefined) ?? n.ID]));
  return tasks
    .filter((t) => names.has(t.ServiceID))
    .map((t) => ({ t, at: Date.parse(t.Status?.Timestamp ?? '') || 0 }))
    .sort((a, b) => names.get(a.t.ServiceID)!.localeCompare(names.get(b.t.ServiceID)!) || (a.t.Slot ?? 0) - (b.t.Slot ?? 0) || b.at - a.at)
    .map(({ t, at }) => ({
      name: `${names.get(t.ServiceID)}.${t.Slot ?? t.NodeID}`,
      node: hostnames.get(t.NodeID) ?? '-',
      desired: t.DesiredState,
      current: `${t.Status?.State ?? 'unknown'} ${ago(now - at)}`,
      ...(t.Status?.Err ? { error: t.Status.Err as string } : {}),
      image: String(t.Spec?.ContainerSpec?.Image ?? '').replace(/@sha256:[0-9a-f]+$/, ''),
    }));
}

/** How long a network may stay in use by tasks still stopping before its removal counts as failed. */
const NETWORK_WAIT_MS = 20_000;

/**
 * Removes a stack as `docker stack rm` does: its services, secrets and configs, then its
 * networks once their tasks have let go of them. Returns what it removed; empty when the swarm
 * had nothing of that stack.
 */
export async function removeStack(manager: NodeSession, stack: string): Promise<string[]> {
  const removed: string[] = [];
  const label = `${NAMESPACE}=${stack}`;
  for (const kind of ['service', 'secret', 'config', 'network'] as const satisfies readonly SwarmObjectKind[]) {
    const objects = await manager.engine(`list the ${kind}s of ${stack}`, (api) => api.labelled(kind, label));
    for (const object of objects) {
      const gone = await manager.engine(`remove the ${kind} ${object.name}`, (api) => (kind === 'network' ? removeWhenFree(() => api.remove(kind, object.id)) : api.remove(kind, object.id)));
      if (gone) removed.push(`${kind} ${object.name}`);
    }
  }
  return removed;
}

/** Networks are refused while tasks of the removed services still stop: try again for a while. */
async function removeWhenFree(remove: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + NETWORK_WAIT_MS;
  for (;;) {
    try {
      return await remove();
    } catch (error) {
      if (Date.now() > deadline || !/active endpoints|in use/i.test((error as Error).message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} seconds ago`;
  if (s < 3600) return `${Math.round(s / 60)} minutes ago`;
  return `${Math.round(s / 3600)} hours ago`;
}
