import type { TaskState } from './convergence.js';
import type { NodeRow } from './node-table.js';
import type { ServiceRow } from './service-table.js';
import type { ServiceSpecView } from './swarm-objects.js';

/**
 * What `piswarm dashboard` shows, as data: built from the same readers as node ls and service
 * ls, rendered by ui/dashboard (or printed as JSON).
 */

export interface NodeResources {
  cpuPercent?: number;
  memoryPercent?: number;
  temperatureC?: number;
}

export interface DashboardEvent {
  at: number;
  level: 'info' | 'warn' | 'error';
  text: string;
}

export interface QueueView {
  name: string;
  messages: number;
  consumers: number;
}

export interface DashboardSnapshot {
  /** The manager the figures come from. */
  manager?: string;
  /** True when the last read failed: the figures are as of `updatedAt`. */
  stale: boolean;
  problem?: string;
  updatedAt: number;
  nodes: Array<NodeRow & { resources?: NodeResources }>;
  services: ServiceRow[];
  /** Running tasks per service (rows) and node (columns), like the swarm visualizer. */
  placement: { services: string[]; nodes: string[]; running: number[][] };
  events: DashboardEvent[];
  queues?: QueueView[];
  /** Each node's worst doctor finding by hostname ("ok", or a check's id), read every few minutes. */
  health?: Record<string, { status: 'ok' | 'warn' | 'fail'; text: string }>;
}

export function placementGrid(services: readonly ServiceSpecView[], tasks: readonly TaskState[], nodes: ReadonlyArray<{ id: string; hostname: string }>): DashboardSnapshot['placement'] {
  const names = [...services].sort((a, b) => a.name.localeCompare(b.name));
  return {
    services: names.map((s) => s.name),
    nodes: nodes.map((n) => n.hostname),
    running: names.map((s) => nodes.map((n) => tasks.filter((t) => t.serviceId === s.id && t.nodeId === n.id && t.desiredState === 'running' && t.state === 'running').length)),
  };
}

/** CPU counters, memory, and the SoC temperature a Pi reports: the files a node's figures come from. */
export const NODE_RESOURCE_FILES = ['/proc/stat', '/proc/meminfo', '/sys/class/thermal/thermal_zone0/temp'] as const;

export interface CpuSample {
  busy: number;
  total: number;
}

/** Those files' text (one after another) as figures; CPU needs the previous sample (it is a share of the time between two). */
export function parseResources(stdout: string, previous?: CpuSample): { resources: NodeResources; sample?: CpuSample } {
  const lines = stdout.split('\n');
  const resources: NodeResources = {};
  let sample: CpuSample | undefined;
  const cpu = lines.find((l) => l.startsWith('cpu '));
  if (cpu) {
    const fields = cpu.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    sample = { busy: total - idle, total };
    if (previous && total > previous.total) resources.cpuPercent = Math.round((100 * (sample.busy - previous.busy)) / (total - previous.total));
  }
  const kb = (key: string) => Number(/(\d+)/.exec(lines.find((l) => l.startsWith(`${key}:`)) ?? '')?.[1]);
  const [memTotal, memAvailable] = [kb('MemTotal'), kb('MemAvailable')];
  if (memTotal > 0 && Number.isFinite(memAvailable)) resources.memoryPercent = Math.round((100 * (memTotal - memAvailable)) / memTotal);
  const temp = lines.find((l) => /^\d{4,6}$/.test(l.trim()));
  if (temp) resources.temperatureC = Math.round(Number(temp) / 100) / 10;
  return { resources, ...(sample ? { sample } : {}) };
}

/**
 * An engine event in plain words, or undefined for the many that say nothing a person needs
 * (container create/attach, network connects, exec…). `nodeName` maps node IDs to hostnames.
 */
export function describeEvent(event: Record<string, any>, nodeName: (id: string) => string | undefined, host: string): DashboardEvent | undefined {
  const at = Math.floor(Number(event.timeNano ?? 0) / 1e6) || Number(event.time ?? 0) * 1000 || Date.now();
  const attributes: Record<string, string> = event.Actor?.Attributes ?? {};
  const task = attributes['com.docker.swarm.task.name']?.replace(/\.[a-z0-9]{25}$/, '');
  if (event.Type === 'container' && task) {
    if (event.Action === 'die' && attributes.exitCode !== '0') return { at, level: 'error', text: `${task} on ${host} exited with code ${attributes.exitCode}` };
    if (event.Action === 'start') return { at, level: 'info', text: `${task} started on ${host}` };
    if (event.Action === 'health_status: unhealthy') return { at, level: 'warn', text: `${task} on ${host} is unhealthy` };
    if (event.Action === 'oom') return { at, level: 'error', text: `${task} on ${host} ran out of memory` };
    return undefined;
  }
  if (event.Type === 'node') {
    const name = attributes.name ?? nodeName(event.Actor?.ID) ?? event.Actor?.ID;
    if (attributes['state.new']) return { at, level: attributes['state.new'] === 'ready' ? 'info' : 'error', text: `${name} is ${attributes['state.new']}` };
    if (attributes['availability.new']) return { at, level: attributes['availability.new'] === 'active' ? 'info' : 'warn', text: `${name} set to ${attributes['availability.new']}` };
    if (attributes['role.new']) return { at, level: 'info', text: `${name} is a ${attributes['role.new']} now` };
    if (event.Action === 'remove') return { at, level: 'warn', text: `${name} left the swarm` };
    return undefined;
  }
  if (event.Type === 'service') {
    const name = attributes.name ?? event.Actor?.ID;
    if (attributes['replicas.new']) return { at, level: 'info', text: `${name} scaled ${attributes['replicas.old'] ?? '?'} → ${attributes['replicas.new']}` };
    if (attributes['updatestate.new']?.startsWith('rollback')) return { at, level: 'error', text: `${name} is rolling back` };
    if (event.Action === 'create') return { at, level: 'info', text: `${name} created` };
    if (event.Action === 'remove') return { at, level: 'info', text: `${name} removed` };
    return undefined;
  }
  return undefined;
}
