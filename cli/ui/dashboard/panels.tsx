import { Box, Text } from 'ink';
import type { DashboardEvent, DashboardSnapshot, QueueView } from '../../core/dashboard.js';

/** The dashboard's panels: plain functions of the snapshot, so each renders alone in tests. */

type Row = readonly string[];

/** A fixed-width table: columns as wide as their widest cell; the selected row marked. */
function Table({ header, rows, selected, colour }: { header: Row; rows: readonly Row[]; selected?: number; colour?: (row: number) => string | undefined }) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: Row) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return (
    <Box flexDirection="column">
      <Text dimColor>{`  ${line(header)}`}</Text>
      {rows.map((r, i) => (
        <Text key={i} inverse={i === selected} color={colour?.(i)}>
          {`${i === selected ? '›' : ' '} ${line(r)}`}
        </Text>
      ))}
    </Box>
  );
}

function Panel({ title, focused, children }: { title: string; focused?: boolean; children: React.ReactNode }) {
  return (
    <Box flexDirection="column" marginBottom={1}>
      <Text bold color={focused ? 'cyan' : undefined}>
        {title}
      </Text>
      {children}
    </Box>
  );
}

/** Doctor's worst finding: "-" until its first run, then "ok", "! log-rotation +1" or "✗ docker". */
const health = (found: { status: string; text: string } | undefined) => (!found ? '-' : found.status === 'ok' ? 'ok' : `${found.status === 'fail' ? '✗' : '!'} ${found.text}`);

const percent = (n: number | undefined) => (n === undefined ? '-' : `${n}%`);

export function NodesPanel({ snapshot, selected, focused }: { snapshot: DashboardSnapshot; selected?: number; focused?: boolean }) {
  if (snapshot.nodes.length === 0) return <Panel title="NODES" focused={focused}><Text dimColor>  no nodes yet</Text></Panel>;
  const rows = snapshot.nodes.map((n) => [
    n.hostname,
    n.leader ? 'manager*' : n.role,
    n.status,
    n.availability,
    n.arch,
    percent(n.resources?.cpuPercent),
    percent(n.resources?.memoryPercent),
    n.resources?.temperatureC === undefined ? '-' : `${n.resources.temperatureC}°C`,
    String(n.tasks),
    health(snapshot.health?.[n.hostname]),
    n.ip ?? '-',
  ]);
  const colour = (i: number) => {
    const n = snapshot.nodes[i]!;
    const found = snapshot.health?.[n.hostname]?.status;
    return n.status !== 'ready' || found === 'fail' ? 'red' : n.availability !== 'active' || found === 'warn' ? 'yellow' : undefined;
  };
  return (
    <Panel title="NODES" focused={focused}>
      <Table header={['HOSTNAME', 'ROLE', 'STATUS', 'AVAIL', 'ARCH', 'CPU', 'MEM', 'TEMP', 'TASKS', 'DOCTOR', 'IP']} rows={rows} selected={focused ? selected : undefined} colour={colour} />
    </Panel>
  );
}

/** The rows of a long list that fit: `size` of them, keeping `selected` in view. */
export function visibleWindow(total: number, selected: number, size: number): { start: number; end: number } {
  if (total <= size) return { start: 0, end: total };
  const start = Math.max(0, Math.min(total - size, selected - Math.floor(size / 2)));
  return { start, end: start + size };
}

function MoreLine({ total, window }: { total: number; window: { start: number; end: number } }) {
  if (window.start === 0 && window.end === total) return null;
  return <Text dimColor>{`  … ${window.start} above, ${total - window.end} below (↑↓)`}</Text>;
}

export function ServicesPanel({ snapshot, selected = 0, focused, window }: { snapshot: DashboardSnapshot; selected?: number; focused?: boolean; window?: { start: number; end: number } }) {
  if (snapshot.services.length === 0) return <Panel title="SERVICES" focused={focused}><Text dimColor>  no services (piswarm stack deploy FILE)</Text></Panel>;
  const shown = window ?? { start: 0, end: snapshot.services.length };
  const services = snapshot.services.slice(shown.start, shown.end);
  const rows = services.map((s) => [s.name, s.stack ?? '-', s.mode, `${s.running}/${s.desired}`, s.image, s.update ?? '-']);
  const colour = (i: number) => {
    const s = services[i]!;
    if (s.update?.startsWith('rollback') || (s.desired > 0 && s.running === 0)) return 'red';
    return s.running < s.desired ? 'yellow' : undefined;
  };
  return (
    <Panel title={`SERVICES (${snapshot.services.length})`} focused={focused}>
      <Table header={['NAME', 'STACK', 'MODE', 'RUNNING', 'IMAGE', 'UPDATE']} rows={rows} selected={focused ? selected - shown.start : undefined} colour={colour} />
      <MoreLine total={snapshot.services.length} window={shown} />
    </Panel>
  );
}

/** Tasks running per service and node, as the swarm visualizer shows placement. */
export function PlacementPanel({ snapshot, window }: { snapshot: DashboardSnapshot; window?: { start: number; end: number } }) {
  const { services, nodes, running } = snapshot.placement;
  if (services.length === 0 || nodes.length === 0) return null;
  const shown = window ?? { start: 0, end: services.length };
  const rows = services.slice(shown.start, shown.end).map((s, i) => [s, ...running[shown.start + i]!.map((n) => (n === 0 ? '·' : String(n)))]);
  return (
    <Panel title="PLACEMENT">
      <Table header={['SERVICE', ...nodes]} rows={rows} />
    </Panel>
  );
}

const clock = (at: number) => new Date(at).toISOString().slice(11, 19);

export function EventsPanel({ events, limit = 8 }: { events: readonly DashboardEvent[]; limit?: number }) {
  return (
    <Panel title="EVENTS">
      {events.length === 0 ? <Text dimColor>  nothing yet</Text> : null}
      {events.slice(0, limit).map((e, i) => (
        <Text key={i} color={e.level === 'error' ? 'red' : e.level === 'warn' ? 'yellow' : undefined}>{`  ${clock(e.at)} ${e.text}`}</Text>
      ))}
    </Panel>
  );
}

export function QueuesPanel({ queues }: { queues?: readonly QueueView[] }) {
  if (!queues || queues.length === 0) return null;
  return (
    <Panel title="QUEUES">
      <Table header={['QUEUE', 'MESSAGES', 'CONSUMERS']} rows={queues.map((q) => [q.name, String(q.messages), String(q.consumers)])} />
    </Panel>
  );
}

/** Where the figures come from, and whether they are current. */
export function StatusBar({ snapshot }: { snapshot: DashboardSnapshot }) {
  const when = snapshot.updatedAt ? clock(snapshot.updatedAt) : 'never';
  return (
    <Box flexDirection="column" marginBottom={1}>
      <Text>
        <Text bold>piswarm dashboard</Text>
        {` · manager ${snapshot.manager ?? '-'} · updated ${when}`}
      </Text>
      {snapshot.stale ? <Text color="red">{`STALE: figures as of ${when}; reconnecting (${snapshot.problem ?? 'no manager answers'})`}</Text> : null}
    </Box>
  );
}

export const HELP = [
  'tab        switch between nodes and services',
  '↑ ↓        select',
  '+ -        scale the selected service up or down by one',
  'd / a      drain / activate the selected node (asks first)',
  'l          logs of the selected service',
  '?          this help',
  'q          quit',
];

export function HelpPanel() {
  return (
    <Panel title="KEYS">
      {HELP.map((line) => (
        <Text key={line}>{`  ${line}`}</Text>
      ))}
    </Panel>
  );
}

export function LogsPanel({ service, lines }: { service: string; lines: readonly string[] }) {
  return (
    <Panel title={`LOGS ${service} (l to close)`}>
      {lines.length === 0 ? <Text dimColor>  no output</Text> : lines.map((l, i) => <Text key={i}>{`  ${l}`}</Text>)}
    </Panel>
  );
}

/** Lines the screen needs besides the service rows (titles, headers, margins, nodes, events, footer). */
function fixedLines(snapshot: DashboardSnapshot, events: number): number {
  const queues = snapshot.queues?.length ? snapshot.queues.length + 3 : 0;
  return 3 + (snapshot.stale ? 1 : 0) + (snapshot.nodes.length + 3) + 4 + 4 + queues + (events + 2) + 2;
}

/**
 * The whole screen for one snapshot: what --once prints, and what the live view shows. With
 * `rows` (the terminal's height) the service list and placement grid show a window around the
 * selected service, so the screen never outgrows the terminal (a taller one is redrawn whole).
 */
export function DashboardView(props: {
  snapshot: DashboardSnapshot;
  focus?: 'nodes' | 'services';
  selectedNode?: number;
  selectedService?: number;
  overlay?: React.ReactNode;
  prompt?: string;
  live?: boolean;
  rows?: number;
}) {
  const { snapshot, focus } = props;
  const events = props.rows ? Math.min(8, Math.max(3, Math.floor(props.rows / 8))) : 8;
  const room = props.rows ? Math.max(2, Math.floor((props.rows - fixedLines(snapshot, events)) / 2)) : snapshot.services.length;
  const window = visibleWindow(snapshot.services.length, props.selectedService ?? 0, room);
  return (
    <Box flexDirection="column">
      <StatusBar snapshot={snapshot} />
      <NodesPanel snapshot={snapshot} selected={props.selectedNode} focused={focus === 'nodes'} />
      <ServicesPanel snapshot={snapshot} selected={props.selectedService} focused={focus === 'services'} window={window} />
      <PlacementPanel snapshot={snapshot} window={window} />
      <QueuesPanel queues={snapshot.queues} />
      {props.overlay ?? <EventsPanel events={snapshot.events} limit={events} />}
      {props.prompt ? <Text color="cyan">{props.prompt}</Text> : null}
      {props.live ? <Text dimColor>tab switch · ↑↓ select · +/- scale · d drain · a activate · l logs · ? help · q quit</Text> : null}
    </Box>
  );
}
