import type { AutoFixId, CheckResult } from './check.js';
import type { NodeReport } from './checks.js';
import { liveCmdline, MEMORY_FLAGS } from './host-checks.js';
import type { NodeProbe } from './probe.js';
import { rootScript } from '../remote-shell.js';
import { shq } from '../shell-quote.js';

/**
 * The fixes `doctor --fix` applies by itself: safe edits, each keeping a backup of the file it
 * replaces, none restarting anything (it says what needs a restart or reboot instead).
 */
export interface PlannedFix {
  node: string;
  fix: AutoFixId;
  what: string;
  /** What makes it take effect. */
  then: 'nothing' | 'a Docker restart' | 'a reboot';
  script: string;
  /** The new file, sent on standard input. */
  input?: string;
}

const LOG_OPTS = { 'max-size': '10m', 'max-file': '3' };

/** The fixes for what doctor found (each node's failing or warning checks that have one). */
export function planFixes(reports: readonly NodeReport[], probes: ReadonlyMap<string, NodeProbe>): PlannedFix[] {
  return reports.flatMap((report) => {
    const probe = probes.get(report.node);
    const wanted = report.checks.filter((c): c is CheckResult & { autoFix: AutoFixId } => (c.status === 'warn' || c.status === 'fail') && c.autoFix !== undefined);
    // The memory-cgroup and cmdline checks share one fix; it is made once.
    const ids = [...new Set(wanted.map((c) => c.autoFix))];
    return probe ? ids.flatMap((id) => fixFor(id, report.node, probe) ?? []) : [];
  });
}

function fixFor(id: AutoFixId, node: string, probe: NodeProbe): PlannedFix | undefined {
  if (id === 'log-rotation') {
    const config = probe.daemonJson ? JSON.parse(probe.daemonJson) : {};
    const next = { ...config, 'log-driver': config['log-driver'] ?? 'json-file', 'log-opts': { ...LOG_OPTS, ...config['log-opts'] } };
    return { node, fix: id, what: 'rotate container logs: max-size 10m, max-file 3 in /etc/docker/daemon.json', then: 'a Docker restart', script: replaceFileScript('/etc/docker/daemon.json'), input: `${JSON.stringify(next, null, 2)}\n` };
  }
  if (id === 'time-sync') {
    // timedatectl needs systemd as init; without it the only fix is another NTP client.
    const script = rootScript('if ! command -v timedatectl >/dev/null || [ ! -d /run/systemd/system ]; then echo "no systemd-timesyncd here (systemd is not running): install chrony (sudo apt-get install chrony)" >&2; exit 1; fi', 'timedatectl set-ntp true', 'echo changed');
    return { node, fix: id, what: 'turn on time sync (timedatectl set-ntp true)', then: 'nothing', script };
  }
  const live = liveCmdline(probe.cmdline);
  if (!live) return undefined;
  return { node, fix: id, what: `${MEMORY_FLAGS.join(' ')} on the first line of ${live}`, then: 'a reboot', script: replaceFileScript(live), input: `${fixedCmdline(probe.cmdline[live]!)}\n` };
}

/** cmdline.txt as one line, the memory cgroup turned on. */
export function fixedCmdline(content: string): string {
  const words = content.split(/\s+/).filter((w) => w && w !== 'cgroup_disable=memory');
  return [...words, ...MEMORY_FLAGS.filter((f) => !words.includes(f))].join(' ');
}

/** Replaces a file with standard input, the old one kept as FILE.piswarm-backup; unchanged when equal. */
function replaceFileScript(path: string): string {
  const p = shq(path);
  return rootScript(
    `mkdir -p "$(dirname ${p})"`,
    `new=${p}.piswarm-new`,
    'cat > "$new"',
    `if [ -f ${p} ] && cmp -s "$new" ${p}; then rm -f "$new"; echo unchanged; exit 0; fi`,
    `if [ -f ${p} ]; then cp -p ${p} ${p}.piswarm-backup; chmod --reference=${p} "$new"; fi`,
    `mv "$new" ${p}`,
    'echo changed',
  );
}
