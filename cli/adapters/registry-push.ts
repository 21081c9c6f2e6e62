import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { MEDIA, sha256Digest, type Descriptor } from '../core/oci.js';
import type { ImagePlatform } from '../core/placement.js';
import { PiswarmError } from '../errors.js';
import { mayTryPlainHttp, type RegistryAccess } from './registry-client.js';

const TIMEOUT_MS = 60_000;

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/**
 * Pushes blobs and manifests to one repository of a registry through the registry API (no
 * docker CLI, no buildx): blobs streamed, manifests by digest, a tag only when asked. A
 * registry without TLS is used over plain HTTP only when it is one Docker would call insecure
 * (see mayTryPlainHttp); piswarm's home registry through its CA and login.
 */
export class RegistryWriter {
  private constructor(
    private readonly base: string,
    private readonly registry: string,
    readonly repository: string,
    private readonly access?: RegistryAccess,
  ) {}

  static async open(registry: string, repository: string, access?: RegistryAccess): Promise<RegistryWriter> {
    const https = new RegistryWriter(`https://${registry}`, registry, repository, access);
    try {
      await https.check();
      return https;
    } catch (error) {
      if (access || !mayTryPlainHttp(registry, error)) throw https.unreachable(error);
    }
    const http = new RegistryWriter(`http://${registry}`, registry, repository);
    await http.check().catch((error: unknown) => {
      throw http.unreachable(error);
    });
    return http;
  }

  get name(): string {
    return `${this.registry}/${this.repository}`;
  }

  async hasBlob(digest: string): Promise<boolean> {
    return (await this.send('HEAD', `blobs/${digest}`)).status === 200;
  }

  /** A blob the registry keeps for another repository, linked into this one without sending it (as docker push does); false when the registry did not. */
  async mountBlob(digest: string, from: string): Promise<boolean> {
    const answer = await this.send('POST', `blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`);
    // Not mounted: the registry opened an upload instead, which is not needed.
    if (answer.status === 202 && answer.headers.location) await this.send('DELETE', new URL(String(answer.headers.location), this.base)).catch(() => undefined);
    return answer.status === 201;
  }

  /** A manifest (or list) as the registry serves it, for the platform's layers of a base. */
  async readManifest(reference: string): Promise<{ mediaType?: string; manifests?: Array<Descriptor & { platform?: ImagePlatform }>; config?: Descriptor; layers?: Descriptor[] }> {
    const answer = this.expect(await this.send('GET', `manifests/${reference}`, { accept: `${MEDIA.list}, ${MEDIA.manifest}` }), 200, `read the manifest ${reference}`);
    return JSON.parse(answer.body.toString('utf8'));
  }

  async readBlob(digest: string): Promise<Buffer> {
    return this.expect(await this.send('GET', `blobs/${digest}`), 200, `read ${digest}`).body;
  }

  /** A small blob (a config) from memory; nothing is sent when the registry has it already. */
  async pushBytes(mediaType: string, data: Buffer): Promise<Descriptor> {
    const digest = sha256Digest(data);
    if (!(await this.hasBlob(digest))) {
      const location = await this.startUpload();
      location.searchParams.set('digest', digest);
      this.expect(await this.send('PUT', location, { 'content-type': 'application/octet-stream' }, data), 201, `upload ${digest}`);
    }
    return { mediaType, size: data.length, digest };
  }

  /** A layer from an uncompressed tar stream, gzipped on the way: its digest and its diff ID are known only at the end, so it goes up as one PATCH and a closing PUT. */
  async pushLayer(tar: Readable): Promise<Descriptor & { diffId: string }> {
    // The source may fail while the upload is being opened; the pipeline below reports it then.
    tar.on('error', () => undefined);
    const diff = createHash('sha256');
    const blob = createHash('sha256');
    let size = 0;
    const location = await this.startUpload();
    const body = new PassThrough();
    const sent = this.send('PATCH', location, { 'content-type': 'application/octet-stream' }, body);
    // A registry that hangs up mid-upload must end the stream feeding it, not leave it waiting.
    sent.catch((error: Error) => body.destroy(error));
    await pipeline(tar, tap((chunk) => diff.update(chunk)), createGzip(), tap((chunk) => (blob.update(chunk), (size += chunk.length))), body);
    const patched = this.expect(await sent, 202, 'upload a layer');
    const digest = `sha256:${blob.digest('hex')}`;
    const close = new URL(String(patched.headers.location ?? location), this.base);
    close.searchParams.set('digest', digest);
    this.expect(await this.send('PUT', close), 201, `finish the layer ${digest}`);
    return { mediaType: MEDIA.layer, size, digest, diffId: `sha256:${diff.digest('hex')}` };
  }

  /** A manifest (or list) under `reference`: its digest to push it by digest, a tag to name it. */
  async putManifest(reference: string, mediaType: string, data: Buffer): Promise<Descriptor> {
    this.expect(await this.send('PUT', `manifests/${reference}`, { 'content-type': mediaType }, data), 201, `put the manifest ${reference}`);
    return { mediaType, size: data.length, digest: sha256Digest(data) };
  }

  private async check(): Promise<void> {
    const answer = await this.send('GET', '');
    if (answer.status === 401) {
      throw new PiswarmError(`${this.registry} wants a login piswarm does not have.`, {
        hint: 'Push to a registry without a login (the lab\'s, a Pi\'s registry:2), or to the home registry of `piswarm deploy registry`.',
      });
    }
  }

  private async startUpload(): Promise<URL> {
    const answer = this.expect(await this.send('POST', 'blobs/uploads/'), 202, 'start an upload');
    return new URL(String(answer.headers.location), this.base);
  }

  private expect(answer: Answer, status: number, what: string): Answer {
    if (answer.status === status) return answer;
    const detail = answer.body.toString('utf8').slice(0, 300).trim();
    throw new PiswarmError(`${this.registry} refused to ${what} for ${this.repository} (HTTP ${answer.status}${detail ? `: ${detail}` : ''}).`, {
      hint: 'Check that the registry accepts pushes (not a read-only mirror) and has room.',
    });
  }

  private unreachable(error: unknown): PiswarmError {
    if (error instanceof PiswarmError) return error;
    return new PiswarmError(`Can't reach the registry ${this.registry}: ${(error as Error).message}.`, { hint: 'Check the address and port (a home registry listens on :5000).' });
  }

  private send(method: string, path: string | URL, headers: Record<string, string> = {}, body?: Buffer | Readable): Promise<Answer> {
    const url = typeof path === 'string' ? new URL(`${this.base}/v2/${path && `${this.repository}/${path}`}`) : path;
    const auth = this.access ? { authorization: `Basic ${Buffer.from(`${this.access.username}:${this.access.password}`).toString('base64')}` } : {};
    const length = Buffer.isBuffer(body) ? { 'content-length': String(body.length) } : body ? {} : { 'content-length': '0' };
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(url, { method, headers: { ...headers, ...auth, ...length }, timeout: TIMEOUT_MS, ...(this.access ? { ca: this.access.ca } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
      req.on('error', reject);
      if (Buffer.isBuffer(body)) req.end(body);
      else if (body) body.pipe(req);
      else req.end();
    });
  }
}

function tap(see: (chunk: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      see(chunk);
      done(null, chunk);
    },
  });
}
