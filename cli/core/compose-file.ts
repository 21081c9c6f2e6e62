import { isMap, isScalar, isSeq, LineCounter, parse, parseDocument, stringify, visit, type Document } from 'yaml';
import { ComposeError, type FileProblem } from '../errors.js';
import { lineOf } from './yaml-location.js';

export type ServiceMode = 'replicated' | 'global' | 'replicated-job' | 'global-job';

/** What piswarm needs to know of a service before and while deploying it. */
export interface ComposeService {
  name: string;
  image: string;
  mode: ServiceMode;
  /** Replicas (or completions, for a replicated job); 1 when not given, as Docker does. */
  replicas: number;
  constraints: string[];
}

export interface ComposeStack {
  /** The merged, interpolated file, as sent to the manager. */
  text: string;
  services: ComposeService[];
  /** Secrets and configs the file reads from local files, which the manager cannot see. */
  fileObjects: FileObject[];
  /** Secrets and configs the file expects to exist in the swarm already (`external: true`). */
  externalObjects: Array<{ kind: 'secret' | 'config'; name: string }>;
}

/** A `secrets:` or `configs:` entry with `file:`, its path relative to the first compose file. */
export interface FileObject {
  kind: 'secret' | 'config';
  key: string;
  file: string;
}

/** Keys Docker ignores or refuses in swarm mode: deploying with them would not do what the file says. */
const NOT_IN_SWARM: Record<string, string> = {
  build: 'swarm nodes pull images, they do not build them: build and push it, then give `image:` (piswarm images build)',
  links: 'swarm services find each other by service name on a shared network; remove it',
  pid: 'not supported by swarm services',
  container_name: 'swarm names containers itself (a service has many); remove it',
  network_mode: 'not supported by swarm services; use `networks:`',
};
const ROOT_KEYS = new Set(['version', 'name', 'services', 'networks', 'volumes', 'secrets', 'configs']);
const MODES = new Set<ServiceMode>(['replicated', 'global', 'replicated-job', 'global-job']);
const CONSTRAINT = /^(node\.(id|hostname|role|platform\.os|platform\.arch|labels\.[\w.-]+)|engine\.labels\.[\w.-]+)\s*(==|!=)\s*\S+$/;
const VARIABLE = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/**
 * Reads compose files the way `docker stack deploy -c A -c B` would: variables interpolated from
 * `env` (an undefined one without a default is an error), later files merged over earlier ones
 * (maps merged, lists replaced), then checked for what swarm cannot deploy. Every problem names
 * its file, line and field; nothing is sent anywhere before this passes.
 */
export function loadCompose(files: ReadonlyArray<{ path: string; text: string }>, env: Readonly<Record<string, string | undefined>>): ComposeStack {
  let merged: Record<string, unknown> = {};
  const where = new Map<string, { path: string; line?: number }>();
  for (const file of files) {
    const counter = new LineCounter();
    const doc = parseDocument(file.text, { lineCounter: counter, prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length > 0) {
      throw new ComposeError(file.path, doc.errors.map((e) => ({ line: e.linePos?.[0].line, field: '', message: e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '') })));
    }
    // An unset variable leaves an empty value behind: report the variable, not what it emptied.
    const unset = interpolate(doc, counter, env);
    const problems = (unset.length > 0 ? unset : checkStructure(doc, counter)).sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    if (problems.length > 0) throw new ComposeError(file.path, problems);
    const data = (doc.toJS() ?? {}) as Record<string, unknown>;
    for (const name of Object.keys((data.services as object) ?? {})) {
      if (!where.has(name)) where.set(name, { path: file.path, line: lineOf(doc, counter, ['services', name]) });
    }
    merged = mergeMaps(merged, data);
  }
  const services = Object.entries((merged.services as Record<string, Record<string, unknown>>) ?? {}).map(([name, raw]) => toService(name, raw, where.get(name)!));
  if (services.length === 0) throw new ComposeError(files[0]?.path ?? 'compose file', [{ field: 'services', message: 'no services to deploy' }]);
  return { text: stringify(merged, { lineWidth: 0 }), services, fileObjects: objectsOf(merged, (key, def) => (typeof def.file === 'string' ? { key, file: def.file } : undefined)), externalObjects: objectsOf(merged, (key, def) => (def.external === true ? { name: typeof def.name === 'string' ? def.name : key } : undefined)) };
}

const OBJECT_KINDS = [
  ['secrets', 'secret'],
  ['configs', 'config'],
] as const;

/** The top-level secrets and configs that `pick` selects, each with its kind. */
function objectsOf<T>(data: Record<string, unknown>, pick: (key: string, def: Record<string, unknown>) => T | undefined): Array<T & { kind: 'secret' | 'config' }> {
  return OBJECT_KINDS.flatMap(([section, kind]) =>
    Object.entries((data[section] as Record<string, Record<string, unknown> | null>) ?? {}).flatMap(([key, def]) => {
      const picked = def ? pick(key, def) : undefined;
      return picked ? [{ ...picked, kind }] : [];
    }),
  );
}

/**
 * The stack as sent: each file-based secret or config replaced by the external one piswarm
 * created from the file's content (its name carries a hash of the content, so a changed file is
 * a new object and the services using it roll over to it).
 */
export function withExternalObjects(stack: ComposeStack, names: ReadonlyMap<string, string>): string {
  const data = parse(stack.text) as Record<string, Record<string, unknown>>;
  for (const object of stack.fileObjects) {
    const section = object.kind === 'secret' ? 'secrets' : 'configs';
    data[section]![object.key] = { external: true, name: names.get(`${object.kind}:${object.key}`) };
  }
  return stringify(data, { lineWidth: 0 });
}

/** The stack name Docker would use for a file: its base name without extension, in lower case. */
export function stackNameOf(path: string): string {
  const base = path.split('/').pop()!.replace(/\.(ya?ml)$/i, '').replace(/^docker-compose\.?/, '');
  return base.toLowerCase().replace(/[^a-z0-9_-]/g, '-').replace(/^[-_]+/, '') || 'stack';
}

function interpolate(doc: Document, counter: LineCounter, env: Readonly<Record<string, string | undefined>>): FileProblem[] {
  const problems: FileProblem[] = [];
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value !== 'string' || !node.value.includes('$')) return;
      const line = node.range ? counter.linePos(node.range[0]).line : undefined;
      const onlyVariable = /^\$\{[^}]+\}$/.test(node.value);
      const result = node.value.replace(VARIABLE, (whole, braced: string | undefined, op: string | undefined, arg: string | undefined, bare: string | undefined) => {
        if (whole === '$$') return '$';
        const name = braced ?? bare!;
        const value = env[name];
        const unset = value === undefined || (op?.startsWith(':') && value === '');
        if (op?.endsWith('-')) return unset ? (arg ?? '') : value!;
        if (op?.endsWith('?')) {
          if (unset) problems.push({ line, field: '', message: `\${${name}} is required: ${arg || 'set it in the environment'}` });
          return value ?? '';
        }
        if (value === undefined) problems.push({ line, field: '', message: `\${${name}} is not set, and has no default (write \${${name}:-default})` });
        return value ?? '';
      });
      // As in Docker's compose loader, a value that is just a variable may fill a number field.
      node.value = onlyVariable && /^\d+$/.test(result) ? Number(result) : result;
    },
  });
  return problems;
}

function checkStructure(doc: Document, counter: LineCounter): FileProblem[] {
  const problems: FileProblem[] = [];
  const at = (path: string[], message: string) => problems.push({ line: lineOf(doc, counter, path), field: path.join('.'), message });
  const root = doc.contents;
  if (root === null || root === undefined) return problems;
  if (!isMap(root)) return [{ line: 1, field: '', message: 'a compose file is a map with `services:` at the top' }];
  for (const pair of root.items) {
    const key = String(isScalar(pair.key) ? pair.key.value : pair.key);
    if (!ROOT_KEYS.has(key) && !key.startsWith('x-')) at([key], `unknown top-level key (expected ${[...ROOT_KEYS].join(', ')} or x-…)`);
  }
  const services = root.get('services', true);
  if (services === undefined) return problems;
  if (!isMap(services)) return [...problems, { line: lineOf(doc, counter, ['services']), field: 'services', message: 'must be a map of service names to services' }];
  for (const pair of services.items) {
    const name = String(isScalar(pair.key) ? pair.key.value : pair.key);
    const service = pair.value;
    if (!isMap(service)) {
      at(['services', name], 'must be a map (image:, deploy:, …)');
      continue;
    }
    const js = service.toJSON() as Record<string, unknown>;
    for (const [key, why] of Object.entries(NOT_IN_SWARM)) if (key in js) at(['services', name, key], why);
    if ('image' in js && (typeof js.image !== 'string' || js.image.trim() === '')) at(['services', name, 'image'], 'must be an image reference such as registry/name:tag');
    const deploy = js.deploy as Record<string, unknown> | undefined;
    if (deploy !== undefined) {
      const path = ['services', name, 'deploy'];
      if (deploy.mode !== undefined && !MODES.has(deploy.mode as ServiceMode)) at([...path, 'mode'], `must be one of ${[...MODES].join(', ')}`);
      if (deploy.replicas !== undefined && !(Number.isInteger(deploy.replicas) && (deploy.replicas as number) >= 0)) at([...path, 'replicas'], 'must be a whole number (0 or more)');
      const placement = deploy.placement as Record<string, unknown> | undefined;
      const constraints = placement?.constraints;
      if (constraints !== undefined) {
        if (!Array.isArray(constraints)) at([...path, 'placement', 'constraints'], 'must be a list such as ["node.role==manager"]');
        else for (const c of constraints) if (typeof c !== 'string' || !CONSTRAINT.test(c.trim())) at([...path, 'placement', 'constraints'], `"${String(c)}" is not a placement constraint (e.g. node.role==worker, node.labels.rabbitmq==true)`);
      }
    }
    const ports = service.get('ports', true);
    if (ports !== undefined) {
      if (!isSeq(ports)) at(['services', name, 'ports'], 'must be a list');
      else for (const port of ports.toJSON() as unknown[]) checkPort(port, (message) => at(['services', name, 'ports'], message));
    }
  }
  return problems;
}

function checkPort(port: unknown, report: (message: string) => void): void {
  if (typeof port === 'string' || typeof port === 'number') {
    if (!/^(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/.test(String(port))) report(`"${port}" is not a port mapping such as "8080:80" or "53/udp"`);
    return;
  }
  if (typeof port !== 'object' || port === null) return report('each port is "PUBLISHED:TARGET" or a map with target:');
  const p = port as Record<string, unknown>;
  if (!Number.isInteger(p.target)) report('a port map needs target: (the container port, a number)');
  if (p.mode !== undefined && p.mode !== 'ingress' && p.mode !== 'host') report(`port mode must be ingress or host, got "${String(p.mode)}"`);
}

function toService(name: string, raw: Record<string, unknown>, where: { path: string; line?: number }): ComposeService {
  if (typeof raw.image !== 'string') throw new ComposeError(where.path, [{ line: where.line, field: `services.${name}.image`, message: 'is missing: swarm runs images, so every service needs one' }]);
  const deploy = (raw.deploy ?? {}) as { mode?: ServiceMode; replicas?: number; placement?: { constraints?: string[] } };
  return {
    name,
    image: raw.image,
    mode: deploy.mode ?? 'replicated',
    replicas: deploy.replicas ?? 1,
    constraints: (deploy.placement?.constraints ?? []).map((c) => c.trim()),
  };
}

function mergeMaps(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? mergeMaps(current, value) : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
