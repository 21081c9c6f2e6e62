import type { Lookup } from './template.js';

type Json = Record<string, unknown>;
export interface Normalized {
  warnings: string[];
  problems: Array<{ field: string; message: string }>;
}

/**
 * One service of one file in the shape Docker gives it when it loads the file, for the fields
 * whose merging depends on that shape: environment (with env_file read in and variables without
 * a value taken from the environment, as Docker does), labels, sysctls, ports, secrets, configs,
 * networks and the string-or-list fields.
 */
export function normalizeService(name: string, service: Json, lookup: Lookup, readEnvFile: (file: string) => string, out: Normalized): Json {
  const s: Json = { ...service };
  const field = (key: string) => `services.${name}.${key}`;
  for (const key of ['dns', 'dns_search', 'tmpfs', 'env_file']) if (typeof s[key] === 'string') s[key] = [s[key]];

  if (s.environment !== undefined || s.env_file !== undefined) {
    const environment: Record<string, string | null> = {};
    for (const file of (s.env_file as string[] | undefined) ?? []) {
      for (const [key, value] of Object.entries(parseEnvFile(readEnvFile(file), file, out))) {
        const resolved = value ?? lookup(key);
        if (resolved !== undefined) environment[key] = resolved;
      }
    }
    const own = s.environment === undefined ? {} : toMap(s.environment, field('environment'), out, null);
    for (const [key, value] of Object.entries(own)) environment[key] = value ?? lookup(key) ?? null;
    s.environment = environment;
    delete s.env_file; // read in here: the manager has no such file
  }
  if (s.labels !== undefined) s.labels = toMap(s.labels, field('labels'), out, '');
  if (s.sysctls !== undefined) s.sysctls = toMap(s.sysctls, field('sysctls'), out, '');
  const deploy = s.deploy as Json | undefined;
  if (deploy?.labels !== undefined) s.deploy = { ...deploy, labels: toMap(deploy.labels, field('deploy.labels'), out, '') };
  if (Array.isArray(s.ports)) s.ports = s.ports.flatMap((port) => normalizePort(port, field('ports'), out));
  for (const key of ['secrets', 'configs']) if (Array.isArray(s[key])) s[key] = (s[key] as unknown[]).map((item) => (typeof item === 'string' ? { source: item } : item));
  if (Array.isArray(s.networks)) s.networks = Object.fromEntries((s.networks as string[]).map((n) => [n, null]));
  return s;
}

/** A list (`KEY=value`, or `KEY` alone) or map, as a map; numbers become strings, as Docker stores them. */
function toMap(value: unknown, field: string, out: Normalized, bare: string | null): Record<string, string | null> {
  const map: Record<string, string | null> = {};
  if (Array.isArray(value)) {
    for (const item of value) {
      const text = String(item);
      const at = text.indexOf('=');
      if (at < 0) map[text] = bare;
      else map[text.slice(0, at)] = text.slice(at + 1);
    }
    return map;
  }
  if (value === null || typeof value !== 'object') {
    out.problems.push({ field, message: 'must be a list of KEY=value or a map' });
    return map;
  }
  for (const [key, item] of Object.entries(value as Json)) {
    if (typeof item === 'boolean' || (typeof item === 'object' && item !== null)) out.problems.push({ field: `${field}.${key}`, message: 'must be a string, number or null (quote true/false)' });
    else map[key] = item === null ? bare : String(item);
  }
  return map;
}

/** Docker's env_file format: KEY=VALUE lines taken as they are (no quotes removed), # comments, KEY alone from the environment. */
function parseEnvFile(text: string, file: string, out: Normalized): Record<string, string | undefined> {
  const vars: Record<string, string | undefined> = {};
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) continue;
    const at = line.indexOf('=');
    const key = at < 0 ? line : line.slice(0, at);
    if (/\s/.test(key) || key === '') {
      out.problems.push({ field: `env_file ${file}:${i + 1}`, message: `variable '${key}' contains whitespaces` });
      continue;
    }
    vars[key] = at < 0 ? undefined : line.slice(at + 1);
  }
  return vars;
}

const PORT = /^(?:(?:(\[[0-9a-fA-F:.]+\]|\d{1,3}(?:\.\d{1,3}){3}):)?(\d*)(?:-(\d+))?:)?(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/;

/** A port in Docker's long form; the short form "[IP:][PUBLISHED[-END]:]TARGET[-END][/PROTOCOL]" can stand for several. */
function normalizePort(port: unknown, field: string, out: Normalized): unknown[] {
  if (typeof port === 'object' && port !== null) return [port];
  const match = PORT.exec(String(port));
  if (!match) {
    out.problems.push({ field, message: `"${String(port)}" is not a port mapping such as "8080:80" or "53/udp"` });
    return [];
  }
  const [, ip, published, publishedEnd, target, targetEnd, protocol = 'tcp'] = match;
  if (ip) out.warnings.push(`${field}: the address in "${String(port)}" is ignored by swarm services: the port is published on every address`);
  const targets = range(Number(target), targetEnd ? Number(targetEnd) : Number(target));
  const publishedPorts = published ? range(Number(published), publishedEnd ? Number(publishedEnd) : Number(published)) : [];
  if (publishedPorts.length > 0 && publishedPorts.length !== targets.length) {
    out.problems.push({ field, message: `"${String(port)}": the published and target ranges differ in length` });
    return [];
  }
  return targets.map((t, i) => ({ mode: 'ingress', target: t, ...(publishedPorts.length > 0 ? { published: publishedPorts[i] } : {}), protocol }));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}
