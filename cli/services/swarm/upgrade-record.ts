import { createHash } from 'node:crypto';
import type { NodeSession } from './node-session.js';

/**
 * How far an upgrade got, kept in the swarm itself (a config named piswarm-upgrade, its labels
 * updated as nodes finish), so a rerun from any machine resumes where the last one stopped. The
 * action is recorded by its hash only: a command line may hold what should not be stored.
 */
const NAME = 'piswarm-upgrade';
const LABEL = 'io.piswarm.upgrade';

export interface UpgradeRecord {
  action: string;
  done: Set<string>;
  current?: string;
  demoted?: string;
}

export function actionKey(action: string, reboot: boolean): string {
  return createHash('sha256').update(`${reboot ? 'reboot' : 'no-reboot'}\n${action}`).digest('hex').slice(0, 16);
}

/** The record of an unfinished upgrade, when there is one. */
export async function readUpgradeRecord(manager: NodeSession): Promise<(UpgradeRecord & { id: string }) | undefined> {
  const found = (await manager.engine('read the upgrade record', (api) => api.labelled('config', LABEL))).find((o) => o.name === NAME);
  if (!found) return undefined;
  const list = (key: string) => (found.labels[`${LABEL}.${key}`] ?? '').split(',').filter(Boolean);
  return { id: found.id, action: found.labels[`${LABEL}.action`] ?? '', done: new Set(list('done')), current: found.labels[`${LABEL}.current`] || undefined, demoted: found.labels[`${LABEL}.demoted`] || undefined };
}

/** Keeps the record as it now is (created on the first write). */
export async function writeUpgradeRecord(manager: NodeSession, record: UpgradeRecord): Promise<void> {
  const labels = {
    [LABEL]: 'true',
    [`${LABEL}.action`]: record.action,
    [`${LABEL}.done`]: [...record.done].join(','),
    [`${LABEL}.current`]: record.current ?? '',
    [`${LABEL}.demoted`]: record.demoted ?? '',
  };
  const existing = await readUpgradeRecord(manager);
  if (existing) await manager.engine('update the upgrade record', (api) => api.relabelConfig(existing.id, labels));
  else await manager.engine('record the upgrade', (api) => api.createObject('config', NAME, JSON.stringify({ action: record.action, started: new Date().toISOString() }), labels));
}

/** The upgrade is over: its record goes. */
export async function clearUpgradeRecord(manager: NodeSession): Promise<void> {
  const existing = await readUpgradeRecord(manager);
  if (existing) await manager.engine('remove the upgrade record', (api) => api.remove('config', existing.id));
}
