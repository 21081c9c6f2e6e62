import type { Context } from '../../context.js';
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
    `Log in with: ssh pirate@${status.nodes[0]?.ip ?? '…'}  (password: hypriot)`,
    ...(status.nodes.some((n) => n.dockerd === 'unknown') ? ["dockerd 'unknown': run as root to read the nodes' Docker sockets."] : []),
  ].join('\n');
}
