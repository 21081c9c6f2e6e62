import { access, readdir, readFile } from 'node:fs/promises';
import type { CommandRunner } from '../../adapters/process.js';
import { subnetsOverlap, type LabPlan } from '../../core/lab-plan.js';
import { PiswarmError } from '../../errors.js';

/** Every iptables rule a lab adds carries this comment, so down removes exactly those. */
export function ruleTag(labName: string): string {
  return `piswarm-lab:${labName}`;
}

/** Refuses a subnet that another interface or route on this machine already uses. */
export async function assertSubnetFree(runner: CommandRunner, plan: LabPlan): Promise<void> {
  const addresses = (await runner.run('ip', ['-4', '-o', 'addr', 'show'])).stdout;
  for (const line of addresses.split('\n')) {
    const match = /^\d+:\s+(\S+)\s+inet\s+(\S+)/.exec(line);
    if (match && match[1] !== plan.bridge && subnetsOverlap(match[2]!, plan.subnet)) {
      throw subnetInUse(plan, `${match[1]} has address ${match[2]}`);
    }
  }
  const routes = (await runner.run('ip', ['-4', 'route', 'show'])).stdout;
  for (const line of routes.split('\n')) {
    const match = /^(\d+\.\d+\.\d+\.\d+(?:\/\d+)?)\s.*\bdev\s+(\S+)/.exec(line);
    if (match && match[2] !== plan.bridge && subnetsOverlap(match[1]!, plan.subnet)) {
      throw subnetInUse(plan, `a route to ${match[1]} goes through ${match[2]}`);
    }
  }
}

function subnetInUse(plan: LabPlan, detail: string): PiswarmError {
  return new PiswarmError(`Subnet ${plan.subnet} is already in use on this machine (${detail}).`, {
    hint: 'Choose a free one with --subnet, e.g. --subnet 10.78.0.0/24.',
  });
}

export async function linkExists(runner: CommandRunner, name: string): Promise<boolean> {
  return (await runner.run('ip', ['link', 'show', 'dev', name], { allowFailure: true })).code === 0;
}

export async function ensureBridge(runner: CommandRunner, plan: LabPlan): Promise<void> {
  if (!(await linkExists(runner, plan.bridge))) {
    await runner.run('ip', ['link', 'add', plan.bridge, 'type', 'bridge']);
    await runner.run('ip', ['addr', 'add', `${plan.gateway}/${plan.prefixLength}`, 'dev', plan.bridge]);
  }
  await runner.run('ip', ['link', 'set', plan.bridge, 'up']);
  // Docker on the host sets FORWARD's policy to DROP; bridged node-to-node traffic must pass.
  const tag = ruleTag(plan.name);
  if ((await labRules(runner, plan.name)).length === 0) {
    await runner.run('iptables', ['-w', '-I', 'FORWARD', '-i', plan.bridge, '-o', plan.bridge, '-m', 'comment', '--comment', tag, '-j', 'ACCEPT']);
    await runner.run('iptables', ['-w', '-I', 'INPUT', '-i', plan.bridge, '-m', 'comment', '--comment', tag, '-j', 'ACCEPT']);
  }
}

/** The lab's rules as argument lists after `-A` (iptables -S prints the comment in quotes). */
async function labRules(runner: CommandRunner, labName: string): Promise<string[][]> {
  const rules = (await runner.run('iptables', ['-w', '-S'], { allowFailure: true })).stdout.split('\n');
  return rules
    .filter((rule) => rule.startsWith('-A '))
    .map((rule) => (rule.slice(3).match(/"[^"]*"|\S+/g) ?? []).map((word) => word.replace(/^"(.*)"$/, '$1')))
    .filter((words) => words.join(' ').includes(`--comment ${ruleTag(labName)}`));
}

export async function removeBridge(runner: CommandRunner, plan: LabPlan): Promise<void> {
  for (const rule of await labRules(runner, plan.name)) {
    await runner.run('iptables', ['-w', '-D', ...rule]);
  }
  if (await linkExists(runner, plan.bridge)) await runner.run('ip', ['link', 'del', plan.bridge]);
}

const BINFMT_DIR = '/proc/sys/fs/binfmt_misc';
export const ARM_FORMATS = ['qemu-aarch64', 'qemu-arm'] as const;

/** Enables qemu-user emulation so ARM binaries and images run; returns whether it mounted binfmt_misc. */
export async function ensureArmEmulation(runner: CommandRunner): Promise<{ mounted: boolean }> {
  let mounted = false;
  try {
    await access(`${BINFMT_DIR}/status`);
  } catch {
    await runner.run('mount', ['-t', 'binfmt_misc', 'binfmt_misc', BINFMT_DIR]);
    mounted = true;
  }
  await runner.run('update-binfmts', ['--enable'], { allowFailure: true });
  return { mounted };
}

export async function armEmulationEnabled(): Promise<boolean> {
  try {
    const states = await Promise.all(ARM_FORMATS.map((f) => readFile(`${BINFMT_DIR}/${f}`, 'utf8')));
    return states.every((s) => s.startsWith('enabled'));
  } catch {
    return false;
  }
}

export async function netnsExists(name: string): Promise<boolean> {
  try {
    return (await readdir('/run/netns')).includes(name);
  } catch {
    return false;
  }
}
