import { normaliseMac } from './mac-address.js';
import type { EngineInfo } from './swarm-api.js';

/** What piswarm learns about a Pi when it logs in: the operating system's facts from one command, the engine's from one API call. */
export interface NodeFacts {
  hostname: string;
  /** /proc/device-tree/model, e.g. "Raspberry Pi 4 Model B Rev 1.4"; absent off a Pi. */
  model?: string;
  arch: string;
  os?: string;
  /** The MAC of the interface the SSH session arrived on (the node's LAN identity). */
  mac?: string;
  /** Whether that address is a DHCP lease (it may change; a manager's must not). */
  dhcp?: boolean;
  /** The Docker engine's version; absent when Docker is missing or not running. */
  docker?: string;
  swarm: SwarmMembership;
}

export type SwarmMembership =
  | { state: 'none' }
  | { state: 'pending' | 'error' | 'locked' }
  | { state: 'manager'; clusterId: string; nodeId: string }
  | { state: 'worker'; nodeId: string; managers: string[] };

/** The facts of the operating system, read by NODE_FACTS_SCRIPT. */
export type OsFacts = Omit<NodeFacts, 'docker' | 'swarm'>;

/**
 * One line per fact, `key=value`, so a missing tool (no device tree, no ip) only blanks its own
 * line. Docker is not asked here: its facts come from the engine itself.
 */
export const NODE_FACTS_SCRIPT = [
  `printf 'hostname=%s\\n' "$(hostname)"`,
  `printf 'model=%s\\n' "$(tr -d '\\000' < /proc/device-tree/model 2>/dev/null)"`,
  `printf 'arch=%s\\n' "$(uname -m)"`,
  `printf 'os=%s\\n' "$( (. /etc/os-release && echo "$PRETTY_NAME") 2>/dev/null)"`,
  // The MAC of the interface this SSH session came in on (SSH_CONNECTION is "client-ip client-port server-ip server-port").
  `srv=$(echo "$SSH_CONNECTION" | cut -d' ' -f3); addr=$(ip -o -4 addr show 2>/dev/null | awk -v a="$srv" '{ split($4, p, "/"); if (p[1] == a) print }' | head -1)`,
  `ifc=$(echo "$addr" | awk '{ print $2 }')`,
  // DHCP clients give their addresses a lease lifetime, which ip shows as "dynamic".
  `case "$addr" in *" dynamic "*) echo dhcp=yes ;; *) echo dhcp=no ;; esac`,
  // From ip, not /sys/class/net: sysfs shows the namespace that mounted it, ip the one we are in.
  `printf 'mac=%s\\n' "$(ip -o link show "$ifc" 2>/dev/null | sed -n 's|.*link/ether \\([0-9a-f:]*\\).*|\\1|p')"`,
].join('\n');

export function parseNodeFacts(output: string): OsFacts {
  const facts = new Map<string, string>();
  for (const line of output.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) facts.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  const value = (key: string) => facts.get(key) || undefined;
  return {
    hostname: value('hostname') ?? '',
    model: value('model'),
    arch: value('arch') ?? '',
    os: value('os'),
    mac: normaliseMac(value('mac') ?? ''),
    dhcp: value('dhcp') === undefined ? undefined : value('dhcp') === 'yes',
  };
}

/** The operating system's facts with the engine's; no engine (Docker missing or not running) is no Docker and no swarm. */
export function withEngine(os: OsFacts, engine: EngineInfo | undefined): NodeFacts {
  return { ...os, docker: engine?.serverVersion, swarm: engine?.swarm ?? { state: 'none' } };
}

/** "manager (4f2kq0c5b1xz)" with the cluster ID, "worker (10.0.0.11:2377)" with its managers, or the state. */
export function describeSwarm(swarm: SwarmMembership): string {
  if (swarm.state === 'manager') return `manager (${swarm.clusterId.slice(0, 12)})`;
  if (swarm.state === 'worker') return `worker (${swarm.managers.join(', ') || 'no manager known'})`;
  return swarm.state;
}
