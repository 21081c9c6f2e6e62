import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';
import type { ImagePlatform } from './placement.js';

/** The media types of Docker's image manifests (schema 2): what engine 19.03+ and every registry know. */
export const MEDIA = {
  list: 'application/vnd.docker.distribution.manifest.list.v2+json',
  manifest: 'application/vnd.docker.distribution.manifest.v2+json',
  config: 'application/vnd.docker.container.image.v1+json',
  layer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export interface Descriptor {
  mediaType: string;
  size: number;
  digest: string;
}

/** A platform as Docker writes it: linux/arm/v7, linux/arm64, linux/amd64. */
export function parsePlatform(text: string): ImagePlatform {
  const match = /^(linux)\/(amd64|arm64|arm|386|riscv64|ppc64le|s390x)(?:\/(v[5-8]))?$/.exec(text.trim());
  if (!match || (match[2] === 'arm' && !match[3]) || (match[3] && !['arm', 'arm64'].includes(match[2]!))) {
    throw new UsageError(`Unknown platform "${text}".`, 'Pis use linux/arm/v6 (Zero, 1), linux/arm/v7 (2, 3 on 32-bit), linux/arm64 (3, 4, 5 on 64-bit); PCs linux/amd64.');
  }
  // arm64's only variant is v8, which Docker leaves out.
  return { os: match[1]!, architecture: match[2]!, ...(match[3] && match[2] === 'arm' ? { variant: match[3] } : {}) };
}

export function platformName(platform: ImagePlatform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}

/** Debian's name for the architecture whose binaries run on the platform. */
const DEBIAN: Record<string, string> = { 'linux/arm/v6': 'armel', 'linux/arm/v7': 'armhf', 'linux/arm64': 'arm64', 'linux/amd64': 'amd64' };

export function debianArchitecture(platform: ImagePlatform): string {
  const name = platformName(platform);
  const architecture = DEBIAN[name];
  if (!architecture) throw new UsageError(`Debian has no packages for ${name} that piswarm can make a base from.`, `Platforms: ${Object.keys(DEBIAN).join(', ')}.`);
  return architecture;
}

export function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function describeBlob(mediaType: string, data: Buffer): Descriptor {
  return { mediaType, size: data.length, digest: sha256Digest(data) };
}

/** What a container of the image starts with (the config's `config`), in the engine's spelling. */
export interface RunConfig {
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
}

/** An image config naming its platform: the engine reads the architecture from here, not from the list. */
export function imageConfig(platform: ImagePlatform, diffIds: readonly string[], config: RunConfig, created: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      architecture: platform.architecture,
      ...(platform.variant ? { variant: platform.variant } : {}),
      os: platform.os,
      created,
      config,
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: diffIds.map(() => ({ created, created_by: 'piswarm images base' })),
    }),
  );
}

export function imageManifest(config: Descriptor, layers: readonly Descriptor[]): Buffer {
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.manifest, config, layers }));
}

export function manifestList(entries: ReadonlyArray<{ manifest: Descriptor; platform: ImagePlatform }>): Buffer {
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.list, manifests: entries.map((e) => ({ ...e.manifest, platform: e.platform })) }));
}

/**
 * An image config the engine built or saved, fixed to the platform it was built for: an engine
 * writes the architecture of the base it built on and may leave the variant out. An architecture
 * other than the platform's means the build ran on another base: refused.
 */
export function configForPlatform(config: Buffer, platform: ImagePlatform, image: string): Buffer {
  const parsed = JSON.parse(config.toString('utf8')) as { architecture?: string; variant?: string; os?: string };
  const variantDiffers = parsed.variant !== undefined && parsed.variant !== platform.variant;
  if (parsed.architecture !== platform.architecture || (parsed.os ?? 'linux') !== platform.os || variantDiffers) {
    const built = platformName({ os: parsed.os ?? 'linux', architecture: parsed.architecture ?? 'unknown', variant: parsed.variant });
    throw new UsageError(
      `${image} was built for ${built}, not ${platformName(platform)}: its base has no ${platformName(platform)} variant.`,
      'Give a base with every platform (piswarm images base … --push REGISTRY makes them), or leave that platform out with --platform.',
    );
  }
  if (parsed.variant === platform.variant) return config;
  return Buffer.from(JSON.stringify({ ...parsed, variant: platform.variant }));
}
