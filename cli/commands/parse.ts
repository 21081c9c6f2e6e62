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
