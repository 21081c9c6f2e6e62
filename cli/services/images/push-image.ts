import type { Readable } from 'node:stream';
import type { RegistryWriter } from '../../adapters/registry-push.js';
import { imageManifest, manifestList, MEDIA, platformName, sha256Digest, type Descriptor } from '../../core/oci.js';
import type { ImagePlatform } from '../../core/placement.js';

/** One platform's image as pushed: its manifest's descriptor, and what it weighs compressed. */
export interface PushedPlatform {
  platform: ImagePlatform;
  manifest: Descriptor;
  bytes: number;
}

/**
 * One platform's image pushed by digest: layers, then its config, then its manifest. Nothing
 * is tagged, so a run that stops here leaves no tag naming a half-made image.
 */
export async function pushPlatformImage(writer: RegistryWriter, platform: ImagePlatform, layers: ReadonlyArray<() => Readable>, config: (diffIds: string[]) => Buffer): Promise<PushedPlatform> {
  const pushed: Array<Descriptor & { diffId: string }> = [];
  for (const layer of layers) pushed.push(await writer.pushLayer(layer()));
  const configBlob = await writer.pushBytes(MEDIA.config, config(pushed.map((l) => l.diffId)));
  const body = imageManifest(configBlob, pushed.map(({ mediaType, size, digest }) => ({ mediaType, size, digest })));
  const manifest = await writer.putManifest(sha256Digest(body), MEDIA.manifest, body);
  return { platform, manifest, bytes: configBlob.size + pushed.reduce((sum, l) => sum + l.size, 0) };
}

/** The tag, last: a manifest list of every platform, so a pull anywhere gets its own variant. */
export async function pushManifestList(writer: RegistryWriter, tag: string, platforms: readonly PushedPlatform[]): Promise<Descriptor> {
  return writer.putManifest(tag, MEDIA.list, manifestList(platforms));
}

export function describePlatforms(platforms: readonly PushedPlatform[]): string {
  return platforms.map((p) => `${platformName(p.platform)} ${megabytes(p.bytes)}`).join(', ');
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
