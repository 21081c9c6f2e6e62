import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { RegistryWriter } from '../../adapters/registry-push.js';
import type { BaseRecipe } from '../../core/base-images.js';
import { debianArchitecture, imageConfig, parsePlatform } from '../../core/oci.js';
import type { Reporter } from '../../io.js';
import { megabytes, pushManifestList, pushPlatformImage, type PushedImage, type PushedPlatform } from './push-image.js';

export interface BasePorts {
  /** The .debs of the packages and their dependencies, for a Debian architecture. */
  fetchPackages(architecture: string, packages: readonly string[]): Promise<string[]>;
  unpack(deb: string, dir: string): Promise<void>;
  /** The directory as one uncompressed layer. */
  layer(dir: string): Readable;
  writer: RegistryWriter;
  reporter: Reporter;
}

/**
 * A base image per platform from Debian's packages, one layer each with its architecture
 * recorded in its config, pushed by digest; the tag (a manifest list) only once all are up.
 */
export async function makeBase(ports: BasePorts, recipe: BaseRecipe, platforms: readonly string[], tag: string): Promise<PushedImage> {
  const pushed: PushedPlatform[] = [];
  for (const name of platforms) {
    const platform = parsePlatform(name);
    const architecture = debianArchitecture(platform);
    ports.reporter.debug(`${recipe.name} ${name}: fetching ${recipe.packages.join(', ')} (${architecture}) and what they depend on`);
    const debs = await ports.fetchPackages(architecture, recipe.packages);
    const root = await mkdtemp(join(tmpdir(), `piswarm-base-${recipe.name}-`));
    try {
      for (const deb of debs) await ports.unpack(deb, root);
      await layOut(root, recipe);
      const created = new Date().toISOString();
      const image = await pushPlatformImage(ports.writer, platform, [{ open: () => ports.layer(root) }], (diffIds) => imageConfig(platform, diffIds, recipe.config, created));
      ports.reporter.step(`${recipe.name} for ${name} pushed (${debs.length} package(s), ${megabytes(image.bytes)})`);
      pushed.push(image);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }
  return pushManifestList(ports.writer, tag, pushed, ports.reporter);
}

/** The unpacked packages made into a root filesystem: docs dropped, the recipe's dirs, files and links, modes a container expects. */
async function layOut(root: string, recipe: BaseRecipe): Promise<void> {
  for (const path of recipe.drop) await rm(join(root, path), { recursive: true, force: true });
  for (const dir of recipe.dirs) await mkdir(join(root, dir), { recursive: true });
  for (const file of recipe.files) {
    await mkdir(dirname(join(root, file)), { recursive: true });
    await writeFile(join(root, file), '');
  }
  for (const [link, target] of Object.entries(recipe.links)) {
    await mkdir(dirname(join(root, link)), { recursive: true });
    await rm(join(root, link), { force: true });
    await symlink(target, join(root, link));
  }
  // mkdtemp made the root 700: a container's / is 755, its /tmp 1777.
  await chmod(root, 0o755);
  if (recipe.dirs.includes('tmp')) await chmod(join(root, 'tmp'), 0o1777);
}
