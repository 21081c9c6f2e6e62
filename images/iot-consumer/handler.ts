import { SENSOR_TYPES, type Reading } from '../iot-shared/topology.js';

/** A message that can never be processed: retrying it cannot help. */
export class PoisonMessage extends Error {}

/** Parses and checks one reading; throws PoisonMessage for anything that is not a valid reading. */
export function parseReading(body: Buffer): Reading {
  let data: Partial<Reading>;
  try {
    data = JSON.parse(body.toString('utf8')) as Partial<Reading>;
  } catch {
    throw new PoisonMessage('not JSON');
  }
  if (typeof data.id !== 'string' || data.id === '') throw new PoisonMessage('no id');
  if (!SENSOR_TYPES.includes(data.type as never)) throw new PoisonMessage(`unknown sensor type ${JSON.stringify(data.type)}`);
  if (typeof data.value !== 'number' && typeof data.value !== 'boolean') throw new PoisonMessage('no value');
  return data as Reading;
}

/** Ids seen lately, to handle a redelivered message once; the oldest are forgotten first. */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(private readonly limit: number) {}

  /** True the first time an id is added. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.limit) this.ids.delete(this.ids.values().next().value!);
    return true;
  }
}
