import { validateUsername } from '../core/card-settings.js';
import type { Inventory } from '../core/inventory.js';
import { text } from 'node:stream/consumers';
import { UsageError } from '../errors.js';

/** Parses a whole-number flag, naming the flag and the allowed range when it is wrong. */
export function parseIntegerFlag(flag: string, value: string, min: number, max: number, hint?: string): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${value}".`, hint);
  }
  return n;
}

/** The first line of standard input, without its line break (a password given with --password-stdin). */
export async function firstLineOfStdin(): Promise<string> {
  return (await text(process.stdin)).split(/\r?\n/)[0]!;
}

/**
 * `--user NAME`, checked, recorded as the login user of every inventory node that names none (a
 * Pi piswarm did not flash), so this and every later command logs in as it. The name, or undefined.
 */
export function recordUserFlag(inventory: Inventory, user: string | undefined): string | undefined {
  if (user === undefined) return undefined;
  const name = validateUsername(user);
  for (const node of inventory.nodes()) if (!node.user) inventory.upsertNode(node.mac, { user: name });
  return name;
}
