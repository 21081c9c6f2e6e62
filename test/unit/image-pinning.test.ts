import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { inspectImage } from '../../cli/adapters/registry-client.js';
import { pinImages } from '../../cli/core/compose/pin-images.js';
import { loadCompose } from '../../cli/core/compose-file.js';
import { parseImageRef } from '../../cli/core/image-ref.js';
import { composeFacts, planStack, specFacts } from '../../cli/core/stack-plan.js';
import { pushSingleArchImage } from '../helpers/lab-images.js';
import { startRegistry } from '../helpers/registry.js';

/** Digest pinning, checked against a real registry (Debian's docker-registry, distribution 2.8) and Docker's own compose loader. */
const dir = mkdtempSync(join(tmpdir(), 'piswarm-pin-'));
let registry = '';
let stopRegistry = () => undefined as void;

beforeAll(async () => {
  ({ address: registry, stop: stopRegistry } = await startRegistry(dir));
});

afterAll(() => stopRegistry());

const registryDigest = async (repository: string, tag: string) =>
  (await fetch(`http://${registry}/v2/${repository}/manifests/${tag}`, { method: 'HEAD', headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' } })).headers.get('docker-content-digest');

describe('inspectImage', () => {
  it("gives the digest the registry itself names for the tag, and a tag pushed over gets a new one", async () => {
    await pushSingleArchImage(registry, 'app', '1', 'arm64');
    const first = await inspectImage(parseImageRef(`${registry}/app:1`), 5000);
    expect(first.platforms).toEqual([{ os: 'linux', architecture: 'arm64' }]);
    expect(first.digest).toBe(await registryDigest('app', '1'));
    await pushSingleArchImage(registry, 'app', '1', 'amd64');
    const second = await inspectImage(parseImageRef(`${registry}/app:1`), 5000);
    expect(second.digest).not.toBe(first.digest);
    expect(second.digest).toBe(await registryDigest('app', '1'));
  });
});

describe('pinImages', () => {
  const file = [
    'services:',
    '  web:',
    '    image: ${REGISTRY}/app:1',
    '    command: echo $$HOME',
    '  pinned:',
    '    image: busybox@sha256:' + 'a'.repeat(64),
    '  offline:',
    '    image: portainer/portainer-ce:2.21.4',
    '',
  ].join('\n');

  it("pins each image its registry answered for, leaves the others, and Docker's loader reads the result", () => {
    const stack = loadCompose([{ path: 'stack.yml', text: file }], { REGISTRY: '192.168.1.10:5000' });
    const digest = `sha256:${'b'.repeat(64)}`;
    const text = pinImages(stack.text, new Map([['192.168.1.10:5000/app:1', digest]]));
    const docker = spawnSync('docker', ['stack', 'config', '-c', '-'], { input: text, encoding: 'utf8', env: { PATH: process.env.PATH!, HOME: dir } });
    expect(docker.status, docker.stderr).toBe(0);
    const services = parse(docker.stdout).services;
    expect(services.web.image).toBe(`192.168.1.10:5000/app:1@${digest}`);
    expect(services.web.command).toEqual(['echo', '$HOME']);
    expect(services.pinned.image).toBe(`busybox@sha256:${'a'.repeat(64)}`);
    expect(services.offline.image).toBe('portainer/portainer-ce:2.21.4');
    expect(pinImages(stack.text, new Map())).toBe(stack.text);
  });
});

describe('stack diff with digests', () => {
  const running = (image: string) => ({ Spec: { Mode: { Replicated: { Replicas: 1 } }, TaskTemplate: { ContainerSpec: { Image: image } } } });
  const read = { image: 'reg/app:1', mode: 'replicated', replicas: 1, constraints: [], reservations: { nanoCpus: 0, memoryBytes: 0 } };
  const old = `sha256:${'1'.repeat(64)}`;
  const fresh = `sha256:${'2'.repeat(64)}`;

  it.each([
    ['the tag was pushed again', fresh, 'update', ['image reg/app:1 pushed again: sha256:111111111111… → sha256:222222222222…']],
    ['the tag names the same image', old, 'unchanged', []],
    ['the registry did not answer', undefined, 'unchanged', []],
  ])('%s', (_name, now, action, changes) => {
    const want = composeFacts({ image: 'reg/app:1' }, new Map(now ? [['reg/app:1', now]] : []));
    const have = specFacts(running(`reg/app:1@${old}`), read);
    expect(planStack(new Map([['app', want]]), new Map([['app', have]]), false)).toEqual([{ name: 'app', action, changes }]);
  });
});
