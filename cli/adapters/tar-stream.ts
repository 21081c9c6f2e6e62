import { spawn } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PiswarmError } from '../errors.js';

/**
 * A directory as a tar stream, the same bytes for the same tree (names sorted, owner root, no
 * times but the files'): the layer of a base, or a build context. GNU tar does the walking.
 */
export function tarDirectory(dir: string): Readable {
  const child = spawn('tar', ['--numeric-owner', '--owner=0', '--group=0', '--sort=name', '-C', dir, '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
  // The stream ends only once tar says it read everything: a tar that fails half-way must not look like a short, good layer.
  const out = new PassThrough();
  child.stdout.pipe(out, { end: false });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.on('close', (code) => (code === 0 ? out.end() : out.destroy(new PiswarmError(`tar could not read ${dir} (exit ${code}): ${stderr.trim()}`))));
  child.on('error', (error) => out.destroy(error));
  return out;
}

/** Unpacks a tar stream (an image the engine saved) into `dir`, streamed: nothing held in memory. */
export async function extractTar(stream: Readable, dir: string): Promise<void> {
  const child = spawn('tar', ['--no-same-owner', '-x', '-C', dir], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
  await pipeline(stream, child.stdin);
  const code = await exited;
  if (code !== 0) throw new PiswarmError(`tar could not unpack into ${dir} (exit ${code}): ${stderr.trim()}`);
}
