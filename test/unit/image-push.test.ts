import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debFiles } from '../../cli/adapters/debian-packages.js';
import { inspectImage } from '../../cli/adapters/registry-client.js';
import { RegistryWriter } from '../../cli/adapters/registry-push.js';
import { tarDirectory } from '../../cli/adapters/tar-stream.js';
import { baseRecipe } from '../../cli/core/base-images.js';
import { configForPlatform, debianArchitecture, imageConfig, MEDIA, parsePlatform } from '../../cli/core/oci.js';
import { parseImageRef } from '../../cli/core/image-ref.js';
import { makeBase } from '../../cli/services/images/make-base.js';
import { baseLayers, pushManifestList, pushPlatformImage } from '../../cli/services/images/push-image.js';
import { startRegistry } from '../helpers/registry.js';

const quiet = { step: () => undefined, warn: () => undefined, debug: () => undefined };
const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

describe('platforms', () => {
  it('reads platforms as Docker writes them, arm64 without its v8', () => {
    expect(parsePlatform('linux/arm/v6')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v6' });
    expect(parsePlatform('linux/arm64')).toEqual({ os: 'linux', architecture: 'arm64' });
    expect(parsePlatform('linux/arm64/v8')).toEqual({ os: 'linux', architecture: 'arm64' });
    for (const bad of ['linux/armv7', 'linux/arm', 'arm64', 'linux/amd64/v7', 'windows/amd64']) expect(() => parsePlatform(bad), bad).toThrow(`Unknown platform "${bad}"`);
  });

  it("names Debian's architecture for each Pi platform", () => {
    expect(['linux/arm/v6', 'linux/arm/v7', 'linux/arm64', 'linux/amd64'].map((p) => debianArchitecture(parsePlatform(p)))).toEqual(['armel', 'armhf', 'arm64', 'amd64']);
    expect(() => debianArchitecture(parsePlatform('linux/riscv64'))).toThrow('Debian has no packages for linux/riscv64');
  });

  it("fills in the variant an engine left out of a build's config, and refuses a build on another platform's base", () => {
    const built = (fields: object) => Buffer.from(JSON.stringify({ os: 'linux', rootfs: { diff_ids: [] }, ...fields }));
    expect(JSON.parse(configForPlatform(built({ architecture: 'arm' }), parsePlatform('linux/arm/v7'), 'web').toString())).toMatchObject({ architecture: 'arm', variant: 'v7' });
    const same = built({ architecture: 'arm64' });
    expect(configForPlatform(same, parsePlatform('linux/arm64'), 'web')).toBe(same);
    expect(() => configForPlatform(built({ architecture: 'amd64' }), parsePlatform('linux/arm64'), 'web')).toThrow('web was built for linux/amd64, not linux/arm64');
    expect(() => configForPlatform(built({ architecture: 'arm', variant: 'v7' }), parsePlatform('linux/arm/v6'), 'web')).toThrow('web was built for linux/arm/v7, not linux/arm/v6');
  });
});

describe('debFiles', () => {
  it("names the .debs of apt's simulated install as apt saves them (an epoch's colon as %3a)", () => {
    const simulation = [
      'NOTE: This is only a simulation!',
      'Inst libc6 (2.36-9+deb12u10 Debian:12.11/stable [armhf])',
      'Inst libuv1 [1.44.2-1] (1.44.2-1+deb12u1 Debian:12.11/stable [armhf])',
      'Inst nodejs (18.20.4+dfsg-1~deb12u1 Debian-Security:12/stable-security [armhf])',
      'Inst libssl3 (1:3.0.17-1~deb12u2 Debian:12.11/stable [armhf])',
      'Conf libc6 (2.36-9+deb12u10 Debian:12.11/stable [armhf])',
    ].join('\n');
    expect(debFiles(simulation)).toEqual(['libc6_2.36-9+deb12u10_armhf.deb', 'libuv1_1.44.2-1+deb12u1_armhf.deb', 'nodejs_18.20.4+dfsg-1~deb12u1_armhf.deb', 'libssl3_1%3a3.0.17-1~deb12u2_armhf.deb']);
  });
});

describe('RegistryWriter against a real registry', () => {
  const dir = mkdtempSync(join(tmpdir(), 'piswarm-push-'));
  let registry = '';
  let stop = () => undefined as void;
  beforeAll(async () => {
    ({ address: registry, stop } = await startRegistry(dir));
  });
  afterAll(() => stop());

  const tree = (name: string, content: string) => {
    const root = join(dir, name);
    mkdirSync(join(root, 'bin'), { recursive: true });
    writeFileSync(join(root, 'bin', 'hello'), content);
    return root;
  };

  it('pushes a streamed layer whose digest and diff ID are what the registry serves, gunzipped independently', async () => {
    const writer = await RegistryWriter.open(registry, 'base');
    const layer = await writer.pushLayer(tarDirectory(tree('one', 'hello\n'.repeat(10_000))));
    const blob = Buffer.from(await (await fetch(`http://${registry}/v2/base/blobs/${layer.digest}`)).arrayBuffer());
    expect(sha256(blob)).toBe(layer.digest);
    expect(blob.length).toBe(layer.size);
    expect(sha256(gunzipSync(blob))).toBe(layer.diffId);
    // GNU tar lists the tree the layer holds, owned by root (uid 0, whoever ran the push).
    expect(execFileSync('tar', ['-tvzf', '-'], { input: blob, encoding: 'utf8' })).toMatch(/^-rw-r--r-- 0\/0 +60000 .* \.\/bin\/hello$/m);
  });

  it('tags only the manifest list, pushed last, which inspectImage reads with every platform', async () => {
    const writer = await RegistryWriter.open(registry, 'multi');
    const platforms = [];
    for (const name of ['linux/arm/v7', 'linux/arm64']) {
      const platform = parsePlatform(name);
      platforms.push(await pushPlatformImage(writer, platform, [{ open: () => tarDirectory(tree(name.replace(/\//g, '-'), name)) }], (ids) => imageConfig(platform, ids, { Cmd: ['sh'] }, '2026-01-01T00:00:00Z')));
      expect((await fetch(`http://${registry}/v2/multi/tags/list`)).status).toBe(404);
    }
    const list = await pushManifestList(writer, '1', platforms, quiet);
    const facts = await inspectImage(parseImageRef(`${registry}/multi:1`), 5000);
    expect(facts.digest).toBe(list.digest);
    expect(facts.platforms).toEqual([{ os: 'linux', architecture: 'arm', variant: 'v7' }, { os: 'linux', architecture: 'arm64' }]);
    // The arm64 variant's config says arm64: what an engine records when it pulls it.
    const arm64 = JSON.parse(await (await fetch(`http://${registry}/v2/multi/manifests/${platforms[1]!.manifest.digest}`, { headers: { accept: MEDIA.manifest } })).text());
    const config = await (await fetch(`http://${registry}/v2/multi/blobs/${arm64.config.digest}`)).json();
    expect(config).toMatchObject({ architecture: 'arm64', os: 'linux', config: { Cmd: ['sh'] } });
  });

  it("links a base's layers into another repository by diff ID instead of sending them again", async () => {
    const known = await baseLayers(await RegistryWriter.open(registry, 'multi'), '1', parsePlatform('linux/arm64'));
    expect(known.size).toBe(1);
    const [[diffId, { descriptor }]] = [...known];
    const app = await RegistryWriter.open(registry, 'app');
    expect(await app.hasBlob(descriptor.digest)).toBe(false);
    const platform = parsePlatform('linux/arm64');
    let opened = 0;
    const pushed = await pushPlatformImage(app, platform, [{ diffId, open: () => (opened++, tarDirectory(tree('unused', 'x'))) }], (ids) => imageConfig(platform, ids, {}, '2026-01-01T00:00:00Z'), known);
    expect(opened).toBe(0);
    expect(await app.hasBlob(descriptor.digest)).toBe(true);
    expect(pushed.bytes).toBeGreaterThan(descriptor.size);
  });

  it('makes a base from unpacked packages: docs dropped, applets linked, /tmp sticky, the platform in its config, the tag a list', async () => {
    const writer = await RegistryWriter.open(registry, 'busybox');
    const unpacked: string[] = [];
    const ports = {
      fetchPackages: async (architecture: string, packages: readonly string[]) => [`${packages[0]}_1.35.0-4+b3_${architecture}.deb`],
      unpack: async (deb: string, into: string) => {
        unpacked.push(deb);
        mkdirSync(join(into, 'bin'), { recursive: true });
        mkdirSync(join(into, 'usr/share/doc/busybox-static'), { recursive: true });
        writeFileSync(join(into, 'bin/busybox'), '#!busybox');
        writeFileSync(join(into, 'usr/share/doc/busybox-static/copyright'), 'GPL');
      },
      layer: tarDirectory,
      writer,
      reporter: quiet,
    };
    const result = await makeBase(ports, baseRecipe('busybox'), ['linux/arm/v6', 'linux/arm64'], 'bookworm');
    expect(unpacked).toEqual(['busybox-static_1.35.0-4+b3_armel.deb', 'busybox-static_1.35.0-4+b3_arm64.deb']);
    expect((await inspectImage(parseImageRef(result.image), 5000)).platforms).toEqual([{ os: 'linux', architecture: 'arm', variant: 'v6' }, { os: 'linux', architecture: 'arm64' }]);
    const manifest = JSON.parse(await (await fetch(`http://${registry}/v2/busybox/manifests/${result.platforms[0]!.manifest.digest}`, { headers: { accept: MEDIA.manifest } })).text());
    const blob = Buffer.from(await (await fetch(`http://${registry}/v2/busybox/blobs/${manifest.layers[0].digest}`)).arrayBuffer());
    const listing = execFileSync('tar', ['-tvzf', '-'], { input: blob, encoding: 'utf8' });
    expect(listing).toMatch(/^drwxr-xr-x 0\/0 .* \.\/$/m);
    expect(listing).toMatch(/^drwxrwxrwt 0\/0 .* \.\/tmp\/$/m);
    expect(listing).toMatch(/^lrwxrwxrwx 0\/0 .* \.\/bin\/sh -> busybox$/m);
    expect(listing).toMatch(/\.\/www\/$/m);
    expect(listing).not.toContain('usr/share/doc');
    const config = await (await fetch(`http://${registry}/v2/busybox/blobs/${manifest.config.digest}`)).json();
    expect(config).toMatchObject({ architecture: 'arm', variant: 'v6', os: 'linux', config: { Cmd: ['sh'] } });
  });

  it('fails a layer whose tar fails half-way, and tags nothing', async () => {
    const writer = await RegistryWriter.open(registry, 'broken');
    await expect(writer.pushLayer(tarDirectory(join(dir, 'no-such-dir')))).rejects.toThrow(/tar could not read .*no-such-dir/);
    expect((await fetch(`http://${registry}/v2/broken/tags/list`)).status).toBe(404);
  });

  it('names a registry that does not answer', async () => {
    await expect(RegistryWriter.open('127.0.0.1:9', 'x')).rejects.toThrow("Can't reach the registry 127.0.0.1:9");
  });
});
