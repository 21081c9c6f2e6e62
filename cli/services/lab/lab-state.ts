import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../adapters/inventory-file.js';
import type { BootLogin } from '../../core/boot-config.js';
import type { LabPlan } from '../../core/lab-plan.js';

/** Root of every lab's files; overridable so tests and users can keep labs elsewhere. */
export function labsRoot(): string {
  return process.env.PISWARM_LAB_ROOT ?? '/var/lib/piswarm/labs';
}

export function labDir(name: string): string {
  return join(labsRoot(), name);
}

export function nodeDir(labName: string, hostname: string): string {
  return join(labDir(labName), 'nodes', hostname);
}

/** What `lab up` made, recorded as it goes so `lab down` can undo even a half-made lab. */
export interface LabState {
  plan: LabPlan;
  createdAt: string;
  registryPid?: number;
  /** Set when this lab mounted binfmt_misc itself, so down unmounts it again. */
  mountedBinfmt?: boolean;
  /** Each node's share of one core, when the lab was made with --cpu. */
  cpu?: number;
  /** login: how the node was booted to accept logins (absent in labs made before it was kept). */
  nodes: Record<string, { anchorPid: number; startedAt: string; login?: BootLogin }>;
}

export async function readLabState(name: string): Promise<LabState | undefined> {
  try {
    return JSON.parse(await readFile(join(labDir(name), 'state.json'), 'utf8')) as LabState;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export async function writeLabState(state: LabState): Promise<void> {
  await mkdir(labDir(state.plan.name), { recursive: true });
  await writeFileAtomic(join(labDir(state.plan.name), 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
}
