import { fail, ok, skipped, warn, type CheckDefinition, type NodeEvidence, type Verdict } from './check.js';
import { CMDLINE_PATHS } from './probe.js';

/** The operating system's checks: kernel, boot line, disk, logs, time and the Pi's own health. */

/** What a Pi's kernel needs on its command line for memory limits (cgroup_memory=1 for older kernels). */
export const MEMORY_FLAGS = ['cgroup_enable=memory', 'cgroup_memory=1'];
const GB_KB = 1024 * 1024;
const gb = (kb: number) => `${(kb / 1024 / 1024).toFixed(1)} GB`;
const mb = (kb: number) => `${Math.round(kb / 1024)} MB`;

/** The cmdline.txt the firmware reads: /boot/firmware's when there is one (Bookworm and later). */
export function liveCmdline(files: Record<string, string>): string | undefined {
  return CMDLINE_PATHS.find((path) => files[path] !== undefined);
}

function cmdline(node: NodeEvidence): Verdict {
  const files = node.probe!.cmdline;
  const live = liveCmdline(files);
  if (!live) return skipped('skipped: no cmdline.txt in /boot/firmware or /boot (not a Raspberry Pi boot partition)');
  const lines = files[live]!.split('\n').filter((l) => l.trim());
  const words = (lines[0] ?? '').split(/\s+/);
  const fix = `The firmware reads only the first line of ${live}: put ${MEMORY_FLAGS.join(' ')} at the end of it, then reboot.`;
  if (words.includes('cgroup_disable=memory')) return fail(`${live} turns the memory cgroup off (cgroup_disable=memory)`, `Remove cgroup_disable=memory from ${live}, add ${MEMORY_FLAGS.join(' ')}, reboot.`, 'cmdline');
  if (words.includes(MEMORY_FLAGS[0]!)) return ok(`${MEMORY_FLAGS[0]} on the first line of ${live}`);
  const later = lines.findIndex((l, i) => i > 0 && l.includes(MEMORY_FLAGS[0]!));
  if (later > 0) return fail(`${MEMORY_FLAGS[0]} is on line ${later + 1} of ${live}, which the firmware ignores (cmdline.txt is one line)`, fix, 'cmdline');
  const elsewhere = CMDLINE_PATHS.find((path) => path !== live && files[path]?.includes(MEMORY_FLAGS[0]!));
  if (elsewhere) return fail(`${MEMORY_FLAGS[0]} is in ${elsewhere}, but this system boots from ${live}`, fix, 'cmdline');
  if (node.probe!.memoryCgroup !== false) return ok(`no cgroup flags in ${live}; the kernel enables the memory cgroup by itself`);
  return fail(`no ${MEMORY_FLAGS[0]} in ${live}`, fix, 'cmdline');
}

function memoryCgroup(node: NodeEvidence): Verdict {
  const engineSays = node.engine?.warnings.find((w) => /no memory limit support/i.test(w));
  if (node.probe!.memoryCgroup === false || engineSays) {
    const live = liveCmdline(node.probe!.cmdline);
    return fail(engineSays ? `Docker says: ${engineSays.replace(/^WARNING: /, '')}` : 'the kernel has no memory cgroup controller', live ? `Add ${MEMORY_FLAGS.join(' ')} to the first line of ${live}, then reboot.` : 'Boot the kernel with cgroup_enable=memory.', live ? 'cmdline' : undefined);
  }
  if (node.probe!.memoryCgroup === undefined) return skipped('skipped: the kernel lists no cgroup controllers');
  return ok('the kernel has the memory controller: memory limits and reservations apply');
}

function vxlan(node: NodeEvidence): Verdict {
  const said = node.probe!.vxlan;
  if (said === undefined) return skipped('skipped: could not try (no ip command)');
  if (said === '') return ok('a VXLAN interface can be made: overlay networks work');
  return fail(`the kernel refused a VXLAN interface: ${said.trim()}`, 'Load the module (`sudo modprobe vxlan`), or on Ubuntu install linux-modules-extra-$(uname -r); after a kernel update, reboot first.');
}

function iptables(node: NodeEvidence): Verdict {
  const { version, legacyRules = 0, nftRules = 0 } = node.probe!.iptables;
  if (!version) return warn('no iptables command: Docker cannot publish ports or isolate networks', 'Install iptables (sudo apt-get install iptables), then restart Docker.');
  if (legacyRules > 0 && nftRules > 0) {
    return fail(`rules in both iptables backends (legacy: ${legacyRules}, nf_tables: ${nftRules}); ${version}`, 'Use one backend: `sudo update-alternatives --set iptables /usr/sbin/iptables-legacy` (or iptables-nft), flush the other one\'s rules, restart Docker.');
  }
  return ok(`${version}, rules in one backend`);
}

function disk(node: NodeEvidence): Verdict {
  const d = node.probe!.disk;
  if (!d) return skipped('skipped: df could not read it');
  const free = d.availKb / d.sizeKb;
  const found = `${gb(d.availKb)} free of ${gb(d.sizeKb)} (${Math.round(free * 100)}%) where Docker keeps its data (${d.path})`;
  const fix = '`docker system prune` removes stopped containers and unused images; turn on log rotation (doctor --fix).';
  // Gigabytes matter more than percentages: 9% of a big disk is plenty, 9% of an 8 GB card is not.
  if (d.availKb < 512 * 1024 || (free < 0.03 && d.availKb < 2 * GB_KB)) return fail(found, fix);
  if (d.availKb < 2 * GB_KB || (free < 0.1 && d.availKb < 10 * GB_KB)) return warn(found, fix);
  return ok(found);
}

function readOnly(node: NodeEvidence): Verdict {
  const { rootOptions, dataOptions } = node.probe!;
  if (!rootOptions && !dataOptions) return skipped('skipped: findmnt could not say');
  const ro = (options?: string) => options?.split(',').includes('ro') === true;
  const which = [ro(rootOptions) && '/', ro(dataOptions) && node.probe!.disk?.path].filter(Boolean);
  if (which.length > 0) {
    return fail(`${which.join(' and ')} mounted read-only: a worn SD card is remounted read-only after write errors`, 'Check `dmesg | grep mmc`; back up now and move the node to a new card (flash, then bootstrap).');
  }
  return ok('/ and Docker\'s data are writable');
}

function logRotation(node: NodeEvidence): Verdict {
  let config: Record<string, any> = {};
  try {
    config = node.probe!.daemonJson ? JSON.parse(node.probe!.daemonJson) : {};
  } catch (error) {
    return fail(`/etc/docker/daemon.json is not valid JSON (${(error as Error).message}): Docker will not start again`, 'Correct the file (`sudo python3 -m json.tool /etc/docker/daemon.json` names the place).');
  }
  const driver = node.engine?.loggingDriver ?? config['log-driver'] ?? 'json-file';
  const logs = node.probe!.containerLogsKb;
  const size = logs === undefined ? '' : `; containers' logs use ${mb(logs)}`;
  if (driver !== 'json-file') return ok(`log driver ${driver}${size}`);
  const opts = config['log-opts'] ?? {};
  if (!opts['max-size']) {
    return warn(`json-file logs with no max-size: they grow until the card is full${size}`, 'Set "log-opts": {"max-size": "10m", "max-file": "3"} in /etc/docker/daemon.json, then restart Docker (new containers rotate).', 'log-rotation');
  }
  return ok(`json-file, max-size ${opts['max-size']}${opts['max-file'] ? `, max-file ${opts['max-file']}` : ''}${size}`);
}

function timeSync(node: NodeEvidence): Verdict {
  const { ntpSynchronized, timeDaemon } = node.probe!;
  if (ntpSynchronized === 'yes') return ok('synchronised (timedatectl)');
  if (timeDaemon) return ok(`${timeDaemon} is running`);
  const fix = 'Turn on time sync: `sudo timedatectl set-ntp true` (systemd-timesyncd), or install chrony. A Pi has no battery clock and boots with a stale time.';
  if (ntpSynchronized === 'no') return warn('not synchronised (timedatectl)', fix, 'time-sync');
  return warn('no time synchronisation running (no systemd-timesyncd, chronyd or ntpd)', fix, 'time-sync');
}

function arch(node: NodeEvidence): Verdict {
  const { arch: machine, cpu64 } = node.probe!;
  if (/^armv[67]l$/.test(machine) && cpu64) {
    return warn(`a 32-bit OS (${machine}) on a 64-bit CPU: arm64-only images refuse to run here`, 'Flash a 64-bit OS (Raspberry Pi OS Lite 64-bit, Ubuntu Server arm64), then replace the node.');
  }
  return ok(`${machine}${/64$/.test(machine) ? ' (64-bit)' : ''}`);
}

function pageSize(node: NodeEvidence): Verdict {
  const size = node.probe!.pageSize;
  if (!size) return skipped('skipped: getconf could not say');
  if (size > 4096) return warn(`${size / 1024} KiB memory pages (the Pi 5's kernel_2712): some images crash (jemalloc, older Go and Node.js builds)`, 'Add `kernel=kernel8.img` to config.txt for 4 KiB pages, then reboot.');
  return ok(`${size / 1024} KiB memory pages`);
}

function model(node: NodeEvidence): Verdict {
  const memory = node.probe!.memTotalKb;
  const found = `${node.probe!.model}${memory ? `, ${gb(memory)} of memory` : ''}`;
  if (memory && memory < 900 * 1024) return warn(found, 'Little memory: keep stateful or heavy services off it (a placement constraint), or run only small services.');
  return ok(found);
}

/** The firmware's throttling flags (vcgencmd get_throttled): bits 0-3 now, bits 16-19 since boot. */
const THROTTLE_BITS: Array<[number, string]> = [[0, 'under-voltage'], [1, 'ARM frequency capped'], [2, 'throttled'], [3, 'soft temperature limit']];

function throttling(node: NodeEvidence): Verdict {
  const text = node.probe!.throttled;
  if (!text || !/^0x[0-9a-f]+$/i.test(text)) return skipped('skipped: vcgencmd not available');
  const flags = parseInt(text, 16);
  const named = (shift: number) => THROTTLE_BITS.filter(([bit]) => flags & (1 << (bit + shift))).map(([, name]) => name);
  const fix = 'Use the official supply (5.1 V, 3 A; 5 A for a Pi 5) and a short, thick cable; power USB disks from a hub; add a heatsink or fan.';
  if (named(0).length > 0) return fail(`${named(0).join(', ')} now (${text})`, fix);
  if (named(16).length > 0) return warn(`${named(16).join(', ')} since boot (${text})`, fix);
  return ok(`no under-voltage or throttling since boot (${text})`);
}

function temperature(node: NodeEvidence): Verdict {
  const milli = node.probe!.temperature;
  if (milli === undefined) return skipped('skipped: no thermal zone');
  const found = `SoC at ${(milli / 1000).toFixed(1)} °C`;
  const fix = 'A heatsink or fan, and air around the case; the firmware slows the CPU from 80 °C (85 °C on a Pi 5).';
  if (milli >= 80_000) return fail(found, fix);
  if (milli >= 70_000) return warn(found, fix);
  return ok(found);
}

const probed = { needsProbe: true } as const;

export const HOST_CHECKS: CheckDefinition[] = [
  { id: 'time-sync', title: 'Time sync', why: 'Swarm TLS and Raft need agreeing clocks; a Pi has no battery clock.', ...probed, run: timeSync },
  { id: 'memory-cgroup', title: 'Memory cgroup', why: 'Without it Docker silently ignores memory limits and reservations.', ...probed, run: memoryCgroup },
  { id: 'cmdline', title: 'cgroup flag in cmdline.txt', why: 'The flag works only on the first line of the cmdline.txt the firmware reads (/boot/firmware on Bookworm).', ...probed, run: cmdline },
  { id: 'vxlan', title: 'Overlay networks', why: 'Swarm overlay networks are VXLAN: "error creating vxlan interface: operation not supported" otherwise.', ...probed, run: vxlan },
  { id: 'iptables', title: 'iptables backend', why: 'Rules split between legacy and nf_tables break published ports and service traffic.', ...probed, run: iptables },
  { id: 'disk', title: 'Disk space', why: 'A full card stops image pulls, container starts and the Raft log.', ...probed, run: disk },
  { id: 'read-only', title: 'Writable filesystem', why: 'A worn SD card is remounted read-only: Docker and the node stop working.', ...probed, run: readOnly },
  { id: 'log-rotation', title: 'Container log rotation', why: 'Docker keeps container logs forever unless told otherwise, and fills the card.', ...probed, run: logRotation },
  { id: 'arch', title: 'OS architecture', why: 'Many images are arm64-only: a 32-bit OS cannot run them.', ...probed, run: arch },
  { id: 'page-size', title: 'Memory page size', why: 'Some images crash on the Pi 5\'s 16 KiB-page kernel.', ...probed, run: pageSize },
  { id: 'model', title: 'Pi model', why: 'What the node is and how much memory it has to offer.', piOnly: true, run: model },
  { id: 'throttling', title: 'Under-voltage and throttling', why: 'A weak supply slows or corrupts a headless Pi, and nobody sees the lightning bolt.', piOnly: true, run: throttling },
  { id: 'temperature', title: 'SoC temperature', why: 'A hot Pi throttles its CPU.', piOnly: true, run: temperature },
];
