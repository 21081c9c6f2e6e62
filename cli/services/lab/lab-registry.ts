import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isProcessAlive, type CommandRunner } from '../../adapters/process.js';
import { httpOk } from '../../adapters/probe.js';
import type { LabPlan } from '../../core/lab-plan.js';
import { PiswarmError } from '../../errors.js';
import { labDir } from './lab-state.js';

export function registryUrl(plan: LabPlan): string {
  return `http://${plan.registry}/v2/`;
}

export async function isRegistryUp(plan: LabPlan, pid?: number): Promise<boolean> {
  return pid !== undefined && isProcessAlive(pid) && (await httpOk(registryUrl(plan)));
}

/** Starts the lab's image registry (Debian's docker-registry) on the bridge address; returns its pid. */
export async function spawnRegistry(runner: CommandRunner, plan: LabPlan): Promise<number> {
  const dir = labDir(plan.name);
  const config = join(dir, 'registry.yml');
  await mkdir(join(dir, 'registry-data'), { recursive: true });
  await writeFile(
    config,
    [
      'version: 0.1',
      'log: {level: warn}',
      `storage: {filesystem: {rootdirectory: ${join(dir, 'registry-data')}}, delete: {enabled: true}}`,
      `http: {addr: "${plan.registry}"}`,
      '',
    ].join('\n'),
  );
  return runner.spawnDetached('docker-registry', ['serve', config], join(dir, 'registry.log'));
}

export async function waitForRegistry(plan: LabPlan, pid: number): Promise<void> {
  const dir = labDir(plan.name);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (await httpOk(registryUrl(plan), 500)) return;
    if (!isProcessAlive(pid)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new PiswarmError(`The lab registry did not start on ${plan.registry}.`, { hint: `See ${join(dir, 'registry.log')}.` });
}
