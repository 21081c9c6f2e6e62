import { UsageError } from '../errors.js';
import type { RunConfig } from './oci.js';

/**
 * A base image made from Debian's packages, without a hub: what to fetch, which platforms
 * Debian builds it for, and how to lay the unpacked files out.
 */
export interface BaseRecipe {
  name: string;
  packages: string[];
  platforms: string[];
  /** Relative symlink → target, made after unpacking. */
  links: Record<string, string>;
  /** Directories made after unpacking (tmp is world-writable and sticky). */
  dirs: string[];
  /** Empty files some programs look for. */
  files: string[];
  /** Unpacked paths that are only documentation, dropped. */
  drop: string[];
  config: RunConfig;
}

/** What hello-world and a shell in a container use; busybox --install would need the target CPU to run. */
const APPLETS = ['sh', 'ash', 'httpd', 'wget', 'hostname', 'cat', 'echo', 'printf', 'sleep', 'uname', 'ls', 'env', 'mkdir', 'rm', 'cp', 'mv', 'ln', 'ps', 'grep', 'sed', 'head', 'tail', 'true', 'false', 'test', 'id', 'date', 'nc', 'chmod'];

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DOCS = ['usr/share/doc', 'usr/share/man', 'usr/share/lintian', 'usr/share/bug'];

export const BASE_RECIPES: readonly BaseRecipe[] = [
  {
    name: 'busybox',
    packages: ['busybox-static'],
    platforms: ['linux/arm/v6', 'linux/arm/v7', 'linux/arm64', 'linux/amd64'],
    links: Object.fromEntries(APPLETS.map((applet) => [`bin/${applet}`, 'busybox'])),
    dirs: ['tmp', 'www'],
    files: [],
    drop: DOCS,
    config: { Cmd: ['sh'], Env: [PATH] },
  },
  {
    name: 'node',
    packages: ['nodejs'],
    // Debian's armel nodejs needs an ARMv7 CPU all the same: no Pi Zero build from Debian.
    platforms: ['linux/arm/v7', 'linux/arm64', 'linux/amd64'],
    links: {},
    dirs: ['tmp', 'app'],
    // Debian's node reads the system CA bundle and warns on every start when there is none.
    files: ['etc/ssl/certs/ca-certificates.crt'],
    drop: DOCS,
    config: { Cmd: ['node'], Env: [PATH], WorkingDir: '/app' },
  },
];

export function baseRecipe(name: string): BaseRecipe {
  const recipe = BASE_RECIPES.find((r) => r.name === name);
  if (!recipe) throw new UsageError(`No base "${name}".`, `Bases: ${BASE_RECIPES.map((r) => r.name).join(', ')}.`);
  return recipe;
}

/** The recipe's platforms, or those asked for when the recipe has them all. */
export function recipePlatforms(recipe: BaseRecipe, asked?: readonly string[]): string[] {
  if (!asked || asked.length === 0) return [...recipe.platforms];
  const missing = asked.filter((p) => !recipe.platforms.includes(p));
  if (missing.length > 0) throw new UsageError(`Debian's packages make no ${recipe.name} base for ${missing.join(', ')}.`, `The ${recipe.name} base is made for ${recipe.platforms.join(', ')}.`);
  return [...asked];
}
