import type { TaskState } from '../../core/convergence.js';
import { assessDrain, planDrain, type DrainPlan, type DrainProgress } from '../../core/drain-plan.js';
import type { ImagePlatform, SwarmNodeView } from '../../core/placement.js';
import { SURGE_LABEL, type ServiceSpecView } from '../../core/swarm-objects.js';
import { PiswarmError } from '../../errors.js';
import type { NodeSession } from './node-session.js';
import { scaleServices } from './scale-services.js';
import { readServices } from './service-state.js';
import { readSwarmNodes } from './swarm-nodes.js';
import { watchSwarm } from './watch-swarm.js';

export interface DrainOptions {
  /** Drain even when some tasks fit on no other node (they stay pending). */
  force: boolean;
  /** Scale services whose every task is on the node up first, so they never stop serving. */
  surge: boolean;
  timeoutMs: number;
  dryRun: boolean;
}

export interface NodeOpEvents {
  /** A step about to be taken, and why. */
  step(message: string): void;
  warn(message: string): void;
  progress?(state: DrainProgress): void;
}

export interface DrainResult {
  plan: DrainPlan;
  surged: string[];
  seconds: number;
}

/**
 * A drain that loses no service: the plan is checked first (every replicated task must fit on
 * another node), services whose every task is on the node are scaled up first with `surge`
 * (the node paused so the extra tasks land elsewhere), then the node is drained and followed
 * until every task it had runs on other nodes and none is left on it.
 */
export async function drainNode(
  manager: NodeSession,
  nodes: readonly NodeSession[],
  target: SwarmNodeView,
  options: DrainOptions,
  ports: { fetchPlatforms(image: string): Promise<ImagePlatform[]> },
  events: NodeOpEvents,
): Promise<DrainResult> {
  const [{ services, tasks }, swarmNodes] = await Promise.all([readServices(manager, 'all'), readSwarmNodes(manager)]);
  const platforms = await platformsWhereNeeded(target, swarmNodes, services, tasks, ports, events);
  const plan = planDrain(target, swarmNodes, services, tasks, platforms);
  if (plan.blocked.length > 0) {
    const lines = plan.blocked.map((b) => `  ${b.service}: ${b.tasks} task(s) fit on no other node (${b.reason})`);
    const message = `Draining ${target.hostname} would leave tasks with nowhere to run:\n${lines.join('\n')}`;
    if (!options.force) throw new PiswarmError(message, { hint: 'Nothing was changed. Make room (activate a node, lower a reservation), scale those services down, or drain anyway with --force (their tasks wait, pending).' });
    events.warn(`${message}\n  --force: draining anyway; those tasks wait, pending, until a node can take them.`);
  }
  for (const warning of plan.warnings) events.warn(warning);
  const alone = plan.alone.filter((a) => !plan.blocked.some((b) => b.service === a.service));
  if (!options.surge) {
    for (const a of alone) events.warn(`${a.service} has all its ${a.tasks} task(s) on ${target.hostname}: it serves nothing until the replacements start. --surge starts them first.`);
  }
  // A surge records the replicas it started from on the service, so a drain of this node cut short
  // (a lost connection) is finished by the next one: it counts from them and scales back to them.
  const before = (name: string, replicas: number) => services.find((s) => s.name === name && s.surge?.nodeId === target.id)?.surge?.replicas ?? replicas;
  const surge = (options.surge ? alone : []).map((a) => ({ ...a, replicas: before(a.service, a.replicas) }));
  const leftOver = services.filter((s) => s.surge?.nodeId === target.id && !surge.some((a) => a.service === s.name)).map((s) => ({ service: s.name, replicas: s.surge!.replicas }));
  for (const l of leftOver) events.warn(`${l.service} was left scaled up by a drain of ${target.hostname} cut short: it goes back to ${l.replicas} once ${target.hostname} is drained.`);
  if (options.dryRun) return { plan, surged: surge.map((a) => a.service), seconds: 0 };

  const started = Date.now();
  if (surge.length > 0) {
    events.step(`pause ${target.hostname}: no new task lands on it while ${surge.map((a) => a.service).join(', ')} scale up`);
    await manager.engine(`pause ${target.hostname}`, (api) => api.updateNode(target.id, { availability: 'pause' }));
    events.step(`scale ${surge.map((a) => `${a.service} to ${a.replicas + a.tasks}`).join(', ')}: so they keep running while ${target.hostname} drains`);
    const up = surge.map((a) => ({ name: a.service, replicas: a.replicas + a.tasks, labels: { [SURGE_LABEL]: `${target.id}:${a.replicas}` } }));
    await scaleServices(manager, nodes, up, { timeoutMs: options.timeoutMs, windowMs: 0, failLimit: 3 }, { progress: () => undefined });
  }

  events.step(`drain ${target.hostname}: ${describeMoves(plan)}`);
  await manager.engine(`drain ${target.hostname}`, (api) => api.updateNode(target.id, { availability: 'drain' }));
  const affected = [...new Set([...plan.moves.map((m) => m.service), ...plan.blocked.map((b) => b.service)])];
  const stranded = new Map(plan.blocked.map((b) => [b.service, b.tasks]));
  if (affected.length > 0) {
    let saidDown = false;
    const { state, done } = await watchSwarm(nodes, options.timeoutMs, async () => {
      const [now, swarmNodes] = await Promise.all([readServices(manager, { names: affected }), readSwarmNodes(manager)]);
      // A node that died during its drain is waited for no longer once the managers see it down.
      const nodeDown = swarmNodes.find((n) => n.id === target.id)?.state === 'down';
      if (nodeDown && !saidDown) {
        saidDown = true;
        events.warn(`${target.hostname} is down: its tasks cannot say they stopped, so they are not waited for (they stop for good when it comes back, drained).`);
      }
      const state = assessDrain(target.id, now.services, now.tasks, { since: started, stranded, nodeDown });
      events.progress?.(state);
      if (state.failure) {
        throw new PiswarmError(`${state.failure.service} cannot start elsewhere: ${state.failure.error}`, { hint: `piswarm node activate ${target.hostname} lets the scheduler use the node again.` });
      }
      return { state, done: state.done };
    });
    if (!done) {
      const behind = state.services.filter((s) => s.runningElsewhere < s.expected || s.leftOnNode > 0).map((s) => `${s.name} ${s.runningElsewhere}/${s.expected} elsewhere, ${s.leftOnNode} still on the node`);
      throw new PiswarmError(`${target.hostname} is drained but its tasks did not all move within ${options.timeoutMs / 1000} s: ${behind.join(', ')}.`, {
        hint: `See \`docker service ps NAME\` on a manager; piswarm node activate ${target.hostname} puts it back in use.`,
      });
    }
  }
  const seconds = (Date.now() - started) / 1000;
  const back = [...surge, ...leftOver];
  if (back.length > 0) {
    events.step(`scale ${back.map((a) => `${a.service} back to ${a.replicas}`).join(', ')}: every task now runs elsewhere`);
    const down = back.map((a) => ({ name: a.service, replicas: a.replicas, labels: { [SURGE_LABEL]: null } }));
    await scaleServices(manager, nodes, down, { timeoutMs: options.timeoutMs, windowMs: 0, failLimit: 3 }, { progress: () => undefined });
  }
  return { plan, surged: surge.map((a) => a.service), seconds };
}

function describeMoves(plan: DrainPlan): string {
  if (plan.moves.length === 0) return 'it runs no replicated task, so nothing moves';
  return `${plan.moves.map((m) => `${m.tasks} ${m.service} task(s) move to ${m.to.join(', ')}`).join('; ')}`;
}

/**
 * Image platforms, read from the registry only for services whose tasks would move to a node of
 * another architecture than the drained one: on a one-architecture swarm, no registry is asked.
 */
async function platformsWhereNeeded(
  target: SwarmNodeView,
  swarmNodes: readonly SwarmNodeView[],
  services: readonly ServiceSpecView[],
  tasks: readonly TaskState[],
  ports: { fetchPlatforms(image: string): Promise<ImagePlatform[]> },
  events: Pick<NodeOpEvents, 'warn'>,
): Promise<Map<string, ImagePlatform[]>> {
  const platforms = new Map<string, ImagePlatform[]>();
  if (swarmNodes.every((n) => n.arch === target.arch)) return platforms;
  const onNode = new Set(tasks.filter((t) => t.nodeId === target.id && t.desiredState === 'running').map((t) => t.serviceId));
  const images = [...new Set(services.filter((s) => onNode.has(s.id) && s.mode === 'replicated').map((s) => s.image))];
  await Promise.all(
    images.map(async (image) => {
      try {
        platforms.set(image, await ports.fetchPlatforms(image));
      } catch (error) {
        events.warn(`Could not read the platforms of ${image} (${(error as Error).message}); its tasks may move to a node of another architecture unchecked.`);
      }
    }),
  );
  return platforms;
}

/** Lets the scheduler use a drained or paused node again; false when it already was active. */
export async function activateNode(manager: NodeSession, target: SwarmNodeView): Promise<boolean> {
  if (target.availability === 'active') return false;
  await manager.engine(`activate ${target.hostname}`, (api) => api.updateNode(target.id, { availability: 'active' }));
  return true;
}
