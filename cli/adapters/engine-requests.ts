import { EngineError } from '../core/swarm-api.js';

/** How the adapter makes its Engine API requests: each one cut off in time, streams followed and stopped. */

/**
 * A request given up after `timeoutMs` without an answer. Its timer is cleared when the answer
 * comes, rather than leaving a two-minute timer behind every request.
 */
export async function callWithin<T>(timeoutMs: number, request: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException('timed out', 'TimeoutError')), timeoutMs);
  try {
    return await call(request, controller.signal, timeoutMs);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs a dockerode call, cut off when `signal` aborts; the engine's refusal becomes an
 * EngineError with its own message, and so does its silence past `timeoutMs` (a timeout signal).
 */
export async function call<T>(request: (abortSignal: AbortSignal) => Promise<T>, signal: AbortSignal, timeoutMs?: number): Promise<T> {
  try {
    return await request(signal);
  } catch (error) {
    const e = error as { statusCode?: number; json?: { message?: string } | null; reason?: string; message: string };
    if (e.statusCode) throw new EngineError(e.statusCode, e.json?.message ?? e.reason ?? e.message);
    if ((signal.reason as Error | undefined)?.name === 'TimeoutError') throw new EngineError(504, `the engine did not answer within ${(timeoutMs ?? 0) / 1000} s`);
    throw error;
  }
}

export type Stream = NodeJS.ReadableStream & { destroy(): void };

/**
 * A streaming request (events, followed logs), cut short when `signal` aborts: the engine sends
 * its headers with the first event or log line, so on a quiet swarm the request stays open until
 * then. No time limit: it lasts as long as the caller follows. Undefined when aborted.
 */
export async function openStream<T>(request: (abortSignal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  try {
    return await call(request, signal);
  } catch (error) {
    if (signal.aborted) return undefined;
    throw error;
  }
}

/**
 * Hands a response's chunks over until it ends or `signal` aborts. An abort closes the SSH
 * channel and returns at once: the node confirms the close in its own time, and nothing here
 * may wait on that (a node that never does would hold the command open).
 */
export function follow(stream: Stream, signal: AbortSignal, onData: (chunk: Buffer) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => {
      stream.destroy();
      resolve();
    };
    if (signal.aborted) return stop();
    signal.addEventListener('abort', stop, { once: true });
    const end = () => {
      signal.removeEventListener('abort', stop);
      resolve();
    };
    stream.on('data', onData);
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', end);
  });
}

/**
 * Docker's multiplexed log stream (no TTY): frames of an 8-byte header (stream, 0, 0, 0, length)
 * and a payload, stdout and stderr interleaved; payloads split into lines.
 */
export class FrameSplitter {
  private pending = Buffer.alloc(0);
  private text = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer, last: boolean): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      this.text += this.pending.subarray(8, 8 + size).toString('utf8');
      this.pending = this.pending.subarray(8 + size);
    }
    const lines = this.text.split('\n');
    this.text = lines.pop()!;
    for (const line of lines) this.onLine(line);
    if (last && this.text) {
      this.onLine(this.text);
      this.text = '';
    }
  }
}

