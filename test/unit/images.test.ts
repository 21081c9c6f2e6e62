import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BASE_SUITE, buildxArgs, narrowToBase, planImageBuilds } from '../../cli/core/image-build.js';
import { piswarm } from '../helpers/cli.js';

const available = [
  { name: 'hello-world', defaultBase: 'busybox:1.36' },
  { name: 'iot-consumer', defaultBase: 'node:20-alpine' },
  { name: 'sensor-simulator', defaultBase: 'node:20-alpine' },
];

describe('planImageBuilds', () => {
  it('builds every image for every Pi platform and pushes it', () => {
    const builds = planImageBuilds([], available, { imagesDir: '/p/images', registry: '10.0.0.1:5000/', tag: '2' });
    expect(builds.map((b) => b.ref)).toEqual(['10.0.0.1:5000/hello-world:2', '10.0.0.1:5000/iot-consumer:2', '10.0.0.1:5000/sensor-simulator:2']);
    expect(buildxArgs(builds[0]!)).toEqual(['buildx', 'build', '--platform', 'linux/arm/v6,linux/arm/v7,linux/arm64,linux/amd64', '-t', '10.0.0.1:5000/hello-world:2', '--push', '/p/images/hello-world']);
  });

  it('loads a single-platform build into the local engine, with the base asked for', () => {
    const [build] = planImageBuilds(['hello-world'], available, { imagesDir: '/p/images', platforms: ['linux/arm64'], tag: '1', base: 'mirror/busybox:1.36' });
    expect(buildxArgs(build!)).toEqual(['buildx', 'build', '--platform', 'linux/arm64', '-t', 'hello-world:1', '--build-arg', 'BASE=mirror/busybox:1.36', '--load', '/p/images/hello-world']);
  });

  it("takes each image's base from a registry of piswarm's bases, and its platforms from that base unless asked", () => {
    const builds = planImageBuilds([], available, { imagesDir: '/p/images', registry: 'reg:5000', tag: '1', baseFrom: 'reg:5000/' });
    expect(builds.map((b) => b.base)).toEqual([`reg:5000/busybox:${BASE_SUITE}`, `reg:5000/node:${BASE_SUITE}`, `reg:5000/node:${BASE_SUITE}`]);
    const node = ['linux/arm/v7', 'linux/arm64', 'linux/amd64'];
    expect(narrowToBase(builds[1]!, node).platforms).toEqual(node);
    expect(() => narrowToBase(builds[1]!, ['linux/riscv64'])).toThrow(`reg:5000/node:${BASE_SUITE} has none of the platforms`);
    const [asked] = planImageBuilds(['iot-consumer'], available, { imagesDir: '/p/images', registry: 'reg:5000', tag: '1', baseFrom: 'reg:5000', platforms: ['linux/arm/v6'] });
    expect(narrowToBase(asked!, node).platforms).toEqual(['linux/arm/v6']);
  });

  it('refuses unknown images, platforms and tags, naming what is known', () => {
    const options = { imagesDir: '/p/images', platforms: ['linux/arm64'], tag: '1' };
    expect(() => planImageBuilds(['nginx'], available, options)).toThrow('No image "nginx" in /p/images.');
    expect(() => planImageBuilds([], available, { ...options, platforms: ['linux/armv7'] })).toThrow('Unknown platform "linux/armv7".');
    expect(() => planImageBuilds([], available, { ...options, tag: 'a b' })).toThrow('"a b" is not an image tag.');
    expect(() => planImageBuilds([], available, { ...options, platforms: ['linux/arm64', 'linux/amd64'] })).toThrow('A multi-platform image can only be pushed');
    expect(() => planImageBuilds([], available, { ...options, registry: 'r', base: 'b', baseFrom: 'r' })).toThrow('--base and --base-from both name the base.');
  });
});

describe('piswarm images build', () => {
  /** A docker that has buildx and records what it is asked to do. */
  const fakeDocker = () => {
    const bin = mkdtempSync(join(tmpdir(), 'piswarm-buildx-'));
    writeFileSync(join(bin, 'docker'), `#!/bin/sh\necho "$*" >> "${bin}/calls"\n`);
    chmodSync(join(bin, 'docker'), 0o755);
    return bin;
  };

  it('bundles the Node.js images, then runs one buildx build per image', async () => {
    const bin = fakeDocker();
    const started = Date.now();
    const run = await piswarm(['--json', 'images', 'build', 'hello-world', 'iot-consumer', '--push', '10.0.0.1:5000'], { env: { PATH: `${bin}:${process.env.PATH}` } });
    expect(run.code, run.stderr).toBe(0);
    // The bundle the iot-consumer Dockerfile copies was written by this run.
    const bundle = fileURLToPath(new URL('../../images/iot-consumer/dist/consumer.mjs', import.meta.url));
    expect(statSync(bundle).mtimeMs).toBeGreaterThanOrEqual(started - 1000);
    const calls = readFileSync(join(bin, 'calls'), 'utf8').trim().split('\n');
    expect(calls[0]).toBe('buildx version');
    expect(calls.slice(1).map((c) => c.split(' ').slice(0, 6).join(' '))).toEqual([
      'buildx build --platform linux/arm/v6,linux/arm/v7,linux/arm64,linux/amd64 -t 10.0.0.1:5000/hello-world:1',
      'buildx build --platform linux/arm/v6,linux/arm/v7,linux/arm64,linux/amd64 -t 10.0.0.1:5000/iot-consumer:1',
    ]);
    expect(JSON.parse(run.stdout).map((b: { ref: string }) => b.ref)).toEqual(['10.0.0.1:5000/hello-world:1', '10.0.0.1:5000/iot-consumer:1']);
  });

  it("without buildx, builds on this machine's engine, and says how to build on a Pi when there is none", async () => {
    const noEngine = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
    const run = await piswarm(['images', 'build', 'hello-world', '--push', '10.0.0.1:5000'], { env: noEngine });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('No Docker engine answered here');
    expect(run.stderr).toContain('--builder NODE');
    const unpushed = await piswarm(['images', 'build', 'hello-world', '--platform', 'linux/arm64'], { env: noEngine });
    expect(unpushed.code).toBe(64);
    expect(unpushed.stderr).toContain('Without buildx, piswarm builds each platform and pushes them to a registry');
  });
});

describe('piswarm images base', () => {
  it('refuses an unknown base, a platform Debian has no build of, and a missing registry, before fetching anything', async () => {
    const unknown = await piswarm(['images', 'base', 'nginx', '--push', '10.0.0.1:5000']);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toContain('No base "nginx".');
    expect(unknown.stderr).toContain('Bases: busybox, node.');
    const zero = await piswarm(['images', 'base', 'node', '--push', '10.0.0.1:5000', '--platform', 'linux/arm/v6']);
    expect(zero.code).toBe(64);
    expect(zero.stderr).toContain("Debian's packages make no node base for linux/arm/v6");
    const nowhere = await piswarm(['images', 'base', 'busybox']);
    expect(nowhere.code).toBe(64);
    expect(nowhere.stderr).toContain('give --push REGISTRY');
  });
});
