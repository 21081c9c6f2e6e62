import { createHash } from 'node:crypto';
import { request } from 'node:https';
import type { ImageRef } from '../core/image-ref.js';
import type { ImageFacts, ImagePlatform } from '../core/placement.js';
import { PiswarmError } from '../errors.js';

const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
].join(', ');

interface Manifest {
  mediaType?: string;
  manifests?: Array<{ platform?: ImagePlatform }>;
  config?: { digest: string };
}

/**
 * The platforms an image has and the digest its tag names, read from its registry without
 * pulling it: the manifest list's entries, or for a single-platform image its config blob.
 * Anonymous bearer tokens are fetched as `docker pull` does; a private registry without TLS (a
 * home-lab registry on :5000) is tried over plain HTTP when HTTPS fails to connect.
 */
export async function inspectImage(ref: ImageRef, timeoutMs: number, access?: RegistryAccess): Promise<ImageFacts> {
  const client = new RegistryClient(ref, timeoutMs, access);
  const body = await client.get(`manifests/${ref.reference}`, MANIFEST_TYPES);
  // A manifest's digest is the SHA-256 of its bytes, exactly as served.
  const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  const manifest = JSON.parse(body.toString('utf8')) as Manifest;
  if (manifest.manifests) {
    // Attestation manifests (buildx provenance) are listed as unknown/unknown.
    return { digest, platforms: manifest.manifests.flatMap((m) => (m.platform && m.platform.architecture !== 'unknown' ? [m.platform] : [])) };
  }
  if (!manifest.config) throw new PiswarmError(`The registry's manifest for ${ref.repository}:${ref.reference} has neither a platform list nor a config.`);
  const config = JSON.parse((await client.get(`blobs/${manifest.config.digest}`, '*/*')).toString('utf8')) as { os?: string; architecture?: string; variant?: string };
  return { digest, platforms: [{ os: config.os ?? 'linux', architecture: config.architecture ?? 'unknown', ...(config.variant ? { variant: config.variant } : {}) }] };
}

/** The home registry piswarm deployed: HTTPS from the home CA, with a login. */
export interface RegistryAccess {
  ca: string;
  username: string;
  password: string;
}

class RegistryClient {
  private base: string;
  private token?: string;
  private triedHttp = false;

  constructor(
    private readonly ref: ImageRef,
    private readonly timeoutMs: number,
    private readonly access?: RegistryAccess,
  ) {
    this.base = ref.registry === 'docker.io' ? 'https://registry-1.docker.io' : `https://${ref.registry}`;
  }

  async get(path: string, accept: string): Promise<Buffer> {
    const url = () => `${this.base}/v2/${this.ref.repository}/${path}`;
    let response = await this.fetch(url(), accept);
    if (response.status === 401 && !this.token) {
      this.token = await this.anonymousToken(response.headers.get('www-authenticate') ?? '');
      response = await this.fetch(url(), accept);
    }
    if (response.status === 404) throw new PiswarmError(`${this.describe()} is not in its registry (${this.ref.registry}).`, { hint: 'Check the name and tag, and that the image was pushed.' });
    if (!response.ok) throw new PiswarmError(`${this.ref.registry} answered ${response.status} for ${this.describe()}.`);
    return Buffer.from(await response.arrayBuffer());
  }

  private async fetch(url: string, accept: string): Promise<Response> {
    const headers: Record<string, string> = { accept };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (this.access) {
      headers.authorization = `Basic ${Buffer.from(`${this.access.username}:${this.access.password}`).toString('base64')}`;
      return trustingCa(url, headers, this.access.ca, this.timeoutMs).catch((error: Error) => {
        throw new PiswarmError(`Can't reach the registry ${this.ref.registry} for ${this.describe()}: ${error.message}.`);
      });
    }
    try {
      return await fetch(url, { headers, signal: AbortSignal.timeout(this.timeoutMs), redirect: 'follow' });
    } catch (error) {
      if (this.base.startsWith('https://') && !this.triedHttp && mayTryPlainHttp(this.ref.registry, error)) {
        this.triedHttp = true;
        this.base = `http://${this.ref.registry}`;
        return this.fetch(url.replace(/^https:/, 'http:'), accept);
      }
      throw new PiswarmError(`Can't reach the registry ${this.ref.registry} for ${this.describe()}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}.`);
    }
  }

  private async anonymousToken(challenge: string): Promise<string | undefined> {
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    if (!/^Bearer/i.test(challenge) || !params.realm) return undefined;
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', params.scope ?? `repository:${this.ref.repository}:pull`);
    const response = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
    if (!response.ok) return undefined;
    const body = (await response.json()) as { token?: string; access_token?: string };
    return body.token ?? body.access_token;
  }

  private describe(): string {
    return `${this.ref.repository}${this.ref.reference.startsWith('sha256:') ? '@' : ':'}${this.ref.reference}`;
  }
}

/** A GET over HTTPS that trusts `ca` (fetch takes no CA of its own); no redirects, as a registry's local storage makes none. */
function trustingCa(url: string, headers: Record<string, string>, ca: string, timeoutMs: number): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, ca, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const responseHeaders = new Headers();
        for (const [key, value] of Object.entries(res.headers)) if (typeof value === 'string') responseHeaders.set(key, value);
        resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 502, headers: responseHeaders }));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Plain HTTP only for what Docker itself treats as an insecure home registry: one on this machine
 * or a private address (a lab's 10.77.0.1:5000, a Pi on 192.168.x), and only when the HTTPS attempt
 * failed for want of TLS, never on a certificate error (that is exactly when someone is in between).
 */
export function mayTryPlainHttp(registry: string, error: unknown): boolean {
  const host = registry.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const local = /^(localhost|127\.\d+\.\d+\.\d+|::1|10\.\d+\.\d+\.\d+|192\.168\.\d+\.\d+|172\.(1[6-9]|2\d|3[01])\.\d+\.\d+|169\.254\.\d+\.\d+|[\w-]+\.local|[\w-]+)$/i.test(host);
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const text = `${cause?.code ?? ''} ${cause?.message ?? (error as Error).message ?? ''}`;
  const certificate = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT|altnames|certificate/i.test(text);
  return local && !certificate;
}
