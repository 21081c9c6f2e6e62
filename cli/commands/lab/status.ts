import type { Context } from '../../context.js';
import type { BootLogin } from '../../core/boot-config.js';
import { ExitCode } from '../../errors.js';
import { printJson, printLines } from '../../io.js';
import { labStatus, type LabStatus } from '../../services/lab/lab-status.js';
import { formatTable } from '../../ui/table.js';

export async function labStatusAction(context: Context, flags: { name: string }): Promise<number> {
  const status = await labStatus({ name: flags.name });
  if (context.io.json) printJson(context.io, status);
  else printLines(context.io, formatLabStatus(status));
  const healthy = status.registry.state === 'running' && status.nodes.every((n) => n.sshd === 'running' && n.dockerd !== 'down');
  return healthy ? ExitCode.ok : ExitCode.partial;
}

const AUTH_TEXT: Record<BootLogin['auth'], string> = {
  'default-password': 'password hypriot, until piswarm bootstrap puts your SSH key in and the password out',
  password: "the card's password",
  key: 'an SSH key the card authorises',
};

/** One line per distinct way in (cards may carry different users), each with its first node. */
function loginLines(status: LabStatus): string[] {
  const seen = new Map<string, string>();
  for (const node of status.nodes) {
    const key = `${node.login.user}\0${node.login.auth}`;
    if (!seen.has(key)) seen.set(key, `Log in with: ssh ${node.login.user}@${node.ip}  (${AUTH_TEXT[node.login.auth]})`);
  }
  return [...seen.values()];
}

export function formatLabStatus(status: LabStatus): string {
  const table = formatTable(
    ['NODE', 'IP', 'MAC', 'SSHD', 'DOCKERD'],
    status.nodes.map((n) => [n.name, n.ip, n.mac, n.sshd, n.dockerd]),
  );
  return [
    `Lab ${status.name}: bridge ${status.bridge} ${status.subnet}, registry ${status.registry.address} (${status.registry.state}), ARM emulation ${status.armEmulation ? 'on' : 'off'}`,
    '',
    table,
    '',
    ...loginLines(status),
    ...(status.nodes.some((n) => n.dockerd === 'unknown') ? ["dockerd 'unknown': run as root to read the nodes' Docker sockets."] : []),
  ].join('\n');
}
