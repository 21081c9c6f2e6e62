import type { BootConfig, BootUser } from './boot-config.js';
import { shq } from './shell-quote.js';

export interface NodeBootPaths {
  /** Per-node folder on the host holding etc/, home/, run/, docker/, boot/ and logs. */
  nodeDir: string;
  /** Cgroup folders the node's init joins first, so all it starts is held to its CPU share (lab up --cpu). */
  cpuCgroups?: readonly string[];
}

export interface NodeDaemonOptions {
  insecureRegistry: string;
  cgroupParent: string;
}

/**
 * The script a simulated Pi runs as its "init", inside its own network, mount, UTS and PID
 * namespaces (started by renderPowerScript). It gives the node its own /etc, /home, /run and /var/lib/docker, applies first-boot
 * configuration once (like cloud-init on a fresh card), starts dockerd and sshd, then stays
 * alive as the node's anchor process.
 */
export function renderBootScript(boot: BootConfig, paths: NodeBootPaths, daemon: NodeDaemonOptions): string {
  const dir = shq(paths.nodeDir);
  return [
    '#!/bin/sh',
    'set -eu',
    ...(paths.cpuCgroups ?? []).map((cgroup) => `echo $$ > ${shq(`${cgroup}/cgroup.procs`)}`),
    `hostname ${shq(boot.hostname)}`,
    // Whole-directory copies, not single files: chpasswd replaces /etc/shadow by renaming it.
    `mount --bind ${dir}/etc /etc`,
    `mount --bind ${dir}/home /home`,
    `mount --bind ${dir}/docker /var/lib/docker`,
    `mount --bind ${dir}/run /run`,
    // Empty at every boot, as a Pi's /run (a tmpfs) is: a pid file left by the last power-off would name another process now.
    'find /run -mindepth 1 -maxdepth 1 -exec rm -rf {} +',
    // The card's boot partition; also keeps this machine's own /boot out of the node's reach.
    `mount --bind ${dir}/boot /boot`,
    'mkdir -p /run/sshd',
    // This machine's programs and package state, read-only to the node: a package upgrade run in
    // it fails there instead of changing this machine.
    `for d in ${READ_ONLY.join(' ')}; do if [ -d "$d" ]; then mount --bind "$d" "$d" && mount -o remount,bind,ro "$d"; fi; done`,
    // A Pi runs its distro's docker CLI: this machine's own (/usr/local/bin comes first on PATH) must
    // not stand in for it. Bound after /usr went read-only, and read-only itself.
    'if [ -e /usr/local/bin/docker ] && [ -x /usr/bin/docker ]; then mount --bind /usr/bin/docker /usr/local/bin/docker && mount -o remount,bind,ro /usr/local/bin/docker; fi',
    'if [ ! -e /etc/piswarm-lab-first-boot-done ]; then',
    ...firstBoot(boot).map((line) => `  ${line}`),
    '  touch /etc/piswarm-lab-first-boot-done',
    'fi',
    ...Object.values(daemonCommands(paths.nodeDir, daemon)),
    // The node's init (PID 1 of its namespace) stays, reaping orphans; a stop ends it, and the node with it.
    "trap 'exit 0' TERM",
    'while :; do sleep 3600 & wait $!; done',
    '',
  ].join('\n');
}

/** How a node starts its daemons, at boot and when `lab up` repairs one that died (as systemd would restart it). */
export function daemonCommands(nodeDir: string, daemon: NodeDaemonOptions): { dockerd: string; sshd: string } {
  const dir = shq(nodeDir);
  return {
    // A pid file left by a dockerd that died would stop the next one.
    dockerd: `rm -f /run/docker.pid; dockerd --insecure-registry ${shq(daemon.insecureRegistry)} --cgroup-parent ${shq(daemon.cgroupParent)} >>${dir}/dockerd.log 2>&1 &`,
    sshd: `/usr/sbin/sshd -E ${dir}/sshd.log`,
  };
}

/** Folders of this machine a node sees read-only: its programs and the package manager's state. */
const READ_ONLY = ['/usr', '/var/lib/dpkg', '/var/lib/apt', '/var/cache/apt'];

/** The exit status of the node's namespace when its init was ended by a restart (as by SIGHUP). */
const NODE_REBOOTED = 129;

/**
 * The node's power switch, run in its network namespace: the boot script becomes the init of
 * the node's own PID, mount and UTS namespaces, so a reboot(2) run in the node (reboot -f,
 * systemctl reboot -ff, busybox reboot) ends that PID namespace only, never this machine. A
 * restart boots the node again; a halt or power off leaves it off until `lab up`.
 */
export function renderPowerScript(bootScript: string): string {
  return [
    '#!/bin/sh',
    'while :; do',
    `  unshare --mount --uts --pid --fork --mount-proc --propagation private sh ${shq(bootScript)}`,
    '  status=$?',
    `  [ "$status" -eq ${NODE_REBOOTED} ] || exit "$status"`,
    'done',
    '',
  ].join('\n');
}

function firstBoot(boot: BootConfig): string[] {
  const host = shq(boot.hostname);
  return [
    `echo ${host} > /etc/hostname`,
    `printf '127.0.0.1\\tlocalhost\\n127.0.1.1\\t%s\\n' ${host} > /etc/hosts`,
    // Identities copied from the host must not be shared: engine ID, machine ID, SSH host keys.
    'rm -f /etc/docker/key.json',
    "head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n' > /etc/machine-id",
    'rm -f /etc/ssh/ssh_host_*',
    ...hostKeys(boot),
    ...boot.users.flatMap(userLines),
  ];
}

function hostKeys(boot: BootConfig): string[] {
  if (!boot.sshHostKeys?.length) return ['ssh-keygen -A >/dev/null'];
  return boot.sshHostKeys.flatMap((key) => {
    const file = `/etc/ssh/ssh_host_${key.type}_key`;
    return [
      `printf '%s\\n' ${shq(key.privateKey.trim())} > ${file}`,
      `chmod 600 ${file}`,
      `printf '%s\\n' ${shq(key.publicKey.trim())} > ${file}.pub`,
    ];
  });
}

function userLines(user: BootUser): string[] {
  const name = shq(user.name);
  const lines = [
    `id -u ${name} >/dev/null 2>&1 || useradd -m -s /bin/bash ${name}`,
    // Only groups that exist on this system, as cloud-init does with a warning.
    ...user.groups.map((g) => `getent group ${shq(g)} >/dev/null && usermod -aG ${shq(g)} ${name}`),
  ];
  if (user.passwordHash) lines.push(`printf '%s:%s\\n' ${name} ${shq(user.passwordHash)} | chpasswd -e`);
  else if (user.plainPassword) lines.push(`printf '%s:%s\\n' ${name} ${shq(user.plainPassword)} | chpasswd`);
  if (user.lockPassword) lines.push(`passwd -l ${name} >/dev/null`);
  if (user.sudo) lines.push(`printf '%s %s\\n' ${name} ${shq(user.sudo)} >> /etc/sudoers.d/90-cloud-init-users`, 'chmod 440 /etc/sudoers.d/90-cloud-init-users');
  if (user.sshAuthorizedKeys.length > 0) {
    const home = `$(getent passwd ${name} | cut -d: -f6)`;
    lines.push(
      `mkdir -p "${home}/.ssh"`,
      `printf '%s\\n' ${user.sshAuthorizedKeys.map(shq).join(' ')} > "${home}/.ssh/authorized_keys"`,
      `chmod 700 "${home}/.ssh" && chmod 600 "${home}/.ssh/authorized_keys"`,
      `chown -R ${name}: "${home}/.ssh"`,
    );
  }
  return lines;
}
