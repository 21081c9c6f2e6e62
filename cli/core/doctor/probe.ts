import { REMOTE_HELPERS } from '../remote-shell.js';
import { shq } from '../shell-quote.js';

/**
 * What doctor reads from a node's operating system, in one program run as root (one sudo): a
 * line `key=value` per fact, files base64-encoded on one line, so a missing tool (no vcgencmd off
 * a Pi, no timedatectl without systemd) only blanks its own line. Nothing here changes the node;
 * the vxlan probe creates an interface and deletes it at once, as Docker's overlay driver would.
 */
export interface NodeProbe {
  arch: string;
  /** The CPU can run 64-bit code (ARMv8 or x86-64), whatever the kernel is. */
  cpu64: boolean;
  model?: string;
  pageSize?: number;
  memTotalKb?: number;
  /** Whether the running kernel has the memory cgroup controller (what memory limits need). */
  memoryCgroup?: boolean;
  /** The boot partition's cmdline.txt files by path, as present. */
  cmdline: Record<string, string>;
  /** undefined when the probe could not be made; else '' for success or the kernel's words. */
  vxlan?: string;
  iptables: { version?: string; legacyRules?: number; nftRules?: number };
  disk?: { path: string; sizeKb: number; availKb: number };
  /** Mount options of the filesystems holding / and Docker's data. */
  rootOptions?: string;
  dataOptions?: string;
  daemonJson?: string;
  containerLogsKb?: number;
  ntpSynchronized?: string;
  timeDaemon?: string;
  throttled?: string;
  /** SoC temperature in millidegrees Celsius, when the kernel reports one. */
  temperature?: number;
  nodeCertificate?: string;
  rebootRequired: boolean;
  /** Whether the address piswarm reaches the node on is a DHCP lease (ip shows it "dynamic"). */
  dhcp?: boolean;
  /** Ports of other nodes this node could not open, as `ip:port`, of those it was asked to try. */
  closedPorts: string[];
  triedPorts: string[];
}

/** The common cmdline.txt places: Bookworm and later boot from /boot/firmware, older images from /boot. */
export const CMDLINE_PATHS = ['/boot/firmware/cmdline.txt', '/boot/cmdline.txt'] as const;

const TIME_DAEMONS = ['chronyd', 'ntpd', 'systemd-timesyncd', 'openntpd', 'timesyncd'];

/** The probe, run as root; `dataRoot` is where Docker keeps its data, `address` the node's, `ports` the peers' ports to try (ip:port). */
export function probeScript(dataRoot: string, address: string, ports: readonly string[]): string {
  const file = (key: string, path: string) => `[ -r ${path} ] && printf '${key}=%s\\n' "$(base64 -w0 < ${path})"`;
  const body = [
    `root=${shq(dataRoot)}`,
    `printf 'arch=%s\\n' "$(uname -m)"`,
    `grep -qE '^(CPU architecture:[[:space:]]*8|flags.* lm( |$))' /proc/cpuinfo && echo cpu64=yes`,
    `printf 'model=%s\\n' "$(tr -d '\\000' < /proc/device-tree/model 2>/dev/null)"`,
    `printf 'pagesize=%s\\n' "$(getconf PAGESIZE 2>/dev/null)"`,
    `printf 'memtotal=%s\\n' "$(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo)"`,
    // cgroup v2 lists its controllers in one file; v1 has a line per controller with an enabled flag.
    `if [ -f /sys/fs/cgroup/cgroup.controllers ]; then grep -qw memory /sys/fs/cgroup/cgroup.controllers && echo memcg=yes || echo memcg=no; else awk '$1 == "memory" { print "memcg=" ($4 == 1 ? "yes" : "no") }' /proc/cgroups; fi`,
    ...CMDLINE_PATHS.map((path, i) => file(`cmdline${i}`, path)),
    `if ip link add piswarm-vx0 type vxlan id 4242 dstport 4789 2>/tmp/piswarm-vx.$$; then ip link del piswarm-vx0; echo vxlan=; else printf 'vxlan=%s\\n' "$(tr '\\n' ' ' < /tmp/piswarm-vx.$$)"; fi; rm -f /tmp/piswarm-vx.$$`,
    `printf 'iptables=%s\\n' "$(iptables -V 2>/dev/null)"`,
    `command -v iptables-legacy-save >/dev/null && printf 'legacy=%s\\n' "$(iptables-legacy-save 2>/dev/null | grep -c '^-A')"`,
    `command -v iptables-nft-save >/dev/null && printf 'nft=%s\\n' "$(iptables-nft-save 2>/dev/null | grep -c '^-A')"`,
    `printf 'disk=%s\\n' "$(df -P -k "$root" 2>/dev/null | awk 'NR == 2 { print $2, $4 }')"`,
    `printf 'rootopts=%s\\n' "$(findmnt -no OPTIONS -T / 2>/dev/null)"`,
    `printf 'dataopts=%s\\n' "$(findmnt -no OPTIONS -T "$root" 2>/dev/null)"`,
    file('daemonjson', '/etc/docker/daemon.json'),
    `[ -d "$root/containers" ] && printf 'logs=%s\\n' "$(du -sk "$root/containers" 2>/dev/null | awk '{ print $1 }')"`,
    `printf 'ntp=%s\\n' "$(timedatectl show -p NTPSynchronized --value 2>/dev/null)"`,
    `for d in ${TIME_DAEMONS.join(' ')}; do if pgrep -x "$d" >/dev/null 2>&1; then echo "timed=$d"; break; fi; done`,
    `printf 'throttled=%s\\n' "$(vcgencmd get_throttled 2>/dev/null | sed 's/^throttled=//')"`,
    `printf 'temp=%s\\n' "$(cat /sys/class/thermal/thermal_zone0/temp 2>/dev/null)"`,
    file('nodecert', '"$root/swarm/certificates/swarm-node.crt"'),
    `[ -f /var/run/reboot-required ] && echo reboot=yes`,
    // DHCP clients give their addresses a lease lifetime, which ip shows as "dynamic".
    `ip -o -4 addr show 2>/dev/null | awk -v a=${shq(address)} '{ split($4, p, "/"); if (p[1] == a) print ($0 ~ / dynamic / ? "dhcp=yes" : "dhcp=no") }'`,
    // Each port tried at once in the background, 2 s at most, so a blocked port costs 2 s in all.
    `for p in ${ports.map(shq).join(' ')}; do (if timeout 2 sh -c "nc -z -w 2 \${p%:*} \${p##*:}" >/dev/null 2>&1 || timeout 2 bash -c "</dev/tcp/\${p%:*}/\${p##*:}" >/dev/null 2>&1; then echo "open=$p"; else echo "closed=$p"; fi) & done; wait`,
  ];
  return [REMOTE_HELPERS, `as_root sh -c ${shq(body.join('\n'))}`].join('\n');
}

export function parseProbe(output: string, dataRoot: string, triedPorts: readonly string[]): NodeProbe {
  const values = new Map<string, string[]>();
  for (const line of output.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) values.set(line.slice(0, at), [...(values.get(line.slice(0, at)) ?? []), line.slice(at + 1).trim()]);
  }
  const one = (key: string) => values.get(key)?.[0];
  const text = (key: string) => one(key) || undefined;
  const number = (key: string) => (text(key) && /^\d+$/.test(text(key)!) ? Number(text(key)) : undefined);
  const decoded = (key: string) => (one(key) === undefined ? undefined : Buffer.from(one(key)!, 'base64').toString('utf8'));
  const [size, avail] = (text('disk') ?? '').split(' ').map(Number);
  const cmdline: Record<string, string> = {};
  CMDLINE_PATHS.forEach((path, i) => {
    const content = decoded(`cmdline${i}`);
    if (content !== undefined) cmdline[path] = content;
  });
  return {
    arch: text('arch') ?? '',
    cpu64: one('cpu64') === 'yes',
    model: text('model'),
    pageSize: number('pagesize'),
    memTotalKb: number('memtotal'),
    memoryCgroup: one('memcg') === undefined ? undefined : one('memcg') === 'yes',
    cmdline,
    vxlan: one('vxlan'),
    iptables: { version: text('iptables'), legacyRules: number('legacy'), nftRules: number('nft') },
    disk: size && avail !== undefined && !Number.isNaN(avail) ? { path: dataRoot, sizeKb: size, availKb: avail } : undefined,
    rootOptions: text('rootopts'),
    dataOptions: text('dataopts'),
    daemonJson: decoded('daemonjson'),
    containerLogsKb: number('logs'),
    ntpSynchronized: text('ntp'),
    timeDaemon: text('timed'),
    throttled: text('throttled'),
    temperature: number('temp'),
    nodeCertificate: decoded('nodecert'),
    rebootRequired: one('reboot') === 'yes',
    dhcp: one('dhcp') === undefined ? undefined : one('dhcp') === 'yes',
    closedPorts: values.get('closed') ?? [],
    triedPorts: [...triedPorts],
  };
}
