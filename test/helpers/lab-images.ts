import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, symlinkSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { piswarm } from './cli.js';
import { labEnv } from './lab.js';

const IMAGES = fileURLToPath(new URL('../../images', import.meta.url));

/**
 * Builds images/hello-world on a lab node, on a busybox base made from this machine's
 * busybox-static (the lab has no Docker Hub), and pushes both to the lab registry.
 */
export async function buildHelloWorld(lab: string, node: string, registry: string): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'piswarm-busybox-'));
  mkdirSync(join(root, 'bin'));
  copyFileSync('/bin/busybox', join(root, 'bin', 'busybox'));
  for (const applet of ['sh', 'httpd', 'wget', 'hostname', 'cat', 'printf', 'sleep']) symlinkSync('busybox', join(root, 'bin', applet));
  const tar = join(root, '..', `${root.split('/').pop()}.tar`);
  execFileSync('tar', ['-C', root, '-cf', tar, '.']);
  const image = `${registry}/hello-world:1`;
  const script = [
    `docker import - ${registry}/busybox:lab < ${tar} >/dev/null`,
    `docker push -q ${registry}/busybox:lab >/dev/null`,
    `docker build -q -t ${image} --build-arg BASE=${registry}/busybox:lab ${IMAGES}/hello-world >/dev/null`,
    `docker push -q ${image} >/dev/null`,
  ].join(' && ');
  const built = await piswarm(['lab', 'exec', node, '--name', lab, '--', 'sh', '-c', script], { env: labEnv });
  if (built.code !== 0) throw new Error(`building hello-world failed: ${built.stderr}`);
  return image;
}

/**
 * Pushes a single-platform image straight through the registry API: one empty layer and a config
 * naming `architecture`. Enough for a registry (and piswarm's pre-flight) to see an arm64-only image.
 */
export async function pushSingleArchImage(registry: string, repository: string, tag: string, architecture: string): Promise<string> {
  const base = `http://${registry}/v2/${repository}`;
  const upload = async (data: Buffer): Promise<string> => {
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    const start = await fetch(`${base}/blobs/uploads/`, { method: 'POST' });
    const location = new URL(start.headers.get('location')!, `http://${registry}`);
    location.searchParams.set('digest', digest);
    const put = await fetch(location, { method: 'PUT', body: data, headers: { 'content-type': 'application/octet-stream' } });
    if (!put.ok) throw new Error(`blob upload failed: ${put.status}`);
    return digest;
  };
  const layer = gzipSync(Buffer.alloc(1024));
  const layerDigest = await upload(layer);
  const diffId = `sha256:${createHash('sha256').update(Buffer.alloc(1024)).digest('hex')}`;
  const config = Buffer.from(JSON.stringify({ architecture, os: 'linux', config: { Cmd: ['/bin/true'] }, rootfs: { type: 'layers', diff_ids: [diffId] } }));
  const configDigest = await upload(config);
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: configDigest },
    layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: layer.length, digest: layerDigest }],
  };
  const put = await fetch(`${base}/manifests/${tag}`, { method: 'PUT', body: JSON.stringify(manifest), headers: { 'content-type': manifest.mediaType } });
  if (!put.ok) throw new Error(`manifest upload failed: ${put.status} ${await put.text()}`);
  return `${registry}/${repository}:${tag}`;
}
