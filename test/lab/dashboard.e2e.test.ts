import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DashboardSnapshot } from '../../cli/core/dashboard.js';
import { CLI, piswarm } from '../helpers/cli.js';
import { startSwarmLab } from '../helpers/lab-images.js';
import { hostDiskRoomy, labEnv, labLeftovers } from '../helpers/lab.js';
import { until } from '../helpers/wait.js';

const NAME = 'dsh';
const REGISTRY = '10.93.0.1:5000';
const NODES = ['10.93.0.11', '10.93.0.12', '10.93.0.13'];
const TMUX = 'piswarm-dashboard-test';
const dir = mkdtempSync(join(tmpdir(), 'piswarm-dashboard-'));
const user = { HOME: dir, SSH_AUTH_SOCK: '' };
const inventory = join(dir, 'piswarm.yaml');
const lab = (command: string, ...args: string[]) => piswarm(['lab', command, '--name', NAME, ...args], { env: labEnv });
const cli = (args: string[]) => piswarm(['--inventory', inventory, ...args], { env: user });
const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-t', TMUX);
/** Waits until the pane shows `pattern`; a timeout reports what it showed instead. */
async function onScreen(pattern: RegExp, timeoutMs: number): Promise<void> {
  await until(() => pattern.test(screen()), timeoutMs, `${pattern} on screen`).catch((error: Error) => {
    throw new Error(`${error.message}; the screen:\n${screen()}`);
  });
}
/** One key, as a person types it; the next waits for this one's effect on screen (keys sent together reach the app as one chunk). */
const press = (key: string) => void tmux('send-keys', '-t', TMUX, key);
let labPids: number[] = [];

beforeAll(async () => {
  labPids = await startSwarmLab({ name: NAME, subnet: '10.93.0.0/24', nodes: NODES, registry: REGISTRY, inventory, env: user });
  const file = join(dir, 'hello.yml');
  writeFileSync(file, `services:\n  web:\n    image: ${REGISTRY}/hello-world:1\n    deploy:\n      replicas: 2\n`);
  const run = await cli(['stack', 'deploy', file, '--name', 'hello', '--window', '0']);
  if (run.code !== 0) throw new Error(`deploy failed: ${run.stderr}`);
});

afterAll(async () => {
  // Always tear down, whatever failed above: CI runs on this same machine afterwards.
  try {
    tmux('kill-session', '-t', TMUX);
  } catch {
    // already gone
  }
  await lab('down');
  expect(labLeftovers(NAME, labPids)).toEqual([]);
});

describe('piswarm dashboard on the lab', () => {
  it('prints one snapshot with --once (and when stdout is not a terminal), and JSON with --json', async () => {
    const once = await cli(['dashboard', '--once']);
    expect(once.code, once.stderr).toBe(0);
    expect(once.stdout).toMatch(/pi-01\s+manager\*\s+ready\s+active\s+x86_64\s+\d+%\s+\d+%/);
    expect(once.stdout).toMatch(/hello_web\s+hello\s+replicated\s+2\/2/);
    expect(once.stdout).toContain('PLACEMENT');
    const json = await cli(['dashboard', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const snapshot = JSON.parse(json.stdout) as DashboardSnapshot;
    expect(snapshot.nodes.map((n) => n.hostname)).toEqual(['pi-01', 'pi-02', 'pi-03']);
    expect(snapshot.services).toEqual([expect.objectContaining({ name: 'hello_web', running: 2, desired: 2 })]);
    expect(snapshot.placement.running[0]!.reduce((a, b) => a + b, 0)).toBe(2);
    expect(snapshot.stale).toBe(false);
    // Doctor's worst finding per node: a fresh lab node has no time sync and no log rotation, and,
    // when this shared machine is short of disk, a disk warning (or failure) on top.
    const roomy = hostDiskRoomy();
    const text = roomy ? /^time-sync \+1$/ : /^(time-sync \+[12]|disk \+2)$/;
    const fresh = { status: roomy ? 'warn' : expect.stringMatching(/^(warn|fail)$/), text: expect.stringMatching(text) };
    expect(snapshot.health).toEqual({ 'pi-01': fresh, 'pi-02': fresh, 'pi-03': fresh });
    expect(once.stdout).toMatch(roomy ? /pi-01\s+manager\*.*\s! time-sync \+1\s+10\./ : /pi-01\s+manager\*.*\s\S (time-sync|disk) \+[12]\s+10\./);
  });

  it('in a real terminal: + scales hello-world, d drains the selected node, a killed node shows as down', async () => {
    // CI=true as CI machines set it: ink then draws only the final frame unless piswarm sees the terminal.
    const command = `env HOME=${dir} SSH_AUTH_SOCK= CI=true ${process.execPath} ${CLI} --inventory ${inventory} dashboard --refresh 2`;
    tmux('new-session', '-d', '-s', TMUX, '-x', '160', '-y', '50', command);
    await onScreen(/hello_web\s+hello\s+replicated\s+2\/2/, 30_000);

    press('+');
    await onScreen(/hello_web\s+hello\s+replicated\s+3\/3/, 60_000);
    expect(screen()).toContain('scale hello_web to 3');

    // Nodes are listed managers first: tab to them, down to pi-02, drain it after the question.
    press('Tab');
    await onScreen(/› pi-01/, 10_000);
    press('Down');
    await onScreen(/› pi-02/, 10_000);
    press('d');
    await onScreen(/Drain pi-02\? Its tasks move to other nodes first\. y\/n/, 10_000);
    press('y');
    await onScreen(/pi-02\s+worker\s+ready\s+drain[\s\S]*pi-02 drained in/, 120_000);
    const drained = await cli(['node', 'ls', '--json']);
    expect((JSON.parse(drained.stdout) as Array<{ hostname: string; availability: string; tasks: number }>).find((n) => n.hostname === 'pi-02')).toMatchObject({ availability: 'drain', tasks: 0 });

    // "Power off" pi-03: its dockerd dies; the managers notice, and so does the screen.
    await lab('exec', 'pi-03', '--', 'sh', '-c', 'kill -9 $(cat /var/run/docker.pid)');
    await onScreen(/pi-03\s+worker\s+down/, 90_000);
    // Kept for docs/dashboard.md's capture.
    writeFileSync(join(dir, 'screen.txt'), screen());
    console.log(`dashboard capture: ${join(dir, 'screen.txt')}`);

    press('q');
    await until(() => {
      try {
        tmux('has-session', '-t', TMUX);
        return false;
      } catch {
        return true;
      }
    }, 10_000, 'the dashboard to quit');
  });
});
