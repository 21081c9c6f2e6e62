import { UsageError } from '../errors.js';

/** The platforms of the Pis piswarm knows (Zero/1, 2/3 on 32-bit, 3/4/5 on 64-bit) and PCs. */
export const PI_PLATFORMS = ['linux/arm/v6', 'linux/arm/v7', 'linux/arm64', 'linux/amd64'] as const;

export interface ImageBuild {
  name: string;
  /** What the image is called where it ends up. */
  ref: string;
  /** `docker …` arguments. */
  args: string[];
}

/**
 * One `docker buildx build` per image: every platform at once, pushed to the registry. Without a
 * registry only a single-platform build can go anywhere (loaded into the local engine).
 */
export function planImageBuilds(
  names: readonly string[],
  available: readonly string[],
  options: { imagesDir: string; platforms: readonly string[]; registry?: string; tag: string; base?: string },
): ImageBuild[] {
  const unknown = names.filter((n) => !available.includes(n));
  if (unknown.length > 0) throw new UsageError(`No image ${unknown.map((n) => `"${n}"`).join(', ')} in ${options.imagesDir}.`, `Images: ${available.join(', ')}.`);
  const badPlatforms = options.platforms.filter((p) => !/^linux\/(amd64|arm64|arm\/v[5-7]|386|riscv64|ppc64le|s390x)$/.test(p));
  if (badPlatforms.length > 0) throw new UsageError(`Unknown platform ${badPlatforms.join(', ')}.`, `Pis use ${PI_PLATFORMS.join(', ')}.`);
  if (!options.registry && options.platforms.length > 1) {
    throw new UsageError('A multi-platform image can only be pushed to a registry, not loaded into the local engine.', 'Give --push REGISTRY (e.g. --push 192.168.1.21:5000), or a single --platform to load it here.');
  }
  if (!/^[\w][\w.-]{0,127}$/.test(options.tag)) throw new UsageError(`"${options.tag}" is not an image tag.`, 'Use letters, digits, ".", "_" and "-", e.g. --tag 1.');
  return (names.length > 0 ? names : available).map((name) => {
    const ref = `${options.registry ? `${options.registry.replace(/\/+$/, '')}/` : ''}${name}:${options.tag}`;
    return {
      name,
      ref,
      args: ['buildx', 'build', '--platform', options.platforms.join(','), '-t', ref, ...(options.base ? ['--build-arg', `BASE=${options.base}`] : []), options.registry ? '--push' : '--load', `${options.imagesDir}/${name}`],
    };
  });
}
