import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createInflateRaw, crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { cacheFileName } from '../core/cache-name.js';
import { PiswarmError } from '../errors.js';

/** Reads of 4 MiB: node:crypto and zlib run several times faster on large chunks. */
export const CHUNK = 4 * 1024 * 1024;

export type ImageKind = 'img' | 'zip' | 'xz' | 'gz';

export class ImageSourceError extends PiswarmError {}

export function imageKind(path: string): ImageKind {
  const lower = path.toLowerCase();
  if (lower.endsWith('.zip')) return 'zip';
  if (lower.endsWith('.xz')) return 'xz';
  if (lower.endsWith('.gz')) return 'gz';
  return 'img';
}

export interface OpenedImage {
  stream: Readable;
  /** Uncompressed size when the container says it (img, zip, xz); gzip's is only a guess. */
  size?: number;
  sizeIsExact: boolean;
}

/** Checks the file is there and readable, with errors that say which and why. */
export async function assertReadableFile(path: string): Promise<number> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw sourceError(path, error);
  }
  if (info.isDirectory()) throw new ImageSourceError(`${path} is a directory, not an image.`, { hint: 'Give the .img, .img.zip, .img.xz or .img.gz file.' });
  try {
    await (await open(path, 'r')).close();
  } catch (error) {
    throw sourceError(path, error);
  }
  return info.size;
}

function sourceError(path: string, error: unknown): ImageSourceError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new ImageSourceError(`${path} does not exist.`, { hint: 'Check the path, or give an http(s):// URL.', cause: error });
  if (code === 'EACCES') return new ImageSourceError(`${path} is not readable (permission denied).`, { hint: 'Run as a user who may read it.', cause: error });
  return new ImageSourceError(`Can't read ${path} (${code}).`, { cause: error });
}

/** Opens the raw image inside a local file, decompressing as it streams. */
export async function openImage(path: string): Promise<OpenedImage> {
  const kind = imageKind(path);
  const fileSize = await assertReadableFile(path);
  if (kind === 'img') return { stream: createReadStream(path, { highWaterMark: CHUNK }), size: fileSize, sizeIsExact: true };
  if (kind === 'gz') {
    const guess = await gzipSizeGuess(path, fileSize);
    return { stream: chainErrors(createReadStream(path, { highWaterMark: CHUNK }), createGunzip({ chunkSize: 1 << 20 }), path), size: guess, sizeIsExact: false };
  }
  if (kind === 'xz') return openXz(path);
  return openZip(path);
}

/** The first `bytes` of the raw image (decompressing only as far as needed). */
export async function readImageHead(path: string, bytes: number): Promise<Buffer> {
  const { stream } = await openImage(path);
  const chunks: Buffer[] = [];
  let have = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      have += chunk.length;
      if (have >= bytes) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks).subarray(0, bytes);
}

/** gzip records the size modulo 4 GiB: right for most Pi images, a guess for larger ones. */
async function gzipSizeGuess(path: string, fileSize: number): Promise<number | undefined> {
  if (fileSize < 18) return undefined;
  const handle = await open(path, 'r');
  try {
    const tail = Buffer.alloc(4);
    await handle.read(tail, 0, 4, fileSize - 4);
    const size = tail.readUInt32LE(0);
    return size >= fileSize ? size : undefined;
  } finally {
    await handle.close();
  }
}

async function openXz(path: string): Promise<OpenedImage> {
  const size = await xzSize(path);
  const child = spawn('xz', ['--decompress', '--stdout', '--', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const out = new PassThrough({ highWaterMark: CHUNK });
  child.stdout.pipe(out, { end: false });
  child.on('error', (error) => out.destroy(new ImageSourceError(`Can't run xz to decompress ${path}: ${error.message}`, { hint: 'Install xz-utils.' })));
  child.on('close', (code) => {
    if (code === 0) out.end();
    else out.destroy(new ImageSourceError(`${basename(path)} is corrupt or truncated: ${stderr.trim().replace(/^xz: /, '') || `xz exited ${code}`}.`, { hint: 'Download it again.' }));
  });
  out.on('close', () => child.kill());
  return { stream: out, size, sizeIsExact: size !== undefined };
}

async function xzSize(path: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const child = spawn('xz', ['--robot', '--list', '--', path], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', () => resolve(undefined));
    child.on('close', () => {
      const totals = out.split('\n').find((l) => l.startsWith('totals'));
      const size = Number(totals?.split('\t')[4]);
      resolve(Number.isFinite(size) && size > 0 ? size : undefined);
    });
  });
}

function openZipFile(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: false }, (error, zip) => {
      if (error || !zip) reject(new ImageSourceError(`${basename(path)} is not a readable zip (${error?.message ?? 'unknown error'}); it may be truncated.`, { hint: 'Download it again.', cause: error }));
      else resolve(zip);
    });
  });
}

async function openZip(path: string): Promise<OpenedImage> {
  const zip = await openZipFile(path);
  const entries: yauzl.Entry[] = await new Promise((resolve, reject) => {
    const found: yauzl.Entry[] = [];
    zip.on('entry', (entry: yauzl.Entry) => {
      if (/\.img$/i.test(entry.fileName) && !entry.fileName.startsWith('__MACOSX/')) found.push(entry);
      zip.readEntry();
    });
    zip.on('end', () => resolve(found));
    zip.on('error', (error) => reject(new ImageSourceError(`${basename(path)} is corrupt: ${error.message}.`, { hint: 'Download it again.' })));
    zip.readEntry();
  });
  if (entries.length !== 1) {
    zip.close();
    throw new ImageSourceError(
      entries.length === 0 ? `${basename(path)} holds no .img file.` : `${basename(path)} holds ${entries.length} .img files (${entries.map((e) => e.fileName).join(', ')}); piswarm writes one.`,
      { hint: 'Unpack it and give the .img you want.' },
    );
  }
  const entry = entries[0]!;
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
    zip.close();
    throw new ImageSourceError(`${basename(path)} uses a compression method piswarm cannot read (${entry.compressionMethod}).`, { hint: 'Unpack it with unzip and give the .img.' });
  }
  const raw: Readable = await new Promise((resolve, reject) =>
    // yauzl inflates in 16 KiB steps; reading the raw data and inflating with 1 MiB chunks is ~3x faster.
    zip.openReadStream(entry, { decompress: false }, (error, stream) => (error || !stream ? reject(error) : resolve(stream))),
  );
  const inflated = entry.compressionMethod === 8 ? chainErrors(raw, createInflateRaw({ chunkSize: 1 << 20 }), path) : raw;
  const checked = inflated.pipe(crcCheck(entry.crc32, entry.uncompressedSize, path));
  inflated.on('error', (error) => checked.destroy(error));
  checked.on('close', () => zip.close());
  return { stream: checked, size: entry.uncompressedSize, sizeIsExact: true };
}

/** Zip entries carry a CRC-32 and a size; a mismatch means a corrupt archive. */
function crcCheck(expected: number, expectedSize: number, path: string): Transform {
  let crc = 0;
  let size = 0;
  return new Transform({
    readableHighWaterMark: CHUNK,
    transform(chunk: Buffer, _enc, done) {
      crc = crc32(chunk, crc);
      size += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      if (crc >>> 0 !== expected >>> 0 || size !== expectedSize) done(new ImageSourceError(`${basename(path)} is corrupt: the image inside fails its CRC check.`, { hint: 'Download it again.' }));
      else done();
    },
  });
}

/** Pipes a into b and turns a decompressor's error into one that names the file. */
function chainErrors(source: Readable, decompressor: Transform, path: string): Readable {
  source.on('error', (error) => decompressor.destroy(error));
  const wrap = (error: Error) => new ImageSourceError(`${basename(path)} is corrupt or truncated (${error.message}).`, { hint: 'Download it again.', cause: error });
  const out = source.pipe(decompressor);
  const relay = new PassThrough({ highWaterMark: CHUNK });
  out.on('error', (error) => relay.destroy(error instanceof PiswarmError ? error : wrap(error)));
  out.pipe(relay);
  return relay;
}

/** SHA-256 of a whole file, read in large chunks. */
export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Where downloaded images are kept, so several cards (or a retry) download once. */
export function imageCacheDir(): string {
  return process.env.PISWARM_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'piswarm', 'images');
}

/** Downloads a URL to the cache (streamed, never held in memory), reporting bytes as they arrive. */
export async function download(url: string, onProgress: (done: number, total?: number) => void, signal?: AbortSignal): Promise<string> {
  const dir = resolve(imageCacheDir());
  await mkdir(dir, { recursive: true });
  const target = join(dir, cacheFileName(url));
  // cacheFileName keeps every name in the folder; this says so where the write happens.
  if (dirname(target) !== dir) throw new ImageSourceError(`Refusing to cache ${url} outside ${dir}.`);
  const partial = `${target}.part`;
  let response: Response;
  try {
    response = await fetch(url, { signal });
  } catch (error) {
    throw new ImageSourceError(`Can't download ${url} (${(error as Error).message}).`, { hint: 'Check the address and your network.', cause: error });
  }
  if (!response.ok || !response.body) throw new ImageSourceError(`Can't download ${url}: HTTP ${response.status}.`, { hint: 'Check the address.' });
  const total = Number(response.headers.get('content-length')) || undefined;
  let done = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, next) {
      done += chunk.length;
      onProgress(done, total);
      next(null, chunk);
    },
  });
  try {
    await pipeline(response.body as unknown as Readable, counter, createWriteStream(partial), { signal });
  } catch (error) {
    await unlink(partial).catch(() => undefined);
    throw new ImageSourceError(`The download of ${url} failed (${(error as Error).message}).`, { cause: error });
  }
  if (total !== undefined && done !== total) {
    await unlink(partial).catch(() => undefined);
    throw new ImageSourceError(`The download of ${url} stopped after ${done} of ${total} bytes.`, { hint: 'Try again.' });
  }
  await rename(partial, target);
  return target;
}

/** Fetches a small text file (a checksum list); undefined when it is not there. */
export async function fetchText(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(15_000) });
    return response.ok ? await response.text() : undefined;
  } catch {
    return undefined;
  }
}

export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

