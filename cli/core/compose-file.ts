import { createHash } from 'node:crypto';
import { isMap, isScalar, LineCounter, type Document } from 'yaml';
import { ComposeError, type FileProblem } from '../errors.js';
import { parseGoYaml, stringifyGoYaml } from './compose/go-yaml.js';
import { interpolateDocument } from './compose/interpolate.js';
import { mergeFiles } from './compose/merge.js';
import { normalizeService, type Normalized } from './compose/normalize.js';
import { DEFAULT_SENT_VERSION, FORBIDDEN_V2, IGNORED_BY_SWARM, keysAllowedAt, minorVersion } from './compose/schema.js';
import { escapeDollars } from './compose/template.js';
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
  /** The merged, interpolated file as sent to the manager: every `$` escaped, nothing left to resolve. */
  text: string;
  services: ComposeService[];
  /** Secrets and configs the file reads from local files, which the manager cannot see. */
  fileObjects: FileObject[];
  /** Secrets and configs the file expects to exist in the swarm already (`external: true`). */
  externalObjects: Array<{ kind: 'secret' | 'config'; name: string }>;
  /** What Docker would warn about and deploy anyway (options swarm ignores, …), with file:line. */
  warnings: string[];
  /** The merged services as the manager will read them back (variables substituted, nothing escaped). */
  resolved: Record<string, Record<string, unknown>>;
}

/** A `secrets:` or `configs:` entry with `file:`, its path relative to the first compose file. */
export interface FileObject {
  kind: 'secret' | 'config';
  key: string;
  file: string;
}

export interface ComposeOptions {
  /** Reads an env_file as a service names it (relative to the first file); none: env_file is refused. */
  readEnvFile?: (file: string) => string;
}

const MODES = new Set<ServiceMode>(['replicated', 'global', 'replicated-job', 'global-job']);
const CONSTRAINT = /^(node\.(id|hostname|role|platform\.os|platform\.arch|labels\.[\w.-]+)|engine\.labels\.[\w.-]+)\s*(==|!=)\s*\S.*$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

/**
 * Reads compose files the way `docker stack deploy -c A -c B` does: YAML as Docker's Go YAML
 * reads it, variables substituted once per file, env_file read in, files merged as Docker merges
 * them, and checked against what Docker refuses (refused here, before anything is created) and
 * what it ignores (warned). Every problem names its file, line and field.
 */
export function loadCompose(files: ReadonlyArray<{ path: string; text: string }>, env: Readonly<Record<string, string | undefined>>, options: ComposeOptions = {}): ComposeStack {
  const { readEnvFile = noEnvFiles } = options;
  const lookup = (name: string) => env[name];
  let merged: Record<string, unknown> = {};
  let version: string | undefined;
  const warnings: string[] = [];
  const where = new Map<string, { path: string; line?: number }>();
  for (const file of files) {
    const counter = new LineCounter();
    const doc = parseGoYaml(file.text, { lineCounter: counter, prettyErrors: true });
    if (doc.errors.length > 0) {
      throw new ComposeError(file.path, doc.errors.map((e) => ({ line: e.linePos?.[0].line, field: '', message: e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '') })));
    }
    const fileVersion = readVersion(doc, counter, file.path);
    // Docker compares the versions it reads, a missing one being the latest (3.13).
    if (file !== files[0] && minorVersion(fileVersion ?? '3') !== minorVersion(version ?? '3')) {
      throw new ComposeError(file.path, [{ line: lineOf(doc, counter, ['version']), field: 'version', message: `is ${fileVersion ?? 'not given (3.13)'}, but ${files[0]!.path} has ${version ?? 'none (3.13)'}: Docker refuses files of different versions together` }]);
    }
    if (file === files[0]) version = fileVersion;
    const unset = interpolateDocument(doc, counter, lookup);
    const problems = (unset.length > 0 ? unset : checkStructure(doc, counter, minorVersion(fileVersion ?? '3') ?? 0, file.path, warnings)).sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    if (problems.length > 0) throw new ComposeError(file.path, problems);
    const data = (doc.toJS() ?? {}) as Record<string, unknown>;
    const out: Normalized = { warnings: [], problems: [] };
    const services = (data.services ?? {}) as Record<string, Record<string, unknown>>;
    for (const [name, service] of Object.entries(services)) {
      if (!where.has(name)) where.set(name, { path: file.path, line: lineOf(doc, counter, ['services', name]) });
      services[name] = normalizeService(name, service ?? {}, lookup, readEnvFile, out);
    }
    warnings.push(...out.warnings.map((w) => `${file.path}: ${w}`));
    if (out.problems.length > 0) throw new ComposeError(file.path, out.problems);
    merged = mergeFiles(merged, data);
  }
  const services = Object.entries((merged.services as Record<string, Record<string, unknown>>) ?? {}).map(([name, raw]) => toService(name, raw, where.get(name)!));
  if (services.length === 0) throw new ComposeError(files[0]?.path ?? 'compose file', [{ field: 'services', message: 'no services to deploy' }]);
  const fileObjects = objectsOf(merged, (key, def) => (typeof def.file === 'string' ? { key, file: def.file } : undefined));
  // Objects piswarm rewrites as {external, name} need 3.5; a file without a version gets one the manager reads.
  const sent = { ...merged, version: sentVersion(version, fileObjects.length > 0) };
  return {
    text: stringifyGoYaml(escapeAll(sent)),
    services,
    fileObjects,
    externalObjects: objectsOf(merged, (key, def) => (def.external === true ? { name: typeof def.name === 'string' ? def.name : key } : undefined)),
    warnings,
    resolved: (merged.services ?? {}) as Record<string, Record<string, unknown>>,
  };
}

const noEnvFiles = (file: string): string => {
  throw new ComposeError(file, [{ field: 'env_file', message: 'cannot be read here: give the file on the command line' }]);
};

function readVersion(doc: Document, counter: LineCounter, path: string): string | undefined {
  const node = isMap(doc.contents) ? doc.contents.get('version', true) : undefined;
  if (node === undefined) return undefined;
  const line = lineOf(doc, counter, ['version']);
  if (!isScalar(node) || typeof node.value !== 'string') throw new ComposeError(path, [{ line, field: 'version', message: 'must be a string: write version: "3.8"' }]);
  if (minorVersion(node.value) === undefined) throw new ComposeError(path, [{ line, field: 'version', message: `${node.value} is not a version Docker deploys as a stack (3.0 to 3.13)` }]);
  return node.value;
}

function sentVersion(version: string | undefined, rewritesObjects: boolean): string {
  if (version === undefined) return DEFAULT_SENT_VERSION; // 3.8: above the 3.5 that rewritten objects need
  return rewritesObjects && minorVersion(version)! < 5 ? '3.5' : version;
}

/** Every string value escaped, so the manager's own substitution gives back exactly this text. */
function escapeAll(value: unknown): unknown {
  if (typeof value === 'string') return escapeDollars(value);
  if (Array.isArray(value)) return value.map(escapeAll);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeAll(v)]));
  return value;
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
 * a new object and the services using it roll over to it). `template_driver` is kept.
 */
export function withExternalObjects(stack: ComposeStack, names: ReadonlyMap<string, string>): string {
  const data = parseGoYaml(stack.text).toJS() as Record<string, Record<string, Record<string, unknown>>>;
  for (const object of stack.fileObjects) {
    const section = object.kind === 'secret' ? 'secrets' : 'configs';
    const { template_driver } = data[section]![object.key]!;
    data[section]![object.key] = { external: true, name: escapeDollars(names.get(`${object.kind}:${object.key}`)!), ...(template_driver ? { template_driver } : {}) };
  }
  return stringifyGoYaml(data);
}

/** The swarm name of a secret or config made from a file: stack, key and a hash of the content. */
function objectName(stackName: string, key: string, content: string): string {
  return `${stackName}_${key}_${createHash('sha256').update(content).digest('hex').slice(0, 10)}`;
}

export interface NamedFileObject extends FileObject {
  name: string;
  content: string;
}

/** Every file-based secret and config with its content and swarm name; every file is read before anything uses one. */
export async function nameFileObjects(stack: ComposeStack, stackName: string, readFile: (file: string) => Promise<string>): Promise<NamedFileObject[]> {
  const contents = await Promise.all(stack.fileObjects.map((object) => readFile(object.file)));
  return stack.fileObjects.map((object, i) => ({ ...object, content: contents[i]!, name: objectName(stackName, object.key, contents[i]!) }));
}

/** withExternalObjects' map, from named objects. */
export function objectNames(objects: readonly NamedFileObject[]): Map<string, string> {
  return new Map(objects.map((o) => [`${o.kind}:${o.key}`, o.name]));
}

/** The stack name Docker would use for a file: its base name without extension, in lower case. */
export function stackNameOf(path: string): string {
  const base = path.split('/').pop()!.replace(/\.(ya?ml)$/i, '').replace(/^docker-compose\.?/, '');
  return base.toLowerCase().replace(/[^a-z0-9_-]/g, '-').replace(/^[-_]+/, '') || 'stack';
}

function checkStructure(doc: Document, counter: LineCounter, minor: number, file: string, warnings: string[]): FileProblem[] {
  const problems: FileProblem[] = [];
  const at = (path: string[], message: string) => problems.push({ line: lineOf(doc, counter, path), field: path.join('.'), message });
  const root = doc.contents;
  if (root === null || root === undefined) return problems;
  if (!isMap(root)) return [{ line: 1, field: '', message: 'a compose file is a map with `services:` at the top' }];
  const data = doc.toJS() as Record<string, unknown>;
  checkKeys(data, [], minor, at);
  const services = data.services;
  if (services === undefined || services === null) return problems;
  if (typeof services !== 'object' || Array.isArray(services)) return [...problems, { line: lineOf(doc, counter, ['services']), field: 'services', message: 'must be a map of service names to services' }];
  for (const [name, service] of Object.entries(services as Record<string, unknown>)) {
    if (typeof service !== 'object' || service === null || Array.isArray(service)) {
      at(['services', name], 'must be a map (image:, deploy:, …)');
      continue;
    }
    const js = service as Record<string, unknown>;
    for (const [key, why] of Object.entries(IGNORED_BY_SWARM)) {
      if (key in js) warnings.push(`${file}:${lineOf(doc, counter, ['services', name, key]) ?? '?'}: services.${name}.${key} is ignored by swarm (${why}); Docker deploys without it`);
    }
    if ('image' in js && (typeof js.image !== 'string' || js.image.trim() === '')) at(['services', name, 'image'], 'must be an image reference such as registry/name:tag');
    else if (typeof js.image === 'string') checkImage(js.image, (message) => at(['services', name, 'image'], message));
    if (js.depends_on !== undefined && !Array.isArray(js.depends_on)) at(['services', name, 'depends_on'], 'must be a list of service names (Docker stacks take no conditions)');
    const deploy = js.deploy as Record<string, unknown> | undefined;
    if (deploy) {
      const path = ['services', name, 'deploy'];
      if (deploy.mode !== undefined && !MODES.has(deploy.mode as ServiceMode)) at([...path, 'mode'], `must be one of ${[...MODES].join(', ')}`);
      if (deploy.replicas !== undefined && !(Number.isInteger(deploy.replicas) && (deploy.replicas as number) >= 0)) at([...path, 'replicas'], 'must be a whole number (0 or more)');
      const constraints = (deploy.placement as Record<string, unknown> | undefined)?.constraints;
      if (constraints !== undefined) {
        if (!Array.isArray(constraints)) at([...path, 'placement', 'constraints'], 'must be a list such as ["node.role==manager"]');
        else for (const c of constraints) if (typeof c !== 'string' || !CONSTRAINT.test(c.trim())) at([...path, 'placement', 'constraints'], `"${String(c)}" is not a placement constraint (e.g. node.role==worker, node.labels.rabbitmq==true)`);
      }
    }
    if (js.ports !== undefined && !Array.isArray(js.ports)) at(['services', name, 'ports'], 'must be a list');
    else for (const port of (js.ports as unknown[] | undefined) ?? []) checkPortMap(port, (message) => at(['services', name, 'ports'], message));
  }
  return problems;
}

/** Keys Docker's schema does not allow at this place in this file version. */
function checkKeys(value: unknown, path: string[], minor: number, at: (path: string[], message: string) => void): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
  const allowed = keysAllowedAt(path);
  for (const [key, child] of Object.entries(value)) {
    if (allowed && !key.startsWith('x-')) {
      if (path.length === 2 && path[0] === 'services' && FORBIDDEN_V2.has(key)) at([...path, key], 'is a compose v2 key that stack files (v3) do not have; Docker refuses it ("forbidden properties")');
      else if (!(key in allowed)) at([...path, key], `is not a key Docker allows here${path.length === 0 ? ' (version, services, networks, volumes, secrets, configs or x-…)' : ''}`);
      else if (allowed[key]! > minor) at([...path, key], `needs file version 3.${allowed[key]} or later (this file is 3.${minor})`);
    }
    if (allowed || path.length === 1) checkKeys(child, [...path, key], minor, at);
  }
}

function checkImage(image: string, report: (message: string) => void): void {
  const [reference] = image.split('@');
  const tagAt = reference!.lastIndexOf(':');
  const hasTag = tagAt > reference!.lastIndexOf('/');
  if (hasTag && !/^[\w][\w.-]{0,127}$/.test(reference!.slice(tagAt + 1))) return report(`"${image}" has no valid tag after ":" (Docker refuses it when it deploys): give one, e.g. :1 or :latest`);
  const parts = (hasTag ? reference!.slice(0, tagAt) : reference!).split('/');
  const domain = parts.length > 1 && /[.:]|^localhost$/.test(parts[0]!) ? parts.shift() : undefined;
  if (parts.some((p) => !PATH_COMPONENT.test(p))) report(`"${image}" is not an image reference Docker accepts: the repository${domain ? ` after ${domain}` : ''} must be lower case (letters, digits, . _ -)`);
}

function checkPortMap(port: unknown, report: (message: string) => void): void {
  if (typeof port !== 'object' || port === null) return; // short forms are parsed when normalised
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
