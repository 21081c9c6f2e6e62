import { UsageError } from '../errors.js';

/**
 * The swarm service a user means: the exact name ("hello-world_web"), or a stack's service by its
 * short name ("web") when exactly one stack has it.
 */
export function resolveServiceName(wanted: string, names: readonly string[]): string {
  if (names.includes(wanted)) return wanted;
  const matches = names.filter((n) => n.endsWith(`_${wanted}`)).sort();
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) throw new UsageError(`Several stacks have a service "${wanted}": ${matches.join(', ')}.`, `Give the full name, e.g. ${matches[0]}.`);
  throw new UsageError(`No service "${wanted}" in the swarm.`, names.length > 0 ? `Services: ${names.join(', ')}.` : 'Nothing is deployed yet: piswarm stack deploy FILE.');
}
