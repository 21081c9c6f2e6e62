import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import type { Readable } from 'node:stream';
import type { ImageEngine } from '../../adapters/engine-images.js';
import type { RegistryWriter } from '../../adapters/registry-push.js';
import { configForPlatform, parsePlatform } from '../../core/oci.js';
import { PiswarmError } from '../../errors.js';
import type { Reporter } from '../../io.js';
import type { ImagePlatform } from '../../core/placement.js';
import { megabytes, pushManifestList, pushPlatformImage, type KnownLayers, type PushedImage, type PushedPlatform } from './push-image.js';

export interface EngineBuildPorts {
  engine: ImageEngine;
  writer: (repository: string) => Promise<RegistryWriter>;
  /** The base's layers already in the registry pushed to, by diff ID (none when the base is elsewhere). */
  baseLayers: (platform: ImagePlatform) => Promise<KnownLayers>;
  /** An image's directory as a build context. */
  context: (dir: string) => Readable;
  extract: (stream: Readable, dir: string) => Promise<void>;
  reporter: Reporter;
}

export interface EngineBuild {
  name: string;
  dir: string;
  repository: string;
  tag: string;
  platforms: readonly string[];
  buildArgs: Record<string, string>;
}

/**
 * A multi-platform image without buildx: one engine build per platform (its base pulled for
 * that platform; RUN steps under qemu where binfmt has it), each saved and pushed by digest,
 * then the manifest list under the tag. A platform that fails stops the image before any tag.
 */
export async function buildWithEngine(ports: EngineBuildPorts, build: EngineBuild): Promise<PushedImage> {
  const writer = await ports.writer(build.repository);
  const pushed: PushedPlatform[] = [];
  for (const name of build.platforms) {
    const platform = parsePlatform(name);
    const local = `piswarm-build/${build.name}:${build.tag}-${name.replace(/\//g, '-')}`;
    const output: string[] = [];
    ports.reporter.debug(`${build.name} for ${name}: building`);
    try {
      await ports.engine.build(ports.context(build.dir), { tag: local, platform: name, buildArgs: build.buildArgs }, (line) => {
        output.push(line);
        ports.reporter.debug(`  ${name} | ${line}`);
      });
    } catch (error) {
      throw new PiswarmError(`${build.name} for ${name} did not build: ${(error as Error).message}`, {
        hint: `Nothing was tagged ${writer.name}:${build.tag}. ${output.length > 0 ? `The build's last words: ${output.slice(-3).join(' / ')}. ` : ''}Build without that platform (--platform), or fix its base.`,
        cause: error,
      });
    }
    ports.reporter.step(`${build.name} for ${name} built`);
    const dir = await mkdtemp(join(tmpdir(), 'piswarm-image-'));
    try {
      await ports.extract(await ports.engine.save(local), dir);
      const [saved] = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Array<{ Config: string; Layers: string[] }>;
      if (!saved) throw new PiswarmError(`The engine saved no image for ${local}.`);
      const config = configForPlatform(await readFile(inside(dir, saved.Config)), platform, `${build.name} for ${name}`);
      const diffIds = (JSON.parse(config.toString('utf8')) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
      const layers = saved.Layers.map((layer, i) => ({ open: () => createReadStream(inside(dir, layer)), diffId: diffIds[i] }));
      const known = await ports.baseLayers(platform).catch(() => new Map());
      const image = await pushPlatformImage(writer, platform, layers, (pushedIds) => {
        // The layers as read back must be the ones the config names, or the image would not start.
        if (pushedIds.join() !== diffIds.join()) throw new PiswarmError(`The layers the engine saved for ${local} are not the ones its config names.`, { hint: 'Run the build again.' });
        return config;
      }, known);
      ports.reporter.step(`${build.name} for ${name} pushed by digest (${megabytes(image.bytes)})`);
      pushed.push(image);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await ports.engine.remove(local);
    }
  }
  return pushManifestList(writer, build.tag, pushed, ports.reporter);
}

/** A path the saved archive names, kept inside the folder it was unpacked to. */
function inside(dir: string, path: string): string {
  const clean = normalize(path);
  if (clean.startsWith('..') || clean.startsWith('/')) throw new PiswarmError(`The engine's saved image names a path outside itself: ${path}.`);
  return join(dir, clean);
}
