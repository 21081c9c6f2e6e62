import { remoteScript } from './remote-shell.js';
import { shq } from './shell-quote.js';

/**
 * Node-side scripts of `piswarm service …` and `node drain`, run on a manager.
 */

/** Which services: all, those named (IDs or full names), or a stack's. */
export type ServiceSelector = { names: readonly string[] } | { stack: string } | 'all';

/**
 * The selected services, a separator line, then all their tasks (history included), as JSON lines.
 * Through the engine API it is every service and task, one array each: two curl calls cost a node
 * less than three docker CLI starts, and the caller picks the selected ones.
 */
export function servicesStateScript(selector: ServiceSelector, currentOnly = false): string {
  // {"desired-state":["running"]}, URL-encoded: tasks meant to run now, without the history.
  const taskQuery = currentOnly ? '?filters=%7B%22desired-state%22%3A%5B%22running%22%5D%7D' : '';
  const taskFilter = currentOnly ? ' --filter desired-state=running' : '';
  const select = selector === 'all' ? 's=$(dk service ls -q)' : 'names' in selector ? `s=${shq(selector.names.join(' '))}` : `s=$(dk stack services ${shq(selector.stack)} -q 2>/dev/null || true)`;
  return remoteScript(
    `if has_api; then dapi /services; echo ---; dapi '/tasks${taskQuery}'; exit 0; fi`,
    select,
    '[ -z "$s" ] || dk service inspect $s --format \'{{json .}}\'',
    'echo ---',
    `t=; [ -z "$s" ] || t=$(dk service ps $s -q --no-trunc${taskFilter})`,
    '[ -z "$t" ] || dk inspect --type task $t --format \'{{json .}}\'',
  );
}

/** Sets replicas without waiting (piswarm follows the tasks itself). */
export function serviceScaleScript(targets: ReadonlyArray<{ name: string; replicas: number }>): string {
  return remoteScript(`dk service scale --detach ${targets.map((t) => shq(`${t.name}=${t.replicas}`)).join(' ')} >/dev/null`);
}

/** Whether a service is one the selector picks (API reads return them all). */
export function isSelected(selector: ServiceSelector, service: { id: string; name: string; stack?: string }): boolean {
  if (selector === 'all') return true;
  if ('names' in selector) return selector.names.includes(service.id) || selector.names.includes(service.name);
  return service.stack === selector.stack;
}
