import { render } from 'ink-testing-library';
import type { ReactElement } from 'react';
import { describe, expect, it } from 'vitest';
import { describeEvent, parseResources, placementGrid, type DashboardSnapshot } from '../../cli/core/dashboard.js';
import type { ServiceSpecView } from '../../cli/core/swarm-objects.js';
import { DashboardApp, type DashboardActions } from '../../cli/ui/dashboard/dashboard-app.js';
import { DashboardView, EventsPanel, NodesPanel, PlacementPanel, QueuesPanel, ServicesPanel } from '../../cli/ui/dashboard/panels.js';
import { until } from '../helpers/wait.js';

const AT = Date.parse('2026-11-23T12:00:05Z');
const node = (hostname: string, extra: Partial<DashboardSnapshot['nodes'][number]> = {}): DashboardSnapshot['nodes'][number] => ({
  hostname,
  role: 'worker',
  leader: false,
  status: 'ready',
  availability: 'active',
  arch: 'aarch64',
  tasks: 1,
  ip: `10.0.0.${hostname.slice(-1)}`,
  ...extra,
});
const snapshot = (extra: Partial<DashboardSnapshot> = {}): DashboardSnapshot => ({
  manager: 'pi-01',
  stale: false,
  updatedAt: AT,
  nodes: [node('pi-01', { role: 'manager', leader: true, resources: { cpuPercent: 12, memoryPercent: 40, temperatureC: 48.3 } }), node('pi-02')],
  services: [{ name: 'hello_web', stack: 'hello', mode: 'replicated', running: 2, desired: 2, image: 'reg:5000/hello-world:1' }],
  placement: { services: ['hello_web'], nodes: ['pi-01', 'pi-02'], running: [[1, 1]] },
  events: [{ at: AT, level: 'info', text: 'hello_web.1 started on pi-01' }],
  ...extra,
});

describe('dashboard panels', () => {
  it('shows nodes with role, leader, resources and temperature', () => {
    const frame = render(<NodesPanel snapshot={snapshot()} />).lastFrame()!;
    expect(frame).toMatch(/pi-01\s+manager\*\s+ready\s+active\s+aarch64\s+12%\s+40%\s+48.3°C\s+1\s+-\s+10.0.0.1/);
    expect(frame).toMatch(/pi-02\s+worker\s+ready\s+active\s+aarch64\s+-\s+-\s+-\s+1/);
  });

  it("shows doctor's worst finding per node once it has run", () => {
    const health = { 'pi-01': { status: 'ok' as const, text: 'ok' }, 'pi-02': { status: 'warn' as const, text: 'log-rotation +1' } };
    const frame = render(<NodesPanel snapshot={snapshot({ health })} />).lastFrame()!;
    expect(frame).toContain('DOCTOR');
    expect(frame).toMatch(/pi-01\s+manager\*.*\s1\s+ok\s+10.0.0.1/);
    expect(frame).toMatch(/pi-02\s+worker.*\s1\s+! log-rotation \+1\s+10.0.0.2/);
  });

  it('says so when the cluster is empty', () => {
    const empty = snapshot({ nodes: [], services: [], placement: { services: [], nodes: [], running: [] }, events: [] });
    const frame = render(<DashboardView snapshot={empty} />).lastFrame()!;
    expect(frame).toContain('no nodes yet');
    expect(frame).toContain('no services (piswarm stack deploy FILE)');
    expect(frame).toContain('nothing yet');
    expect(frame).not.toContain('PLACEMENT');
  });

  it('shows a node that is down, and a failing service with too few tasks', () => {
    const s = snapshot({
      nodes: [node('pi-01', { role: 'manager', leader: true }), node('pi-02', { status: 'down', tasks: 0 })],
      services: [{ name: 'iot_consumer', stack: 'iot', mode: 'replicated', running: 1, desired: 3, image: 'reg/iot:1', update: 'rollback_started' }],
    });
    expect(render(<NodesPanel snapshot={s} />).lastFrame()).toMatch(/pi-02\s+worker\s+down/);
    expect(render(<ServicesPanel snapshot={s} />).lastFrame()).toMatch(/iot_consumer\s+iot\s+replicated\s+1\/3\s+reg\/iot:1\s+rollback_started/);
  });

  it('marks stale figures with the time they are from and why', () => {
    const frame = render(<DashboardView snapshot={snapshot({ stale: true, problem: 'pi-01: connection lost' })} />).lastFrame()!;
    expect(frame).toContain('STALE: figures as of 12:00:05; reconnecting (pi-01: connection lost)');
  });

  it('draws the placement grid, events and queues', () => {
    expect(render(<PlacementPanel snapshot={snapshot({ placement: { services: ['a', 'b'], nodes: ['pi-01', 'pi-02'], running: [[2, 0], [0, 1]] } })} />).lastFrame()).toMatch(/a\s+2\s+·\n.*b\s+·\s+1/);
    expect(render(<EventsPanel events={[{ at: AT, level: 'error', text: 'x on pi-02 exited with code 137' }]} />).lastFrame()).toContain('12:00:05 x on pi-02 exited with code 137');
    expect(render(<QueuesPanel queues={[{ name: 'sensor-readings', messages: 42, consumers: 3 }]} />).lastFrame()).toMatch(/sensor-readings\s+42\s+3/);
  });
});

describe('dashboard layout', () => {
  it('fits a terminal however many services there are, keeping the selected one in view', () => {
    const services = Array.from({ length: 100 }, (_, i) => ({ name: `s${String(i).padStart(3, '0')}`, mode: 'replicated' as const, running: 1, desired: 1, image: 'hello:1' }));
    const placement = { services: services.map((s) => s.name), nodes: ['pi-01', 'pi-02'], running: services.map(() => [1, 0]) };
    const nodes = Array.from({ length: 12 }, (_, i) => node(`pi-${String(i + 1).padStart(2, '0')}`));
    const frame = render(<DashboardView snapshot={snapshot({ services, placement, nodes })} focus="services" selectedService={70} rows={50} live />).lastFrame()!;
    expect(frame.split('\n').length).toBeLessThan(50);
    expect(frame).toContain('› s070');
    expect(frame).toMatch(/… \d+ above, \d+ below/);
    expect(frame).toContain('SERVICES (100)');
  });
});

describe('dashboard keys', () => {
  const recorder = () => {
    const calls: string[] = [];
    const actions: DashboardActions = {
      scale: (s, n) => void calls.push(`scale ${s} ${n}`),
      drain: (n) => void calls.push(`drain ${n}`),
      activate: (n) => void calls.push(`activate ${n}`),
      logs: async (s) => (calls.push(`logs ${s}`), ['line one', 'line two']),
    };
    return { calls, actions };
  };
  /** Polls until `ready` holds (ink applies a key's state change on its next render), with room for a busy machine. */
  const waitFor = (ready: () => boolean, what: string) => until(ready, 10_000, what, 10);
  /**
   * Renders the app and waits until it reads its input: ink attaches its stdin listener in an
   * effect after the first render, and ink-testing-library drops a key written before that.
   */
  const start = async (element: ReactElement) => {
    const app = render(element);
    await waitFor(() => app.stdin.listenerCount('readable') > 0, 'the app to read its input');
    return app;
  };

  it('scales the selected service with + and -, drains and activates the selected node after a y', async () => {
    const { calls, actions } = recorder();
    const app = await start(<DashboardApp initial={snapshot()} subscribe={() => () => undefined} actions={actions} />);
    app.stdin.write('+');
    await waitFor(() => calls.length === 1, 'the first scale');
    app.stdin.write('-');
    await waitFor(() => calls.length === 2, 'the second scale');
    app.stdin.write('\t'); // to nodes
    await waitFor(() => /› pi-01/.test(app.lastFrame()!), 'the nodes panel to take the focus');
    app.stdin.write('\u001B[B'); // down: pi-02
    await waitFor(() => /› pi-02/.test(app.lastFrame()!), 'pi-02 selected');
    app.stdin.write('d');
    await waitFor(() => app.lastFrame()!.includes('Drain pi-02? Its tasks move to other nodes first. y/n'), 'the drain question');
    app.stdin.write('n');
    await waitFor(() => !app.lastFrame()!.includes('Drain pi-02?'), 'the question to go');
    app.stdin.write('d');
    await waitFor(() => app.lastFrame()!.includes('Drain pi-02?'), 'the drain question again');
    app.stdin.write('y');
    await waitFor(() => calls.length === 3, 'the drain');
    app.stdin.write('a');
    await waitFor(() => app.lastFrame()!.includes('Activate pi-02?'), 'the activate question');
    app.stdin.write('y');
    await waitFor(() => calls.length === 4, 'the activation');
    expect(calls).toEqual(['scale hello_web 3', 'scale hello_web 1', 'drain pi-02', 'activate pi-02']);
  });

  it('acts on keys typed faster than it renders as on keys typed one by one', async () => {
    const { calls, actions } = recorder();
    const app = await start(<DashboardApp initial={snapshot()} subscribe={() => () => undefined} actions={actions} />);
    for (const key of ['\t', '\u001B[B', 'd']) app.stdin.write(key); // no render in between
    await waitFor(() => app.lastFrame()!.includes('Drain pi-02?'), 'the drain question for pi-02');
    for (const key of ['y', 'l']) app.stdin.write(key);
    await waitFor(() => app.lastFrame()!.includes('LOGS hello_web'), 'the logs');
    expect(calls).toEqual(['drain pi-02', 'logs hello_web']);
  });

  it('shows logs and help, and follows new snapshots', async () => {
    const { actions } = recorder();
    let push: (s: DashboardSnapshot) => void = () => undefined;
    const app = await start(<DashboardApp initial={snapshot()} subscribe={(listener) => ((push = listener), () => undefined)} actions={actions} />);
    app.stdin.write('l');
    await waitFor(() => app.lastFrame()!.includes('LOGS hello_web'), 'the logs');
    expect(app.lastFrame()).toContain('line two');
    app.stdin.write('?');
    await waitFor(() => app.lastFrame()!.includes('d / a      drain / activate the selected node'), 'the help');
    push(snapshot({ services: [{ name: 'hello_web', stack: 'hello', mode: 'replicated', running: 5, desired: 5, image: 'reg:5000/hello-world:1' }] }));
    await waitFor(() => /hello_web\s+hello\s+replicated\s+5\/5/.test(app.lastFrame()!), 'the new snapshot');
  });
});

describe('dashboard model', () => {
  it('reads CPU from two /proc/stat samples, memory and the SoC temperature', () => {
    const first = parseResources('cpu  100 0 100 800 0 0 0 0 0 0\nMemTotal: 1000 kB\nMemAvailable: 250 kB\n48312\n');
    expect(first.resources).toEqual({ memoryPercent: 75, temperatureC: 48.3 });
    const second = parseResources('cpu  150 0 150 900 0 0 0 0 0 0\nMemTotal: 1000 kB\nMemAvailable: 500 kB\n', first.sample);
    expect(second.resources).toEqual({ cpuPercent: 50, memoryPercent: 50 });
  });

  it('puts engine events in plain words and drops the noise', () => {
    const names = (id: string) => ({ n2: 'pi-02' })[id];
    const task = { 'com.docker.swarm.task.name': 'hello_web.2.abcdefghijklmnopqrstuvwxy' };
    expect(describeEvent({ Type: 'container', Action: 'die', time: 1, Actor: { Attributes: { ...task, exitCode: '137' } } }, names, 'pi-02')).toEqual({ at: 1000, level: 'error', text: 'hello_web.2 on pi-02 exited with code 137' });
    expect(describeEvent({ Type: 'node', Action: 'update', time: 1, Actor: { ID: 'n2', Attributes: { 'state.new': 'down', 'state.old': 'ready' } } }, names, 'pi-01')?.text).toBe('pi-02 is down');
    expect(describeEvent({ Type: 'node', Action: 'update', time: 1, Actor: { ID: 'n2', Attributes: { name: 'pi-02', 'availability.new': 'drain' } } }, names, 'pi-01')?.text).toBe('pi-02 set to drain');
    expect(describeEvent({ Type: 'service', Action: 'update', time: 1, Actor: { Attributes: { name: 'hello_web', 'replicas.old': '2', 'replicas.new': '3' } } }, names, 'pi-01')?.text).toBe('hello_web scaled 2 → 3');
    expect(describeEvent({ Type: 'container', Action: 'attach', time: 1, Actor: { Attributes: task } }, names, 'pi-02')).toBeUndefined();
    expect(describeEvent({ Type: 'container', Action: 'die', time: 1, Actor: { Attributes: { ...task, exitCode: '0' } } }, names, 'pi-02')).toBeUndefined();
  });

  it('counts running tasks per service and node for the placement grid', () => {
    const s = (id: string, name: string) => ({ id, name }) as ServiceSpecView;
    const t = (serviceId: string, nodeId: string, state = 'running') => ({ id: `${serviceId}${nodeId}${state}`, serviceId, nodeId, state, desiredState: 'running', since: 0 });
    expect(placementGrid([s('b', 'web'), s('a', 'db')], [t('b', 'n1'), t('b', 'n1'), t('a', 'n2'), t('a', 'n1', 'pending')], [{ id: 'n1', hostname: 'pi-01' }, { id: 'n2', hostname: 'pi-02' }])).toEqual({
      services: ['db', 'web'],
      nodes: ['pi-01', 'pi-02'],
      running: [[0, 1], [2, 0]],
    });
  });
});
