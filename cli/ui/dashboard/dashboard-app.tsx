import { useApp, useInput, useStdout } from 'ink';
import { useEffect, useRef, useState } from 'react';
import type { DashboardSnapshot } from '../../core/dashboard.js';
import { DashboardView, HelpPanel, LogsPanel } from './panels.js';

/** What the keys do; the command wires them to the same services as the CLI commands. */
export interface DashboardActions {
  scale(service: string, replicas: number): void;
  drain(node: string): void;
  activate(node: string): void;
  logs(service: string): Promise<string[]>;
}

type Overlay = { kind: 'help' } | { kind: 'logs'; service: string; lines: string[] };

/** What the keys change. */
interface UiState {
  focus: 'nodes' | 'services';
  selected: { nodes: number; services: number };
  confirm?: { question: string; run: () => void };
  overlay?: Overlay;
}

/** The live dashboard: follows the feed's snapshots and turns keys into actions. */
export function DashboardApp({ initial, subscribe, actions }: { initial: DashboardSnapshot; subscribe: (listener: (s: DashboardSnapshot) => void) => () => void; actions: DashboardActions }) {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const [snapshot, setSnapshot] = useState(initial);
  const [ui, setUi] = useState<UiState>({ focus: 'services', selected: { nodes: 0, services: 0 } });
  // Keys read refs, not this render's state: a key typed before React has rendered (or before
  // ink re-subscribes the handler after a render) must act on the selection, question and
  // snapshot the previous keys left, not on what was last drawn.
  const latest = useRef({ ui, snapshot: initial });
  const update = (change: Partial<UiState>) => {
    latest.current.ui = { ...latest.current.ui, ...change };
    setUi(latest.current.ui);
  };
  useEffect(
    () =>
      subscribe((next) => {
        latest.current.snapshot = next;
        setSnapshot(next);
      }),
    [subscribe],
  );

  useInput((input, key) => {
    const { ui: now, snapshot: snap } = latest.current;
    const node = snap.nodes[Math.min(now.selected.nodes, snap.nodes.length - 1)];
    const service = snap.services[Math.min(now.selected.services, snap.services.length - 1)];
    if (now.confirm) {
      if (input === 'y') now.confirm.run();
      return update({ confirm: undefined });
    }
    if (input === 'q' || key.escape) return exit();
    if (key.tab) return update({ focus: now.focus === 'nodes' ? 'services' : 'nodes' });
    if (key.upArrow || key.downArrow) {
      const count = now.focus === 'nodes' ? snap.nodes.length : snap.services.length;
      const step = key.upArrow ? -1 : 1;
      return update({ selected: { ...now.selected, [now.focus]: Math.max(0, Math.min(count - 1, now.selected[now.focus] + step)) } });
    }
    if ((input === '+' || input === '-') && service && service.mode === 'replicated') {
      const replicas = Math.max(0, service.desired + (input === '+' ? 1 : -1));
      if (replicas !== service.desired) actions.scale(service.name, replicas);
      return;
    }
    if (input === 'd' && node) return update({ confirm: { question: `Drain ${node.hostname}? Its tasks move to other nodes first. y/n`, run: () => actions.drain(node.hostname) } });
    if (input === 'a' && node) return update({ confirm: { question: `Activate ${node.hostname}? New tasks may run on it again. y/n`, run: () => actions.activate(node.hostname) } });
    if (input === 'l' && service) {
      if (now.overlay?.kind === 'logs') return update({ overlay: undefined });
      void actions.logs(service.name).then((lines) => update({ overlay: { kind: 'logs', service: service.name, lines } }));
      return;
    }
    if (input === '?') update({ overlay: now.overlay?.kind === 'help' ? undefined : { kind: 'help' } });
  });

  const { overlay } = ui;
  const shown = overlay?.kind === 'help' ? <HelpPanel /> : overlay?.kind === 'logs' ? <LogsPanel service={overlay.service} lines={overlay.lines} /> : undefined;
  return <DashboardView snapshot={snapshot} focus={ui.focus} selectedNode={ui.selected.nodes} selectedService={ui.selected.services} overlay={shown} prompt={ui.confirm?.question} live rows={stdout.rows || 24} />;
}
