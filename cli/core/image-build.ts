import { UsageError } from '../errors.js';
import { parsePlatform, platformName } from './oci.js';

/** The platforms of the Pis piswarm knows (Zero/1, 2/3 on 32-bit, 3/4/5 on 64-bit) and PCs. */
export const PI_PLATFORMS = ['linux/arm/v6', 'linux/arm/v7', 'linux/arm64', 'linux/amd64'] as const;

/** The Debian suite `piswarm images base` makes bases from, and the tag it gives them. */
export const BASE_SUITE = 'bookworm';
export const DEBIAN_MIRROR = 'http://deb.debian.org/debian';

/** An image folder of images/: its name and its Dockerfile's default BASE. */
export interface ImageSource {
  name: string;
  defaultBase?: string;
}

export interface ImageBuild {
  name: string;
  dir: string;
  /** What the image is called where it ends up. */
  ref: string;
  registry?: string;
  tag: string;
  platforms: string[];
  /** Whether the platforms were asked for (else they may be narrowed to the base's). */
  platformsAsked: boolean;
  /** The Dockerfile's BASE, when not its own default. */
  base?: string;
}

export interface BuildOptions {
  imagesDir: string;
  platforms?: readonly string[];
  registry?: string;
  tag: string;
  base?: string;
  /** A registry holding the bases of `piswarm images base`: BASE becomes REGISTRY/busybox:bookworm and so on. */
  baseFrom?: string;
}

/** The Dockerfile's `ARG BASE=…` default. */
export function defaultBaseOf(dockerfile: string): string | undefined {
  return /^ARG BASE=(\S+)/m.exec(dockerfile)?.[1];
}

/** Which images to build, for which platforms, on which base; without a registry only a single-platform build can go anywhere (loaded into the local engine). */
export function planImageBuilds(names: readonly string[], available: readonly ImageSource[], options: BuildOptions): ImageBuild[] {
  const known = available.map((a) => a.name);
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0) throw new UsageError(`No image ${unknown.map((n) => `"${n}"`).join(', ')} in ${options.imagesDir}.`, `Images: ${known.join(', ')}.`);
  const platforms = (options.platforms ?? PI_PLATFORMS).map((p) => platformName(parsePlatform(p)));
  if (!options.registry && platforms.length > 1) {
    throw new UsageError('A multi-platform image can only be pushed to a registry, not loaded into the local engine.', 'Give --push REGISTRY (e.g. --push 192.168.1.21:5000), or a single --platform to load it here.');
  }
  if (!/^[\w][\w.-]{0,127}$/.test(options.tag)) throw new UsageError(`"${options.tag}" is not an image tag.`, 'Use letters, digits, ".", "_" and "-", e.g. --tag 1.');
  if (options.base && options.baseFrom) throw new UsageError('--base and --base-from both name the base.', 'Give one of them.');
  const registry = options.registry?.replace(/\/+$/, '');
  return available
    .filter((a) => names.length === 0 || names.includes(a.name))
    .map((source) => ({
      name: source.name,
      dir: `${options.imagesDir}/${source.name}`,
      ref: `${registry ? `${registry}/` : ''}${source.name}:${options.tag}`,
      ...(registry ? { registry } : {}),
      tag: options.tag,
      platforms,
      platformsAsked: options.platforms !== undefined,
      ...baseOf(source, options),
    }));
}

function baseOf(source: ImageSource, options: BuildOptions): { base?: string } {
  if (options.base) return { base: options.base };
  if (!options.baseFrom) return {};
  // busybox:1.36 → REGISTRY/busybox:bookworm; node:20-alpine → REGISTRY/node:bookworm.
  const repository = source.defaultBase?.replace(/[:@].*$/, '').split('/').pop();
  if (!repository) throw new UsageError(`images/${source.name}/Dockerfile has no ARG BASE to take from ${options.baseFrom}.`);
  return { base: `${options.baseFrom.replace(/\/+$/, '')}/${repository}:${BASE_SUITE}` };
}

/** Without platforms asked for, an image is built for what its base has of them (the Node.js base has no arm/v6). */
export function narrowToBase(build: ImageBuild, basePlatforms: readonly string[]): ImageBuild {
  if (build.platformsAsked) return build;
  const platforms = build.platforms.filter((p) => basePlatforms.includes(p));
  if (platforms.length === 0) throw new UsageError(`${build.base} has none of the platforms ${build.platforms.join(', ')}.`, 'Make the base for them (piswarm images base), or give --platform.');
  return { ...build, platforms };
}

/** The one `docker buildx build` for an image: every platform at once, pushed or loaded. */
export function buildxArgs(build: ImageBuild): string[] {
  return ['buildx', 'build', '--platform', build.platforms.join(','), '-t', build.ref, ...(build.base ? ['--build-arg', `BASE=${build.base}`] : []), build.registry ? '--push' : '--load', build.dir];
}
