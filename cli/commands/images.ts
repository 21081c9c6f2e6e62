import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { debianCacheDir, fetchDebianPackages } from '../adapters/debian-packages.js';
import { openImageEngine, type ImageEngine } from '../adapters/engine-images.js';
import { homeRegistryAccess } from '../adapters/home-registry.js';
import { RegistryWriter } from '../adapters/registry-push.js';
import { extractTar, tarDirectory } from '../adapters/tar-stream.js';
import type { Context } from '../context.js';
import { baseRecipe, recipePlatforms } from '../core/base-images.js';
import { buildxArgs, defaultBaseOf, narrowToBase, planImageBuilds, type ImageBuild } from '../core/image-build.js';
import { parseImageRef } from '../core/image-ref.js';
import { platformName } from '../core/oci.js';
import type { ImagePlatform } from '../core/placement.js';
import { ExitCode, PiswarmError, UsageError } from '../errors.js';
import { printJson } from '../io.js';
import { PACKAGE_ROOT } from '../paths.js';
import { buildWithEngine } from '../services/images/build-images.js';
import { makeBase } from '../services/images/make-base.js';
import { baseLayers, type KnownLayers, type PushedImage } from '../services/images/push-image.js';
import { reopenSession } from '../services/swarm/cluster.js';
import { clusterPorts, registryPlatforms } from './cluster-access.js';

export interface ImagesBuildFlags {
  args: string[];
  platform?: string;
  push?: string;
  tag: string;
  base?: string;
  baseFrom?: string;
  builder?: string;
}

export async function imagesBuildAction(context: Context, flags: ImagesBuildFlags): Promise<number> {
  const imagesDir = join(PACKAGE_ROOT, 'images');
  const available = readdirSync(imagesDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(imagesDir, d.name, 'Dockerfile')))
    .map((d) => ({ name: d.name, defaultBase: defaultBaseOf(readFileSync(join(imagesDir, d.name, 'Dockerfile'), 'utf8')) }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const platforms = flags.platform?.split(',').map((p) => p.trim()).filter(Boolean);
  const planned = planImageBuilds(flags.args, available, { imagesDir, platforms, registry: flags.push, tag: flags.tag, base: flags.base, baseFrom: flags.baseFrom });
  const buildx = !flags.builder && (await context.runner.run('docker', ['buildx', 'version'], { allowFailure: true }).catch(() => ({ code: 127 }))).code === 0;
  if (!buildx && !flags.push) throw new UsageError('Without buildx, piswarm builds each platform and pushes them to a registry as one image.', 'Give --push REGISTRY (e.g. --push 192.168.1.21:5000).');
  const builds = await Promise.all(planned.map((build) => narrowToItsBase(build)));
  // The Node.js images ship one bundled file each, made from the sources first.
  if (builds.some((b) => readFileSync(join(b.dir, 'Dockerfile'), 'utf8').includes('COPY dist/'))) {
    context.reporter.debug('bundling the Node.js images (npm run build:images)');
    await context.runner.run('npm', ['run', '--silent', '--prefix', PACKAGE_ROOT, 'build:images']);
  }
  if (buildx) {
    for (const build of builds) {
      context.reporter.step(`Building ${build.ref} for ${build.platforms.join(', ')} with buildx`);
      const code = await context.runner.runAttached('docker', buildxArgs(build));
      if (code !== 0) throw new PiswarmError(`Building ${build.name} failed (docker buildx exited ${code}).`, { hint: "See buildx's output above." });
    }
    if (context.io.json) printJson(context.io, builds.map((b) => ({ name: b.name, ref: b.ref, platforms: b.platforms })));
    else context.reporter.step(`${builds.length} image(s) ${flags.push ? `pushed to ${flags.push}` : 'loaded'}`);
    return ExitCode.ok;
  }
  const engine = await openBuilder(context, flags.builder);
  const built: PushedImage[] = [];
  try {
    for (const build of builds) {
      const ports = { engine, writer: (repository: string) => openWriter(build.registry!, repository), baseLayers: layersOfBase(build), context: tarDirectory, extract: extractTar, reporter: context.reporter };
      built.push(await buildWithEngine(ports, { ...build, repository: build.name, buildArgs: build.base ? { BASE: build.base } : {} }));
    }
  } finally {
    engine.close();
  }
  printResults(context, built);
  return ExitCode.ok;
}

export interface ImagesBaseFlags {
  args: string[];
  push?: string;
  platform?: string;
  tag?: string;
  suite: string;
  mirror: string;
}

export async function imagesBaseAction(context: Context, flags: ImagesBaseFlags): Promise<number> {
  const [name, ...extra] = flags.args;
  if (!name || extra.length > 0) throw new UsageError('Name one base: busybox or node.', 'e.g. piswarm images base busybox --push 192.168.1.21:5000');
  const recipe = baseRecipe(name);
  if (!flags.push) throw new UsageError('A base goes to a registry: give --push REGISTRY.', 'e.g. --push 192.168.1.21:5000');
  const platforms = recipePlatforms(recipe, flags.platform?.split(',').map((p) => p.trim()).filter(Boolean));
  const tag = flags.tag ?? flags.suite;
  if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw new UsageError(`"${tag}" is not an image tag.`, 'Use letters, digits, ".", "_" and "-".');
  const writer = await openWriter(flags.push, recipe.name);
  context.reporter.debug(`apt state and downloaded packages are kept in ${debianCacheDir()}`);
  const result = await makeBase(
    {
      fetchPackages: (architecture, packages) => fetchDebianPackages(context.runner, { mirror: flags.mirror.replace(/\/+$/, ''), suite: flags.suite }, architecture, packages),
      unpack: async (deb, dir) => void (await context.runner.run('dpkg-deb', ['-x', deb, dir])),
      layer: tarDirectory,
      writer,
      reporter: context.reporter,
    },
    recipe,
    platforms,
    tag,
  );
  printResults(context, [result]);
  return ExitCode.ok;
}

/** Without --platform, an image on a known base is built for the platforms that base has. */
async function narrowToItsBase(build: ImageBuild): Promise<ImageBuild> {
  if (build.platformsAsked || !build.base) return build;
  const platforms = await registryPlatforms.fetchPlatforms(build.base).catch(() => undefined);
  return platforms ? narrowToBase(build, platforms.map(platformName)) : build;
}

/** The base's layers, when it lives in the registry the image goes to (so they are linked, not sent again). */
function layersOfBase(build: ImageBuild): (platform: ImagePlatform) => Promise<KnownLayers> {
  const ref = build.base ? parseImageRef(build.base) : undefined;
  const [registry] = (build.registry ?? '').split('/');
  if (!ref || ref.registry !== registry) return async () => new Map();
  let base: Promise<RegistryWriter> | undefined;
  return async (platform) => baseLayers(await (base ??= openWriter(ref.registry, ref.repository)), ref.reference, platform);
}

/** REGISTRY[/PATH] and a name: the writer for REGISTRY, repository PATH/NAME. */
async function openWriter(target: string, name: string): Promise<RegistryWriter> {
  const [registry, ...path] = target.replace(/\/+$/, '').split('/');
  return RegistryWriter.open(registry!, [...path, name].join('/'), await homeRegistryAccess(registry!));
}

/** This machine's engine, or with --builder NODE that node's over SSH (host key checked, found by MAC if it moved, as every command). */
async function openBuilder(context: Context, builder?: string): Promise<ImageEngine> {
  if (!builder || builder === 'local') return openImageEngine();
  const inventory = await context.loadInventory();
  const node = inventory.requireNode(builder);
  const address = node.ip;
  const session = await reopenSession(inventory, node, await clusterPorts(context, inventory));
  if (inventory.findNode(node.mac)?.ip !== address) await context.saveInventory(inventory);
  try {
    const engine = await openImageEngine(session.dockerAgent());
    return { ...engine, close: () => (engine.close(), session.close()) };
  } catch (error) {
    session.close();
    throw error;
  }
}

function printResults(context: Context, results: readonly PushedImage[]): void {
  if (!context.io.json) return;
  printJson(
    context.io,
    results.map((r) => ({ image: r.image, digest: r.digest, platforms: r.platforms.map((p) => ({ platform: platformName(p.platform), digest: p.manifest.digest, bytes: p.bytes })) })),
  );
}
