type Json = Record<string, unknown>;

/**
 * Merges compose files as `docker stack deploy -c A -c B` does (docker/cli's loader merges its
 * typed services with mergo, append-slice and override, plus special cases). Services: maps merge
 * key by key; a later scalar wins unless it is Docker's "empty" (""/0/false/null), except the
 * counters Docker keeps as pointers (replicas, …), where any value wins; lists are appended,
 * except ports (by the whole port), secrets and configs (by source) and volumes (by target), which
 * merge by key and sort, command and entrypoint (replaced when not empty), network aliases
 * (replaced), and logging (options merged while the driver is the same). Top-level networks,
 * volumes, secrets and configs are replaced entry by entry.
 */
export function mergeFiles(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (key === 'services') out.services = mergeServices((base.services ?? {}) as Json, (value ?? {}) as Json);
    else if (['networks', 'volumes', 'secrets', 'configs'].includes(key)) out[key] = { ...((base[key] as Json) ?? {}), ...((value as Json) ?? {}) };
    else if (value !== undefined) out[key] = value;
  }
  return out;
}

function mergeServices(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [name, service] of Object.entries(over)) {
    out[name] = name in base && isMap(base[name]) && isMap(service) ? mergeValue(base[name], service, []) : service;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Counters Docker holds as *uint64: a 0 in a later file still wins. */
const POINTERS = new Set(['deploy.replicas', 'healthcheck.retries', 'deploy.update_config.parallelism', 'deploy.rollback_config.parallelism', 'deploy.restart_policy.max_attempts']);
/** Lists Docker merges by a key (the same key in a later file replaces the entry), then sorts. */
const bySource = { key: (s: Json) => String(s.source), sort: (s: Json) => String(s.source) };
const byTarget = { key: volumeTarget, sort: volumeTarget };
const KEYED: Record<string, { key: (item: Json) => string; sort: (item: Json) => string | number }> = {
  ports: { key: (p) => JSON.stringify([p.mode ?? 'ingress', p.target, p.published ?? 0, p.protocol ?? 'tcp']), sort: (p) => Number(p.published ?? 0) },
  secrets: bySource,
  configs: bySource,
  volumes: byTarget,
};

function mergeValue(base: unknown, over: unknown, path: string[]): unknown {
  const at = path.join('.');
  if (over === undefined) return base;
  if (path.length === 1 && (at === 'command' || at === 'entrypoint')) return isEmpty(over) ? base : over;
  if (at === 'logging' && isMap(base) && isMap(over)) return mergeLogging(base, over);
  if (path.length === 2 && path[0] === 'networks') return mergeNetwork(base, over);
  if (Array.isArray(base) && Array.isArray(over)) {
    if (path.length === 1 && KEYED[at]) return mergeKeyed(base as Json[], over as Json[], at);
    return [...base, ...over];
  }
  if (isMap(base) && isMap(over)) {
    const out: Json = { ...base };
    for (const [key, value] of Object.entries(over)) out[key] = key in base ? mergeValue(base[key], value, [...path, key]) : value;
    return out;
  }
  if (POINTERS.has(at)) return over === null ? base : over;
  return isEmpty(over) ? base : over;
}

function mergeKeyed(base: Json[], over: Json[], field: string): Json[] {
  const { key, sort } = KEYED[field]!;
  const byKey = new Map<string, Json>();
  for (const item of [...base, ...over]) byKey.set(key(item), item);
  return [...byKey.values()].sort((a, b) => {
    const [x, y] = [sort(a), sort(b)];
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

function mergeLogging(base: Json, over: Json): Json {
  const [from, to] = [base.driver ?? '', over.driver ?? ''];
  if (from !== to && from !== '' && to !== '') return over;
  return { ...base, ...(to !== '' ? { driver: to } : {}), options: { ...((base.options as Json) ?? {}), ...((over.options as Json) ?? {}) } };
}

/** A service's network entry: a later one replaces the aliases, and the addresses it gives. */
function mergeNetwork(base: unknown, over: unknown): unknown {
  if (!isMap(over)) return base === undefined ? over : base;
  if (!isMap(base)) return over;
  const out: Json = { ...base, aliases: over.aliases };
  if (over.aliases === undefined) delete out.aliases;
  for (const key of ['ipv4_address', 'ipv6_address']) if (over[key]) out[key] = over[key];
  return out;
}

/** A volume's target, as Docker splits the short form: a leading drive letter ("d:/data") is part of a path. */
function volumeTarget(volume: unknown): string {
  if (isMap(volume)) return String(volume.target ?? '');
  const parts: string[] = [];
  for (let rest = String(volume); ; ) {
    const at = rest.indexOf(':', /^[a-zA-Z]:[\\/]/.test(rest) ? 2 : 0);
    if (at < 0) {
      parts.push(rest);
      break;
    }
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  return parts.length === 1 ? parts[0]! : parts[1]!;
}

function isEmpty(value: unknown): boolean {
  return value === null || value === '' || value === 0 || value === false || (Array.isArray(value) && value.length === 0);
}

function isMap(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
