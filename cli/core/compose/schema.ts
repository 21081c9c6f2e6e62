/**
 * Which keys Docker's compose schema (docker/cli, file versions 3.0 to 3.13) allows where, and
 * from which version: a key Docker would refuse is refused here first, before anything is sent
 * or created. Only the keys; value types are checked where piswarm reads them.
 */
const LATEST_VERSION = '3.13';
/** The version piswarm writes when a file has none: HypriotOS 1.12's Docker 19.03 reads up to 3.8. */
export const DEFAULT_SENT_VERSION = '3.8';

/** A key, and the minor version of 3.x that brought it (0 when 3.0 had it). */
type Keys = Record<string, number>;

const SERVICE: Keys = {
  deploy: 0, build: 0, cap_add: 0, cap_drop: 0, cgroup_parent: 0, command: 0, container_name: 0, depends_on: 0, devices: 0, dns: 0, dns_search: 0, domainname: 0,
  entrypoint: 0, env_file: 0, environment: 0, expose: 0, external_links: 0, extra_hosts: 0, healthcheck: 0, hostname: 0, image: 0, ipc: 0, labels: 0, links: 0, logging: 0,
  mac_address: 0, network_mode: 0, networks: 0, pid: 0, ports: 0, privileged: 0, read_only: 0, restart: 0, security_opt: 0, shm_size: 0, sysctls: 0, stdin_open: 0,
  stop_grace_period: 0, stop_signal: 0, tmpfs: 0, tty: 0, ulimits: 0, user: 0, userns_mode: 0, volumes: 0, working_dir: 0,
  secrets: 1, configs: 3, credential_spec: 3, isolation: 5, init: 7,
};
const DEPLOY: Keys = { mode: 0, replicas: 0, labels: 0, update_config: 0, resources: 0, restart_policy: 0, placement: 0, endpoint_mode: 3, rollback_config: 7 };
const UPDATE: Keys = { parallelism: 0, delay: 0, failure_action: 0, monitor: 0, max_failure_ratio: 0, order: 4 };
const PLACEMENT: Keys = { constraints: 0, preferences: 3, max_replicas_per_node: 8 };
const HEALTHCHECK: Keys = { disable: 0, interval: 0, retries: 0, test: 0, timeout: 0, start_period: 4 };
const RESOURCES: Keys = { limits: 0, reservations: 0 };
const RESTART: Keys = { condition: 0, delay: 0, max_attempts: 0, window: 0 };
const LOGGING: Keys = { driver: 0, options: 0 };
const TOP: Keys = { version: 0, services: 0, networks: 0, volumes: 0, secrets: 1, configs: 3 };
const NETWORK: Keys = { driver: 0, driver_opts: 0, ipam: 0, external: 0, internal: 0, labels: 0, attachable: 2, name: 5 };
const VOLUME: Keys = { driver: 0, driver_opts: 0, external: 0, labels: 0, name: 4 };
const OBJECT: Keys = { file: 0, external: 0, labels: 0, name: 5, template_driver: 8, driver: 5, driver_opts: 5 };

/** Compose v2 keys that v3 dropped: Docker says "Configuration contains forbidden properties". */
export const FORBIDDEN_V2 = new Set(['extends', 'volumes_from', 'cpu_shares', 'cpu_quota', 'cpuset', 'mem_limit', 'memswap_limit']);

/** Keys of service that swarm ignores: `docker stack deploy` warns "Ignoring unsupported options", and deploys. */
export const IGNORED_BY_SWARM: Record<string, string> = {
  build: 'swarm nodes pull images; piswarm images build builds and pushes them',
  cap_add: 'Docker 20.10 swarm services cannot add capabilities',
  cap_drop: 'Docker 20.10 swarm services cannot drop capabilities',
  cgroup_parent: 'not set on swarm tasks',
  devices: 'swarm services cannot map devices (a Pi GPIO or USB device needs a plain container)',
  external_links: 'swarm services find each other by name on a shared network',
  links: 'swarm services find each other by service name on a shared network',
  network_mode: 'swarm services use `networks:`',
  privileged: 'swarm services cannot run privileged',
  restart: 'swarm restarts tasks by deploy.restart_policy',
  security_opt: 'not applied to swarm tasks',
  userns_mode: 'not applied to swarm tasks',
  ipc: 'not applied to swarm tasks',
  shm_size: 'not applied to swarm tasks',
  domainname: 'not applied to swarm tasks',
  mac_address: 'not applied to swarm tasks',
  pid: 'not applied to swarm tasks',
  container_name: 'swarm names its containers itself (a service has many)',
  expose: 'services on one network reach each other on any port',
};

/** Where each map of known keys applies, by path pattern (`*` any one key). */
const KEYS_AT: ReadonlyArray<[string[], Keys]> = [
  [[], TOP],
  [['services', '*'], SERVICE],
  [['services', '*', 'deploy'], DEPLOY],
  [['services', '*', 'deploy', 'update_config'], UPDATE],
  [['services', '*', 'deploy', 'rollback_config'], UPDATE],
  [['services', '*', 'deploy', 'placement'], PLACEMENT],
  [['services', '*', 'deploy', 'resources'], RESOURCES],
  [['services', '*', 'deploy', 'restart_policy'], RESTART],
  [['services', '*', 'healthcheck'], HEALTHCHECK],
  [['services', '*', 'logging'], LOGGING],
  [['networks', '*'], NETWORK],
  [['volumes', '*'], VOLUME],
  [['secrets', '*'], OBJECT],
  [['configs', '*'], OBJECT],
];

/** The minor version of a "3.x" file version, or undefined when Docker does not support it. */
export function minorVersion(version: string): number | undefined {
  if (version === '3') return Number(LATEST_VERSION.split('.')[1]);
  const match = /^3\.(\d+)$/.exec(version);
  if (!match) return undefined;
  const minor = Number(match[1]);
  return minor <= Number(LATEST_VERSION.split('.')[1]) ? minor : undefined;
}

/** The keys allowed at `path` in a file of this minor version (undefined: any key). */
export function keysAllowedAt(path: readonly string[]): Keys | undefined {
  return KEYS_AT.find(([pattern]) => pattern.length === path.length && pattern.every((p, i) => p === '*' || p === path[i]))?.[1];
}

/** Docker turns these string values into numbers or booleans after substitution (and only then). */
export const CAST_AFTER_SUBSTITUTION: ReadonlyArray<[string[], 'int' | 'float' | 'bool']> = [
  [['services', '*', 'configs', '[]', 'mode'], 'int'],
  [['services', '*', 'secrets', '[]', 'mode'], 'int'],
  [['services', '*', 'healthcheck', 'retries'], 'int'],
  [['services', '*', 'healthcheck', 'disable'], 'bool'],
  [['services', '*', 'deploy', 'replicas'], 'int'],
  [['services', '*', 'deploy', 'update_config', 'parallelism'], 'int'],
  [['services', '*', 'deploy', 'update_config', 'max_failure_ratio'], 'float'],
  [['services', '*', 'deploy', 'rollback_config', 'parallelism'], 'int'],
  [['services', '*', 'deploy', 'rollback_config', 'max_failure_ratio'], 'float'],
  [['services', '*', 'deploy', 'restart_policy', 'max_attempts'], 'int'],
  [['services', '*', 'deploy', 'placement', 'max_replicas_per_node'], 'int'],
  [['services', '*', 'ports', '[]', 'target'], 'int'],
  [['services', '*', 'ports', '[]', 'published'], 'int'],
  [['services', '*', 'ulimits', '*'], 'int'],
  [['services', '*', 'ulimits', '*', 'hard'], 'int'],
  [['services', '*', 'ulimits', '*', 'soft'], 'int'],
  [['services', '*', 'privileged'], 'bool'],
  [['services', '*', 'read_only'], 'bool'],
  [['services', '*', 'stdin_open'], 'bool'],
  [['services', '*', 'tty'], 'bool'],
  [['services', '*', 'volumes', '[]', 'read_only'], 'bool'],
  [['services', '*', 'volumes', '[]', 'volume', 'nocopy'], 'bool'],
  [['networks', '*', 'external'], 'bool'],
  [['networks', '*', 'internal'], 'bool'],
  [['networks', '*', 'attachable'], 'bool'],
  [['volumes', '*', 'external'], 'bool'],
  [['secrets', '*', 'external'], 'bool'],
  [['configs', '*', 'external'], 'bool'],
];
