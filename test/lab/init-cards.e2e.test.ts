import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Inventory } from '../../cli/core/inventory.js';
import { sameHostKey } from '../../cli/core/host-key.js';
import { piswarm, startPiswarm } from '../helpers/cli.js';
import { labEnv, labLeftovers, netnsPids } from '../helpers/lab.js';
import { buildPiImage, writeSha256 } from '../helpers/pi-image.js';
import { until } from '../helpers/wait.js';

// The Pis path of init, with real block devices for cards and lab nodes for the Pis: nothing of
// init knows it is a lab. The user powers the Pis on once told to; init is waiting for them then.
const NAME = 'inp';
const SUBNET = '10.94.0.0/24';
const dir = mkdtempSync(join(tmpdir(), 'piswarm-init-cards-'));
const home = join(dir, 'home');
const env = { ...labEnv, HOME: home, SSH_AUTH_SOCK: '' };
const loops: string[] = [];
const pids = new Set<number>();
let run: ReturnType<typeof startPiswarm> | undefined;

afterAll(async () => {
  // Always tear down, whatever failed above: CI runs on this same machine afterwards.
  if (run && run.child.exitCode === null) {
    run.child.kill('SIGKILL');
    await run.result;
  }
  await piswarm(['lab', 'down', '--name', NAME], { env });
  for (const loop of loops) execFileSync('losetup', ['-d', loop]);
  expect(labLeftovers(NAME, [...pids])).toEqual([]);
});

describe('piswarm init with card readers', () => {
  it('writes three cards in three readers at once, waits for the Pis to be powered on, finds them by host key and forms the swarm', async () => {
    mkdirSync(home, { recursive: true });
    const image = buildPiImage({ dir });
    writeSha256(image.img);
    for (let i = 0; i < 3; i++) {
      const file = join(dir, `card-${i}.bin`);
      execFileSync('sh', ['-c', `head -c ${80 * 1024 * 1024} /dev/zero | tr '\\000' '\\377' > ${file}`]);
      loops.push(execFileSync('losetup', ['-f', '--show', file], { encoding: 'utf8' }).trim());
    }
    // Loop devices are not removable: --force, as flash needs it for them.
    run = startPiswarm(['init', '--image', image.img, '--hostname', 'manager-01,worker-{01..02}', '--device', ...loops, '--force', '--deploy', 'none', '--timeout', '240', '--yes', '--json'], { env, cwd: dir });
    const init = run;
    await until(() => init.stderr().includes('Put the cards in the Pis and power them on: manager-01, worker-01, worker-02.') || init.child.exitCode !== null, 120_000, 'init to ask for power');
    expect(init.child.exitCode, init.stderr()).toBeNull();
    // The three cards were written side by side, each verified.
    for (const host of ['manager-01', 'worker-01', 'worker-02']) expect(init.stderr()).toMatch(new RegExp(`✓ ${host}: verify \\d`));
    const boot = await piswarm(['lab', 'up', '--name', NAME, '--subnet', SUBNET, '--card', ...loops], { env });
    expect(boot.code, boot.stderr).toBe(0);
    for (const ns of execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n')) if (ns.startsWith(`${NAME}-`)) for (const pid of netnsPids(ns.split(' ')[0]!)) pids.add(pid);

    const done = await init.result;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stderr).toMatch(/✓ worker-02 is up at 10\.94\.0\.\d+ \(b8:27:eb:[0-9a-f:]+\), known by its card's host key/);
    // --json: the summary alone on stdout, as JSON; the stages' output stays on stderr.
    const summary = JSON.parse(done.stdout) as { plan: string; cards: { flashed: string[] }; found: { found: string[] }; managers: string[]; nodes: Array<{ hostname: string; ip: string; role: string }>; deployed: unknown[] };
    expect(summary.plan).toBe('home');
    expect(summary.cards.flashed).toEqual(['manager-01', 'worker-01', 'worker-02']);
    expect([...summary.found.found].sort()).toEqual(['manager-01', 'worker-01', 'worker-02']);
    expect(summary.managers).toEqual(['manager-01']);
    expect(summary.nodes.map((n) => `${n.hostname} ${n.role} ${/^10\.94\.0\.\d+$/.test(n.ip)}`)).toEqual(['manager-01 manager true', 'worker-01 worker true', 'worker-02 worker true']);
    expect(summary.deployed).toEqual([]);
    const inventory = Inventory.parse('piswarm.yaml', readFileSync(join(dir, 'piswarm.yaml'), 'utf8'));
    expect(inventory.nodes().map((n) => `${n.hostname} ${n.role}`).sort()).toEqual(['manager-01 manager', 'worker-01 worker', 'worker-02 worker']);
    for (const node of inventory.nodes()) expect(sameHostKey(node.hostKey!, inventory.cardEntries()[node.hostname]!.hostKey)).toBe(true);
    const swarm = await piswarm(['lab', 'exec', 'manager-01', '--name', NAME, '--', 'docker', 'node', 'ls', '--format', '{{.Hostname}} {{.Status}}'], { env });
    expect(swarm.stdout.trim().split('\n').sort()).toEqual(['manager-01 Ready', 'worker-01 Ready', 'worker-02 Ready']);
  });
});
