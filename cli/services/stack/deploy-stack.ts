import type { ImageFacts } from '../../core/placement.js';
import { nameFileObjects, objectNames, withExternalObjects, type ComposeStack } from '../../core/compose-file.js';
import { SOURCE_LABEL } from '../../core/backup-content.js';
import { pinImages } from '../../core/compose/pin-images.js';
import { assessConvergence, type Convergence } from '../../core/convergence.js';
import { hasDeployDetach, stackDeployScript } from '../../core/stack-scripts.js';
import { PiswarmError } from '../../errors.js';
import type { NodeSession } from '../swarm/node-session.js';
import { preflight } from './preflight.js';
import { readSwarmNodes } from '../swarm/swarm-nodes.js';
import { readStackState } from './swarm-state.js';
import { watchSwarm } from '../swarm/watch-swarm.js';

export interface DeployOptions {
  name: string;
  timeoutMs: number;
  /** How long every task must have been running (and healthy) to count. */
  windowMs: number;
  /** Failed tasks of one service after which the deploy is declared failed. */
  failLimit: number;
  skipArchCheck: boolean;
  /** Remove the stack's services the file no longer has. */
  prune: boolean;
}

export interface DeployPorts {
  inspectImage: (image: string) => Promise<ImageFacts>;
  /** Reads a secret's or config's file, as the compose file names it. */
  readFile: (path: string) => Promise<string>;
  /** The absolute path of such a file, recorded on the secret so a backup can take its content from it. */
  sourceOf?: (path: string) => string;
}

export interface DeployEvents {
  warn(message: string): void;
  /** A step about to be taken on the swarm (the one before it is complete). */
  step?(message: string): void;
  /** The engine accepted the stack (its own output: services created or updated). */
  deployed(output: string): void;
  progress(state: Convergence): void;
}

export interface DeployResult {
  name: string;
  seconds: number;
  services: Convergence['services'];
}

/**
 * Checks, deploys and follows a stack to convergence. The manager's `docker stack deploy` turns
 * the compose file into services (the official translation, so files behave as users expect);
 * piswarm then follows it with watchSwarm until every service converged, one failed, or the
 * time is up.
 */
export async function deployStack(manager: NodeSession, nodes: readonly NodeSession[], stack: ComposeStack, options: DeployOptions, ports: DeployPorts, events: DeployEvents): Promise<DeployResult> {
  const swarmNodes = await readSwarmNodes(manager);
  const checked = await preflight(stack, swarmNodes, { skipArchCheck: options.skipArchCheck, inspectImage: ports.inspectImage });
  for (const warning of checked.warnings) events.warn(warning);
  const nodeName = (id: string | undefined) => swarmNodes.find((n) => n.id === id)?.hostname;
  await checkExternalObjects(manager, stack);
  if (stack.fileObjects.length > 0) events.step?.(`create the secrets and configs of ${options.name}`);
  const text = pinImages(await createFileObjects(manager, stack, options.name, ports), checked.digests);

  const started = Date.now();
  events.step?.(`deploy stack ${options.name}`);
  const deployed = await manager.run(`deploy stack ${options.name}`, stackDeployScript(options.name, { prune: options.prune, detach: hasDeployDetach(manager.apiVersion) }), text);
  events.deployed(deployed.stdout.trim());
  events.step?.(`follow ${options.name} until every service converged`);

  const { state, done } = await watchSwarm(nodes, options.timeoutMs, async () => {
    const { services, tasks } = await readStackState(manager, options.name, checked.globalDesired);
    const state = assessConvergence(services, tasks, { now: Date.now(), windowMs: options.windowMs, failLimit: options.failLimit, since: started, nodeName });
    events.progress(state);
    if (state.failure) {
      const { service, node, error } = state.failure;
      throw new PiswarmError(`Stack ${options.name} did not converge: ${service}${node ? ` on ${node}` : ''}: ${error}`, {
        hint: `See \`piswarm stack ps ${options.name}\`; fix the cause and deploy again (unchanged services are left running).`,
      });
    }
    return { state, done: state.converged, ...(state.recheckAt ? { recheckAt: state.recheckAt } : {}) };
  });
  if (done) return { name: options.name, seconds: (Date.now() - started) / 1000, services: state.services };
  const behind = state.services.filter((s) => !s.done).map((s) => `${s.name} ${s.stable}/${s.desired} running`);
  throw new PiswarmError(`Stack ${options.name} did not converge within ${options.timeoutMs / 1000} s: ${behind.join(', ')}.`, {
    hint: `See \`piswarm stack ps ${options.name}\`, or give it longer with --timeout.`,
  });
}

/**
 * Creates the stack's file-based secrets and configs on the manager (the content goes on stdin),
 * named after the stack, the key and a hash of the content, and returns the file to deploy with
 * them referenced as external objects.
 */
async function createFileObjects(manager: NodeSession, stack: ComposeStack, name: string, { readFile, sourceOf }: DeployPorts): Promise<string> {
  if (stack.fileObjects.length === 0) return stack.text;
  // Every file is read before any object is created: a missing one changes nothing.
  const objects = await nameFileObjects(stack, name, readFile);
  for (const kind of ['secret', 'config'] as const) {
    const wanted = objects.filter((o) => o.kind === kind);
    if (wanted.length === 0) continue;
    // Names carry a hash of the content: one that exists holds the same bytes.
    const existing = await manager.engine(`check the ${kind}s`, (api) => api.existingObjects(kind, wanted.map((o) => o.name)));
    for (const object of wanted.filter((o) => !existing.has(o.name))) {
      await manager.engine(`create the ${kind} ${object.key}`, (api) => {
        const source: Record<string, string> = kind === 'secret' && sourceOf ? { [SOURCE_LABEL]: sourceOf(object.file) } : {};
        return api.createObject(kind, object.name, object.content, { 'com.docker.stack.namespace': name, ...source });
      });
    }
  }
  return withExternalObjects(stack, objectNames(objects));
}

/** External secrets and configs must exist before the deploy: Docker would stop half-way otherwise. */
async function checkExternalObjects(manager: NodeSession, stack: ComposeStack): Promise<void> {
  const missing: string[] = [];
  for (const kind of ['secret', 'config'] as const) {
    const names = stack.externalObjects.filter((o) => o.kind === kind).map((o) => o.name);
    if (names.length === 0) continue;
    const existing = await manager.engine(`check the ${kind}s`, (api) => api.existingObjects(kind, names));
    missing.push(...names.filter((n) => !existing.has(n)).map((n) => `${kind} ${n}`));
  }
  if (missing.length > 0) {
    throw new PiswarmError(`The stack needs ${missing.join(', ')}, which the swarm does not have (external: true).`, {
      hint: 'Create it first (printf %s VALUE | docker secret create NAME - on a manager), or use `file:` and piswarm creates it from the file.',
    });
  }
}
