import type { Readable } from 'node:stream';
import type { RegistryWriter } from '../../adapters/registry-push.js';
import { imageManifest, manifestList, MEDIA, platformName, sha256Digest, type Descriptor } from '../../core/oci.js';
import type { ImagePlatform } from '../../core/placement.js';
import type { Reporter } from '../../io.js';

/** One platform's image as pushed: its manifest's descriptor, and what it weighs compressed. */
export interface PushedPlatform {
  platform: ImagePlatform;
  manifest: Descriptor;
  bytes: number;
}

/** A layer to push: its uncompressed tar, and when known its diff ID (the base's layers are known). */
export interface LayerSource {
  open: () => Readable;
  diffId?: string;
}

/** Layers the registry has already (a base's), by diff ID: linked from their repository instead of sent again. */
export type KnownLayers = ReadonlyMap<string, { descriptor: Descriptor; repository: string }>;

/**
 * One platform's image pushed by digest: layers, then its config, then its manifest. Nothing
 * is tagged, so a run that stops here leaves no tag naming a half-made image.
 */
export async function pushPlatformImage(writer: RegistryWriter, platform: ImagePlatform, layers: readonly LayerSource[], config: (diffIds: string[]) => Buffer, known: KnownLayers = new Map()): Promise<PushedPlatform> {
  const pushed: Array<Descriptor & { diffId: string }> = [];
  for (const layer of layers) {
    const base = layer.diffId ? known.get(layer.diffId) : undefined;
    if (base && (await writer.mountBlob(base.descriptor.digest, base.repository))) pushed.push({ ...base.descriptor, diffId: layer.diffId! });
    else pushed.push(await writer.pushLayer(layer.open()));
  }
  const configBlob = await writer.pushBytes(MEDIA.config, config(pushed.map((l) => l.diffId)));
  const body = imageManifest(configBlob, pushed.map(({ mediaType, size, digest }) => ({ mediaType, size, digest })));
  const manifest = await writer.putManifest(sha256Digest(body), MEDIA.manifest, body);
  return { platform, manifest, bytes: configBlob.size + pushed.reduce((sum, l) => sum + l.size, 0) };
}

/** A multi-platform image as pushed: its tag, the list's digest, and each platform's image. */
export interface PushedImage {
  image: string;
  digest: string;
  platforms: PushedPlatform[];
}

/** The tag, last: a manifest list of every platform, so a pull anywhere gets its own variant. */
export async function pushManifestList(writer: RegistryWriter, tag: string, platforms: readonly PushedPlatform[], reporter: Reporter): Promise<PushedImage> {
  const list = await writer.putManifest(tag, MEDIA.list, manifestList(platforms));
  reporter.step(`${writer.name}:${tag} pushed: ${describePlatforms(platforms)}`);
  return { image: `${writer.name}:${tag}`, digest: list.digest, platforms: [...platforms] };
}

/** The layers of a base's variant for the platform, by diff ID, when the base is in the registry being pushed to. */
export async function baseLayers(base: RegistryWriter, reference: string, platform: ImagePlatform): Promise<KnownLayers> {
  const list = await base.readManifest(reference);
  const entry = list.manifests?.find((m) => m.platform && platformName(m.platform) === platformName(platform));
  const manifest = entry ? await base.readManifest(entry.digest) : list;
  if (!manifest.config || !manifest.layers) return new Map();
  const config = JSON.parse((await base.readBlob(manifest.config.digest)).toString('utf8')) as { architecture?: string; rootfs?: { diff_ids?: string[] } };
  if (!entry && config.architecture !== platform.architecture) return new Map();
  const diffIds = config.rootfs?.diff_ids ?? [];
  return new Map(manifest.layers.flatMap((descriptor, i) => (diffIds[i] ? [[diffIds[i]!, { descriptor, repository: base.repository }]] : [])));
}

function describePlatforms(platforms: readonly PushedPlatform[]): string {
  return platforms.map((p) => `${platformName(p.platform)} ${megabytes(p.bytes)}`).join(', ');
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
