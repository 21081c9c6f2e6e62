import { remoteScript } from './remote-shell.js';
import { shq } from './shell-quote.js';

/**
 * Node-side scripts of `piswarm service …` and `node drain`, run on a manager.
 */

/** Which services: all, those named (IDs or full names), or a stack's. */
export type ServiceSelector = { names: readonly string[] } | { stack: string } | 'all';

/** Sets replicas without waiting (piswarm follows the tasks itself). */
export function serviceScaleScript(targets: ReadonlyArray<{ name: string; replicas: number }>): string {
  return remoteScript(`dk service scale --detach ${targets.map((t) => shq(`${t.name}=${t.replicas}`)).join(' ')} >/dev/null`);
}

/** Whether a service is one the selector picks (the engine's lists hold them all). */
export function isSelected(selector: ServiceSelector, service: { id: string; name: string; stack?: string }): boolean {
  if (selector === 'all') return true;
  if ('names' in selector) return selector.names.includes(service.id) || selector.names.includes(service.name);
  return service.stack === selector.stack;
}
