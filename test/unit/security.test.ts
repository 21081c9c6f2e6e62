import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertSameDevice, openOutputFile } from '../../cli/adapters/flash-target.js';
import { download } from '../../cli/adapters/image-source.js';
import { mayTryPlainHttp } from '../../cli/adapters/registry-client.js';
import { cacheFileName } from '../../cli/core/cache-name.js';
import { bootConfigFromUserData } from '../../cli/core/card-boot-config.js';
import { planLab } from '../../cli/core/lab-plan.js';
import { removeCgroupTree } from '../../cli/services/lab/processes.js';
import { piswarm } from '../helpers/cli.js';
import { buildPiImage } from '../helpers/pi-image.js';

/** Each item of the security review with a test that fails on the code it was found in. */
describe('the image cache keeps every download inside it', () => {
  const root = mkdtempSync(join(tmpdir(), 'piswarm-cache-'));
  const cache = join(root, 'a', 'b', 'cache');
  let base = '';
  const server = createServer((_req, res) => res.writeHead(200, { 'content-length': 5 }).end('bytes'));
  beforeAll(async () => {
    mkdirSync(cache, { recursive: true });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => void server.close());

  it.each([
    ['https://example.org/hypriotos-rpi-v1.12.3.img.zip', 'hypriotos-rpi-v1.12.3.img.zip'],
    ['https://example.org/x/..%2F..%2Fescaped.img', '__.._escaped.img'],
    ['https://example.org/%2E%2E', 'image.img'],
    ['https://example.org/a%00b.img', 'a_b.img'],
    ['https://example.org/dir/', 'image.img'],
    ['https://example.org/..%5C..%5Cwin.img', '__.._win.img'],
    ['https://example.org/bad%E0%A4%A', 'bad_E0_A4_A'],
  ])('%s is cached as %s', (url, name) => {
    expect(cacheFileName(url)).toBe(name);
  });

  it('writes a URL ending in ..%2F..%2F into the cache, not two folders up', async () => {
    const previous = process.env.PISWARM_CACHE;
    process.env.PISWARM_CACHE = cache;
    try {
      const path = await download(`${base}/x/..%2F..%2Fescaped.img`, () => undefined);
      expect(path).toBe(join(cache, '__.._escaped.img'));
      expect(readdirSync(cache)).toEqual(['__.._escaped.img']);
      expect(existsSync(join(root, 'a', 'escaped.img'))).toBe(false);
    } finally {
      if (previous === undefined) delete process.env.PISWARM_CACHE;
      else process.env.PISWARM_CACHE = previous;
    }
  });
});

describe('names from a card never become paths outside the lab', () => {
  it('refuses hostnames and users that are not names, before anything is made', () => {
    for (const hostname of ['x/..', '..', 'a b', '-pi', 'pi/../../etc']) {
      expect(() => planLab({ name: 'pilab', subnet: '10.77.0.0/24', nodes: 1, hostnames: [hostname] })).toThrow(/is not a hostname a lab node can have/);
      expect(() => bootConfigFromUserData(`hostname: "${hostname}"\n`, 'card.img')).toThrow(/card.img: user-data's hostname .* is not a hostname/);
    }
    expect(() => bootConfigFromUserData('hostname: pi\nusers:\n  - name: ../root\n', 'card.img')).toThrow(/user "..\/root" is not a user name/);
    expect(planLab({ name: 'pilab', subnet: '10.77.0.0/24', nodes: 1, hostnames: ['worker-01'] }).nodes[0]!.hostname).toBe('worker-01');
  });

  it('never removes a cgroup hierarchy root or anything outside a node subtree', async () => {
    for (const name of ['', '/', '..', 'x/..', 'piswarm-a/../..', '.']) await expect(removeCgroupTree(name)).rejects.toThrow(/Refusing to remove the cgroup/);
  });

  it('lab up --card stops at a card whose hostname escapes, and makes no lab', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'piswarm-badcard-'));
    const card = buildPiImage({ dir, name: 'evil', bootFiles: { 'user-data': '#cloud-config\nhostname: x/..\n', 'meta-data': 'instance-id: x\n' } });
    const labs = join(dir, 'labs');
    const run = await piswarm(['lab', 'up', '--name', 'evil', '--subnet', '10.98.0.0/24', '--card', card.img], { env: { PISWARM_LAB_ROOT: labs } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('is not a hostname');
    expect(existsSync(join(labs, 'evil'))).toBe(false);
  });
});

describe('no test seam in the shipped code', () => {
  it('reads no PISWARM_TEST_ variable anywhere in cli/ (one ran `sh -c` as root between write and verify)', () => {
    const files = readdirSync(new URL('../../cli/', import.meta.url), { recursive: true, encoding: 'utf8' }).filter((f) => /\.tsx?$/.test(f));
    expect(files.length).toBeGreaterThan(50);
    const seams = files.filter((f) => readFileSync(new URL(`../../cli/${f}`, import.meta.url), 'utf8').includes('PISWARM_TEST_'));
    expect(seams).toEqual([]);
  });
});

describe('--output image files', () => {
  it('are created 0600, even over an existing 0644 file, and a symbolic link is refused, not followed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'piswarm-output-'));
    const fresh = await openOutputFile(join(dir, 'card.img'));
    await fresh.handle.close();
    expect(statSync(join(dir, 'card.img')).mode & 0o777).toBe(0o600);
    writeFileSync(join(dir, 'old.img'), 'x', { mode: 0o644 });
    await (await openOutputFile(join(dir, 'old.img'))).handle.close();
    expect(statSync(join(dir, 'old.img')).mode & 0o777).toBe(0o600);

    writeFileSync(join(dir, 'precious'), 'keep me');
    symlinkSync(join(dir, 'precious'), join(dir, 'link.img'));
    await expect(openOutputFile(join(dir, 'link.img'))).rejects.toThrow('is a symbolic link');
    expect(readFileSync(join(dir, 'precious'), 'utf8')).toBe('keep me');
  });
});

describe('secrets are never taken as flag values', () => {
  it('refuses a wifi passphrase on the command line, naming the alternatives, before touching anything', async () => {
    const run = await piswarm(['flash', 'none.img', '--output', join(tmpdir(), 'never.img'), '--hostname', 'x', '--wifi-ssid', 'home', '--wifi-country', 'GB', '--wifi-password', 'hunter22hunter22']);
    expect(run.code).toBe(64);
    expect(run.stderr).toContain('--wifi-password takes no value');
    expect(run.stderr).toContain('PISWARM_WIFI_PASSWORD');
    expect(run.stderr).not.toContain('hunter22');
  });
});

describe("the lab broker's password", () => {
  it('is never in any process command line while the broker is set up', async () => {
    const script = fileURLToPath(new URL('../../scripts/lab-rabbitmq.sh', import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), 'piswarm-broker-'));
    const secret = `broker-${Date.now()}-secret`;
    const seen: string[] = [];
    const sampler = setInterval(() => {
      for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
        try {
          const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
          if (cmdline.includes(secret)) seen.push(cmdline);
        } catch {
          // gone already
        }
      }
    }, 5);
    try {
      const start = spawn('bash', [script, 'start', dir, '5698', 'probe'], { stdio: ['pipe', 'ignore', 'pipe'] });
      start.stdin.end(`${secret}\n`);
      expect(await new Promise((resolve) => start.on('close', resolve))).toBe(0);
    } finally {
      clearInterval(sampler);
      spawnSync('bash', [script, 'stop', dir, '5698']);
    }
    expect(seen).toEqual([]);
  }, 60_000);
});

describe('the registry client', () => {
  const tlsFailure = new TypeError('fetch failed', { cause: Object.assign(new Error('wrong version number'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' }) });
  const badCertificate = new TypeError('fetch failed', { cause: Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }) });
  it.each([
    ['10.77.0.1:5000', tlsFailure, true],
    ['192.168.1.21:5000', tlsFailure, true],
    ['localhost:5000', tlsFailure, true],
    ['registry.local:5000', tlsFailure, true],
    ['10.77.0.1:5000', badCertificate, false],
    ['ghcr.io', tlsFailure, false],
    ['docker.io', tlsFailure, false],
    ['8.8.8.8:5000', tlsFailure, false],
  ] as const)('%s after %s: plain HTTP %s', (registry, error, allowed) => {
    expect(mayTryPlainHttp(registry, error)).toBe(allowed);
  });
});

describe('a card is opened as the device that was checked', () => {
  it('refuses an opened file whose device number is not the approved one, and accepts the right one', async () => {
    const handle = await open('/dev/zero', 'r');
    try {
      await expect(assertSameDevice(handle, statSync('/dev/null').rdev, '/dev/sdz')).rejects.toThrow('/dev/sdz is no longer the drive that was checked');
      await expect(assertSameDevice(handle, statSync('/dev/zero').rdev, '/dev/sdz')).resolves.toBeUndefined();
    } finally {
      await handle.close();
    }
  });
});
