import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryWriter } from '../../cli/adapters/registry-push.js';
import { inspectImage } from '../../cli/adapters/registry-client.js';
import { parseImageRef } from '../../cli/core/image-ref.js';
import { MEDIA } from '../../cli/core/oci.js';
import { piswarm } from '../helpers/cli.js';
import { cutDuring } from '../helpers/cut.js';
import { labEnv, labLeftovers, netnsPids } from '../helpers/lab.js';
import { until } from '../helpers/wait.js';

/**
 * Multi-platform images as a user without buildx or Docker Hub makes them: bases from Debian's
 * packages (`images base`), then `images build --builder pi-01` on a swarm node's engine over
 * SSH, read back from the registry and run per platform under qemu on the lab's amd64 node.
 */
const NAME = 'img';
const REGISTRY = '10.97.0.1:5000';
const NODE = '10.97.0.11';
const dir = mkdtempSync(join(tmpdir(), 'piswarm-images-'));
const user = { HOME: dir, SSH_AUTH_SOCK: '' };
const inventory = join(dir, 'piswarm.yaml');
const lab = (command: string, ...args: string[]) => piswarm(['lab', command, '--name', NAME, ...args], { env: labEnv });
const cli = (args: string[]) => piswarm(['--inventory', inventory, ...args], { env: user });
const onNode = (script: string) => lab('exec', 'pi-01', '--', 'sh', '-c', script);
type Built = Array<{ image: string; digest: string; platforms: Array<{ platform: string; digest: string; bytes: number }> }>;
let built: Built = [];
let labPids: number[] = [];

beforeAll(async () => {
  await lab('down');
  const up = await lab('up', '--nodes', '1', '--subnet', '10.97.0.0/24');
  if (up.code !== 0) throw new Error(`lab up failed: ${up.stderr}`);
  labPids = netnsPids(`${NAME}-pi-01`);
  const boot = await cli(['bootstrap', '--nodes', NODE]);
  if (boot.code !== 0) throw new Error(`bootstrap failed: ${boot.stderr}`);
  for (const base of ['busybox', 'node']) {
    const made = await cli(['images', 'base', base, '--push', REGISTRY]);
    if (made.code !== 0) throw new Error(`images base ${base} failed: ${made.stderr}`);
  }
  const build = await cli(['images', 'build', '--push', REGISTRY, '--base-from', REGISTRY, '--builder', 'pi-01', '--json']);
  if (build.code !== 0) throw new Error(`images build failed: ${build.stderr}`);
  built = JSON.parse(build.stdout) as Built;
});

afterAll(async () => {
  // Always tear down, whatever failed above: CI runs on this same machine afterwards.
  await lab('down');
  expect(labLeftovers(NAME, labPids)).toEqual([]);
});

const image = (name: string) => built.find((b) => b.image === `${REGISTRY}/${name}:1`)!;

describe('piswarm images without buildx, on a lab node', () => {
  it('pushes every image as a manifest list with a variant per platform, read back as the pre-flight reads it', async () => {
    expect(built.map((b) => b.image)).toEqual(['hello-world', 'iot-consumer', 'sensor-simulator'].map((n) => `${REGISTRY}/${n}:1`));
    const expected = { 'hello-world': ['linux/arm/v6', 'linux/arm/v7', 'linux/arm64', 'linux/amd64'], 'iot-consumer': ['linux/arm/v7', 'linux/arm64', 'linux/amd64'], 'sensor-simulator': ['linux/arm/v7', 'linux/arm64', 'linux/amd64'] };
    for (const [name, platforms] of Object.entries(expected)) {
      const facts = await inspectImage(parseImageRef(`${REGISTRY}/${name}:1`), 5000);
      expect(facts.digest).toBe(image(name).digest);
      expect(facts.platforms.map((p) => [p.os, p.architecture, p.variant].filter(Boolean).join('/'))).toEqual(platforms);
    }
  });

  it('keeps hello-world small: at most 5 MB compressed per platform', () => {
    for (const platform of image('hello-world').platforms) expect(platform.bytes, platform.platform).toBeLessThanOrEqual(5_000_000);
    // The Node.js images are Debian's nodejs and its libraries: tens of MB, not hundreds.
    for (const platform of image('iot-consumer').platforms) expect(platform.bytes, platform.platform).toBeLessThanOrEqual(60_000_000);
  });

  it("runs each variant's own binary: armv6l, armv7l, aarch64 and x86_64", async () => {
    const run = await onNode(
      `for p in linux/arm/v6 linux/arm/v7 linux/arm64 linux/amd64; do docker pull -q --platform $p ${REGISTRY}/hello-world:1 >/dev/null && echo "$p $(docker run --rm --platform $p ${REGISTRY}/hello-world:1 uname -m)"; done`,
    );
    expect(run.stdout, run.stderr).toBe('linux/arm/v6 armv7l\nlinux/arm/v7 armv7l\nlinux/arm64 aarch64\nlinux/amd64 x86_64\n');
  });

  it("the arm/v6 variant runs on a Pi Zero's CPU (ARM1176) and the arm/v7 one does not", async () => {
    // --init: the v7 busybox dies of SIGILL there, which as a container's PID 1 would hang instead.
    const script = (p: string) => `docker pull -q --platform ${p} ${REGISTRY}/hello-world:1 >/dev/null && docker run --rm --init -e QEMU_CPU=arm1176 --platform ${p} ${REGISTRY}/hello-world:1 uname -m 2>&1; echo "exit $?"`;
    const v6 = await onNode(script('linux/arm/v6'));
    expect(v6.stdout).toBe('armv6l\nexit 0\n');
    const v7 = await onNode(script('linux/arm/v7'));
    expect(v7.stdout).toMatch(/Illegal instruction[\s\S]*exit 1\d\d\n$/);
  });

  it('serves hello-world over HTTP from an arm/v7 container', async () => {
    const start = await onNode(`docker pull -q --platform linux/arm/v7 ${REGISTRY}/hello-world:1 >/dev/null && docker run -d --name hello-v7 --platform linux/arm/v7 -e NODE_NAME=pi-01 -p 8083:80 ${REGISTRY}/hello-world:1`);
    expect(start.code, start.stderr).toBe(0);
    try {
      let answer = '';
      await until(async () => (answer = await fetch(`http://${NODE}:8083/`).then((r) => r.text(), () => '')) !== '', 30_000, 'hello-world on arm/v7');
      expect(answer).toMatch(/^Hello from \w+ on pi-01/);
      expect((await onNode('docker exec hello-v7 uname -m')).stdout).toBe('armv7l\n');
    } finally {
      await onNode('docker rm -f hello-v7 >/dev/null');
    }
  });

  it('has the stack pre-flight refuse a list without the nodes\' platform, naming the node', async () => {
    // The same variants but amd64, listed by hand: what a build that left amd64 out pushes.
    const writer = await RegistryWriter.open(REGISTRY, 'hello-world');
    const full = await writer.readManifest('1');
    const armOnly = { ...full, manifests: full.manifests!.filter((m) => m.platform?.architecture !== 'amd64') };
    expect(armOnly.manifests).toHaveLength(3);
    await writer.putManifest('arm-only', MEDIA.list, Buffer.from(JSON.stringify(armOnly)));
    const stack = join(dir, 'arm.yml');
    writeFileSync(stack, `services:\n  web:\n    image: ${REGISTRY}/hello-world:arm-only\n`);
    const run = await cli(['stack', 'deploy', stack]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${REGISTRY}/hello-world:arm-only has no linux/amd64 variant, and pi-01 is x86_64`);
    expect((await cli(['stack', 'ls'])).stdout).not.toContain('arm');
    // The full list is accepted by the same check.
    writeFileSync(stack, `services:\n  web:\n    image: ${REGISTRY}/hello-world:1\n`);
    expect((await cli(['stack', 'deploy', stack, '--dry-run'])).code).toBe(0);
  });

  it('names a platform that fails to build and pushes no tag', async () => {
    const run = await cli(['images', 'build', 'hello-world', '--push', REGISTRY, '--base-from', REGISTRY, '--builder', 'pi-01', '--tag', 'broken', '--platform', 'linux/arm64,linux/riscv64']);
    expect(run.code).toBe(1);
    // Each platform reported as it is built and pushed; the one that failed named, with the engine's words.
    expect(run.stderr).toContain('hello-world for linux/arm64 built');
    expect(run.stderr).toMatch(/hello-world for linux\/arm64 pushed by digest \(\d+\.\d MB\)/);
    expect(run.stderr).toContain('hello-world for linux/riscv64 did not build');
    expect(run.stderr).toContain('no matching manifest for linux/riscv64');
    expect(run.stderr).toContain(`Nothing was tagged ${REGISTRY}/hello-world:broken`);
    const tag = await fetch(`http://${REGISTRY}/v2/hello-world/manifests/broken`, { method: 'HEAD', headers: { accept: MEDIA.list } });
    expect(tag.status).toBe(404);
  });

  it('loses the builder\'s connection mid-build: the platform named, the run ends, and no tag is pushed', async () => {
    const args = ['images', 'build', 'iot-consumer', '--push', REGISTRY, '--base-from', REGISTRY, '--builder', 'pi-01', '--tag', 'cut'];
    const run = await cutDuring(NAME, inventory, user, args, 'iot-consumer for linux/arm/v7: building', 'pi-01');
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('iot-consumer for linux/arm/v7 did not build');
    expect(run.stderr).toContain(`Nothing was tagged ${REGISTRY}/iot-consumer:cut`);
    const tag = await fetch(`http://${REGISTRY}/v2/iot-consumer/manifests/cut`, { method: 'HEAD', headers: { accept: MEDIA.list } });
    expect(tag.status).toBe(404);
  });
});
