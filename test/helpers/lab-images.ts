import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { piswarm } from './cli.js';
import { labEnv, netnsPids } from './lab.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/lab-images.sh', import.meta.url));

/** Builds images/* as manifest lists in the lab registry, bases included (scripts/lab-images.sh, shared with the demo and bench/). */
export function buildLabImages(lab: string, node: string, registry: string): string[] {
  return execFileSync('bash', [SCRIPT, lab, node, registry], { env: { ...process.env, ...labEnv }, encoding: 'utf8' }).trim().split('\n');
}

/**
 * One platform's image of a manifest list, by its own digest: what a node runs with `docker run`
 * without the tag's local copy becoming that platform's (a swarm task pinned to the list's digest
 * would then run it too, under qemu).
 */
export async function variantRef(registry: string, repository: string, tag: string, platform: { architecture: string; variant?: string }): Promise<string> {
  const list = (await (await fetch(`http://${registry}/v2/${repository}/manifests/${tag}`, { headers: { accept: 'application/vnd.docker.distribution.manifest.list.v2+json' } })).json()) as {
    manifests: Array<{ digest: string; platform: { architecture: string; variant?: string } }>;
  };
  const entry = list.manifests.find((m) => m.platform.architecture === platform.architecture && m.platform.variant === platform.variant);
  if (!entry) throw new Error(`${registry}/${repository}:${tag} has no ${platform.architecture}${platform.variant ?? ''} variant`);
  return `${registry}/${repository}@${entry.digest}`;
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
    const put = await fetch(location, { method: 'PUT', body: new Uint8Array(data), headers: { 'content-type': 'application/octet-stream' } });
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

/**
 * A lab of Pis bootstrapped into a swarm (inventory `inventory`, run as `env`), with images/ built
 * into its registry: where the stack tests start. Returns the nodes' pids, for the leftover check.
 */
export async function startSwarmLab(options: { name: string; subnet: string; nodes: readonly string[]; registry: string; inventory: string; env: NodeJS.ProcessEnv; managers?: number }): Promise<number[]> {
  const { name, subnet, nodes, registry, inventory, env } = options;
  await piswarm(['lab', 'down', '--name', name], { env: labEnv });
  const up = await piswarm(['lab', 'up', '--name', name, '--nodes', String(nodes.length), '--subnet', subnet], { env: labEnv });
  if (up.code !== 0) throw new Error(`lab up failed: ${up.stderr}`);
  const pids = nodes.flatMap((_, i) => netnsPids(`${name}-pi-0${i + 1}`));
  const boot = await piswarm(['--inventory', inventory, 'bootstrap', '--nodes', nodes.join(','), ...(options.managers ? ['--managers', String(options.managers)] : [])], { env });
  if (boot.code !== 0) throw new Error(`bootstrap failed: ${boot.stderr}`);
  buildLabImages(name, 'pi-01', registry);
  return pids;
}
