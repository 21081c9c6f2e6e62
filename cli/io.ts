import type { Writable } from 'node:stream';

/**
 * Where output goes. stdout carries results only (so `--json | jq` works); progress, warnings
 * and prompts go to stderr. Off a TTY, or with --json, no colour and no progress animation.
 */
export interface Io {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly isTTY: boolean;
  readonly json: boolean;
  readonly verbose: boolean;
  readonly yes: boolean;
}

/** How services tell the user what is happening, without knowing about terminals. */
export interface Reporter {
  /** A finished step, phrased "noun + past participle" ("Bridge pilab0 created"). */
  step(message: string): void;
  warn(message: string): void;
  /** Only shown with --verbose. */
  debug(message: string): void;
}

export function createIo(options: { json: boolean; verbose: boolean; yes: boolean }): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    isTTY: Boolean(process.stdout.isTTY && process.stderr.isTTY),
    ...options,
  };
}

export function createReporter(io: Io): Reporter {
  const colour = io.isTTY && !io.json && !process.env.NO_COLOR;
  const paint = (code: string, text: string) => (colour ? `\u001b[${code}m${text}\u001b[0m` : text);
  return {
    step(message) {
      if (!io.json) io.stderr.write(`${paint('32', '✓')} ${message}\n`);
    },
    warn(message) {
      io.stderr.write(`${paint('33', '!')} ${message}\n`);
    },
    debug(message) {
      if (io.verbose) io.stderr.write(`${paint('2', `· ${message}`)}\n`);
    },
  };
}

export function printJson(io: Io, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLines(io: Io, text: string): void {
  io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}
