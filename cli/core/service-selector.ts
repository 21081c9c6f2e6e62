/** Which services: all, those named (IDs or full names), or a stack's. */
export type ServiceSelector = { names: readonly string[] } | { stack: string } | 'all';

/** Whether a service is one the selector picks (the engine's lists hold them all). */
export function isSelected(selector: ServiceSelector, service: { id: string; name: string; stack?: string }): boolean {
  if (selector === 'all') return true;
  if ('names' in selector) return selector.names.includes(service.id) || selector.names.includes(service.name);
  return service.stack === selector.stack;
}
