import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { planImageBuilds } from '../../cli/core/image-build.js';
import { piswarm } from '../helpers/cli.js';

const available = ['hello-world', 'iot-consumer', 'sensor-simulator'];

describe('planImageBuilds', () => {
  it('builds every image for every Pi platform and pushes it', () => {
    const builds = planImageBuilds([], available, { imagesDir: '/p/images', platforms: ['linux/arm/v6', 'linux/arm/v7', 'linux/arm64', 'linux/amd64'], registry: '10.0.0.1:5000/', tag: '2' });
    expect(builds.map((b) => b.ref)).toEqual(['10.0.0.1:5000/hello-world:2', '10.0.0.1:5000/iot-consumer:2', '10.0.0.1:5000/sensor-simulator:2']);
    expect(builds[0]!.args).toEqual(['buildx', 'build', '--platform', 'linux/arm/v6,linux/arm/v7,linux/arm64,linux/amd64', '-t', '10.0.0.1:5000/hello-world:2', '--push', '/p/images/hello-world']);
  });

  it('loads a single-platform build, with a chosen base', () => {
    const [build] = planImageBuilds(['hello-world'], available, { imagesDir: '/p/images', platforms: ['linux/arm64'], tag: '1', base: 'mirror/busybox:1.36' });
    expect(build!.args).toEqual(['buildx', 'build', '--platform', 'linux/arm64', '-t', 'hello-world:1', '--build-arg', 'BASE=mirror/busybox:1.36', '--load', '/p/images/hello-world']);
  });

  it('refuses unknown images and platforms, bad tags, and multi-platform builds with nowhere to go', () => {
    const options = { imagesDir: '/p/images', platforms: ['linux/arm64'], tag: '1' };
    expect(() => planImageBuilds(['nginx'], available, options)).toThrow('No image "nginx" in /p/images.');
    expect(() => planImageBuilds([], available, { ...options, platforms: ['linux/armv7'] })).toThrow('Unknown platform linux/armv7.');
    expect(() => planImageBuilds([], available, { ...options, tag: 'a b' })).toThrow('"a b" is not an image tag.');
    expect(() => planImageBuilds([], available, { ...options, platforms: ['linux/arm64', 'linux/amd64'] })).toThrow('A multi-platform image can only be pushed');
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

  it('says what to install when docker has no buildx (this machine\'s docker has none)', async () => {
    const run = await piswarm(['images', 'build', '--push', '10.0.0.1:5000']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('docker buildx is not available here');
    expect(run.stderr).toContain('docker-buildx-plugin');
  });
});
