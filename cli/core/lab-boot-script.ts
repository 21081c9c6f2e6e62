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
 * The script a simulated Pi runs as its "init", inside its own network, mount and UTS
 * namespaces. It gives the node its own /etc, /home, /run and /var/lib/docker, applies first-boot
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
    // The card's boot partition; also keeps this machine's own /boot out of the node's reach.
    `mount --bind ${dir}/boot /boot`,
    'mkdir -p /run/sshd',
    // A Pi runs its distro's docker CLI: this machine's own (/usr/local/bin comes first on PATH) must not stand in for it.
    'if [ -e /usr/local/bin/docker ] && [ -x /usr/bin/docker ]; then mount --bind /usr/bin/docker /usr/local/bin/docker; fi',
    'if [ ! -e /etc/piswarm-lab-first-boot-done ]; then',
    ...firstBoot(boot).map((line) => `  ${line}`),
    '  touch /etc/piswarm-lab-first-boot-done',
    'fi',
    `dockerd --insecure-registry ${shq(daemon.insecureRegistry)} --cgroup-parent ${shq(daemon.cgroupParent)} >>${dir}/dockerd.log 2>&1 &`,
    `/usr/sbin/sshd -E ${dir}/sshd.log`,
    'exec sleep infinity',
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
