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

/** The live dashboard: follows the feed's snapshots and turns keys into actions. */
export function DashboardApp({ initial, subscribe, actions }: { initial: DashboardSnapshot; subscribe: (listener: (s: DashboardSnapshot) => void) => () => void; actions: DashboardActions }) {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const [snapshot, setSnapshot] = useState(initial);
  const [focus, setFocus] = useState<'nodes' | 'services'>('services');
  const [selected, setSelected] = useState({ nodes: 0, services: 0 });
  // A ref as well as state: keys typed faster than a render must see the question already asked or gone.
  const [confirm, setConfirmState] = useState<{ question: string; run: () => void } | undefined>();
  const pending = useRef(confirm);
  const setConfirm = (value: typeof confirm) => {
    pending.current = value;
    setConfirmState(value);
  };
  const [overlay, setOverlay] = useState<Overlay | undefined>();
  useEffect(() => subscribe(setSnapshot), [subscribe]);

  const node = snapshot.nodes[Math.min(selected.nodes, snapshot.nodes.length - 1)];
  const service = snapshot.services[Math.min(selected.services, snapshot.services.length - 1)];

  useInput((input, key) => {
    if (pending.current) {
      if (input === 'y') pending.current.run();
      setConfirm(undefined);
      return;
    }
    if (input === 'q' || key.escape) return exit();
    if (key.tab) return setFocus((f) => (f === 'nodes' ? 'services' : 'nodes'));
    if (key.upArrow || key.downArrow) {
      const count = focus === 'nodes' ? snapshot.nodes.length : snapshot.services.length;
      const step = key.upArrow ? -1 : 1;
      return setSelected((s) => ({ ...s, [focus]: Math.max(0, Math.min(count - 1, s[focus] + step)) }));
    }
    if ((input === '+' || input === '-') && service && service.mode === 'replicated') {
      const replicas = Math.max(0, service.desired + (input === '+' ? 1 : -1));
      if (replicas !== service.desired) actions.scale(service.name, replicas);
      return;
    }
    if (input === 'd' && node) return setConfirm({ question: `Drain ${node.hostname}? Its tasks move to other nodes first. y/n`, run: () => actions.drain(node.hostname) });
    if (input === 'a' && node) return setConfirm({ question: `Activate ${node.hostname}? New tasks may run on it again. y/n`, run: () => actions.activate(node.hostname) });
    if (input === 'l' && service) {
      if (overlay?.kind === 'logs') return setOverlay(undefined);
      void actions.logs(service.name).then((lines) => setOverlay({ kind: 'logs', service: service.name, lines }));
      return;
    }
    if (input === '?') setOverlay((o) => (o?.kind === 'help' ? undefined : { kind: 'help' }));
  });

  const shown = overlay?.kind === 'help' ? <HelpPanel /> : overlay?.kind === 'logs' ? <LogsPanel service={overlay.service} lines={overlay.lines} /> : undefined;
  return <DashboardView snapshot={snapshot} focus={focus} selectedNode={selected.nodes} selectedService={selected.services} overlay={shown} prompt={confirm?.question} live rows={stdout.rows || 24} />;
}
