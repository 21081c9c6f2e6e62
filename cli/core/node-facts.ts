import { normaliseMac } from './mac-address.js';
import { REMOTE_HELPERS } from './remote-shell.js';

/** What `discover --login` learns about a Pi from one SSH command. */
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

/**
 * One line per fact, `key=value`, so a missing tool (no Docker, no device tree) only blanks its own
 * line. Go templates guard against the fields a worker or a non-swarm node does not have.
 */
export const NODE_FACTS_SCRIPT = [
  REMOTE_HELPERS,
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
  // One docker call for all engine facts: "version|state|control|node|cluster|managers".
  `printf 'engine=%s\\n' "$(dk info --format '{{.ServerVersion}}|{{.Swarm.LocalNodeState}}|{{.Swarm.ControlAvailable}}|{{.Swarm.NodeID}}|{{if .Swarm.Cluster}}{{.Swarm.Cluster.ID}}{{end}}|{{range .Swarm.RemoteManagers}}{{.Addr}} {{end}}' 2>/dev/null)"`,
].join('\n');

export function parseNodeFacts(output: string): NodeFacts {
  const facts = new Map<string, string>();
  for (const line of output.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) facts.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  const value = (key: string) => facts.get(key) || undefined;
  const engine = (value('engine') ?? '').split('|');
  return {
    hostname: value('hostname') ?? '',
    model: value('model'),
    arch: value('arch') ?? '',
    os: value('os'),
    mac: normaliseMac(value('mac') ?? ''),
    dhcp: value('dhcp') === undefined ? undefined : value('dhcp') === 'yes',
    docker: engine[0] || undefined,
    swarm: parseSwarm(engine.slice(1)),
  };
}

function parseSwarm([state, control, nodeId, clusterId, managers]: string[]): SwarmMembership {
  if (state === 'active') {
    if (control === 'true') return { state: 'manager', clusterId: clusterId ?? '', nodeId: nodeId ?? '' };
    return { state: 'worker', nodeId: nodeId ?? '', managers: (managers ?? '').split(' ').filter(Boolean) };
  }
  if (state === 'pending' || state === 'error' || state === 'locked') return { state };
  return { state: 'none' };
}

/** "manager (4f2kq0c5b1xz)" with the cluster ID, "worker (10.0.0.11:2377)" with its managers, or the state. */
export function describeSwarm(swarm: SwarmMembership): string {
  if (swarm.state === 'manager') return `manager (${swarm.clusterId.slice(0, 12)})`;
  if (swarm.state === 'worker') return `worker (${swarm.managers.join(', ') || 'no manager known'})`;
  return swarm.state;
}
