import { nameFileObjects, type ComposeStack } from '../../core/compose-file.js';
import { composeFacts, planStack, type ServicePlan } from '../../core/stack-plan.js';
import type { NodeSession } from '../swarm/node-session.js';
import { readServices } from '../swarm/service-state.js';
import { readSwarmNodes } from '../swarm/swarm-nodes.js';
import type { DeployPorts } from './deploy-stack.js';
import { preflight } from './preflight.js';

export interface DeployPlan {
  stack: string;
  services: ServicePlan[];
  /** Secrets and configs made from files: created when the swarm does not have that content yet. */
  objects: Array<{ kind: 'secret' | 'config'; key: string; name: string; create: boolean }>;
  /** External secrets and configs the swarm lacks: a deploy would stop on them. */
  missing: string[];
  warnings: string[];
  images: Array<{ image: string; verdict: string }>;
}

/**
 * What `stack deploy` would do, with every check it makes (placement, architectures) and nothing
 * changed: each service created, updated (and how), left unchanged, or removed (--prune), and the
 * secrets and configs it would create. `stack deploy --dry-run` and `stack diff` print it.
 */
export async function planDeploy(manager: NodeSession, stack: ComposeStack, name: string, options: { prune: boolean; skipArchCheck: boolean }, ports: DeployPorts): Promise<DeployPlan> {
  const checked = await preflight(stack, await readSwarmNodes(manager), { skipArchCheck: options.skipArchCheck, inspectImage: ports.inspectImage });
  const { services } = await readServices(manager, { stack: name });
  const current = new Map(services.map((s) => [s.name.startsWith(`${name}_`) ? s.name.slice(name.length + 1) : s.name, s.facts]));
  const desired = new Map(Object.entries(stack.resolved).map(([service, raw]) => [service, composeFacts(raw, checked.digests)]));

  const made = await nameFileObjects(stack, name, ports.readFile);
  const absent = new Set<string>();
  for (const kind of ['secret', 'config'] as const) {
    const names = [...made.filter((o) => o.kind === kind).map((o) => o.name), ...stack.externalObjects.filter((o) => o.kind === kind).map((o) => o.name)];
    if (names.length === 0) continue;
    const existing = await manager.engine(`check the ${kind}s`, (api) => api.existingObjects(kind, names));
    for (const missing of names.filter((n) => !existing.has(n))) absent.add(`${kind}:${missing}`);
  }
  return {
    stack: name,
    services: planStack(desired, current, options.prune),
    objects: made.map((o) => ({ kind: o.kind, key: o.key, name: o.name, create: absent.has(`${o.kind}:${o.name}`) })),
    missing: stack.externalObjects.filter((o) => absent.has(`${o.kind}:${o.name}`)).map((o) => `${o.kind} ${o.name}`),
    warnings: checked.warnings,
    images: checked.images,
  };
}
