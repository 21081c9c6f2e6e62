import { formatBytes } from '../core/drive-safety.js';
import type { Io } from '../io.js';
import type { FlashEvents } from '../services/flash/flash.js';
import type { FlashProgress } from '../services/flash/flash-card.js';
import { ListrPhases } from './listr-phases.js';

export interface FlashProgressView extends FlashEvents {
  /** Ends the running phase (failed when `error` is given) and waits until rendering is done. */
  close(error?: Error): Promise<void>;
}

/** How one stream of phases (the image's, or one card's) is shown. */
interface PhaseSink {
  start(phase: string): void;
  detail(phase: string, bytes: number, total: number | undefined, rate: number): void;
  done(phase: string, bytes: number, seconds: number): void;
  note(message: string): void;
}

/**
 * Shows flash progress on stderr: listr2 phases with bytes/s and ETA on a terminal, a line per
 * finished phase off one, and JSON lines (`{"event": ...}`) with --json, so scripts can follow.
 * With `lanes` readers at once, each card gets a live line of its own on a terminal.
 */
export function createFlashProgress(io: Io, lanes = 1): FlashProgressView {
  const listr = io.isTTY && !io.json ? new ListrPhases() : undefined;
  const board = io.isTTY && !io.json && lanes > 1 ? new CardBoard(io.stderr) : undefined;
  const emit = (event: Record<string, unknown>) => io.stderr.write(`${JSON.stringify(event)}\n`);
  const summary = (phase: string, bytes: number, seconds: number) => `${phase}${bytes > 1 ? ` ${formatBytes(bytes)}` : ''} in ${seconds.toFixed(1)} s`;

  const sink = (hostname?: string): PhaseSink => {
    const who = hostname ? { hostname } : {};
    const prefix = hostname && lanes > 1 ? `${hostname}: ` : '';
    if (io.json) {
      return {
        start: () => undefined,
        detail: (phase, done, total, rate) => emit({ event: 'progress', phase, done, total, bytesPerSecond: Math.round(rate), ...who }),
        done: (phase, done, seconds) => emit({ event: 'phase-done', phase, done, seconds, ...who }),
        note: (message) => emit({ event: 'note', message, ...who }),
      };
    }
    if (board && hostname) {
      return {
        start: (phase) => board.set(hostname, phase),
        detail: (phase, done, total, rate) => board.set(hostname, `${phase} ${describeRate(done, total, rate)}`),
        done: (phase, done, seconds) => board.set(hostname, `✓ ${summary(phase, done, seconds)}`),
        note: (message) => board.set(hostname, message),
      };
    }
    if (listr) {
      return {
        start: (phase) => listr.start(`${prefix}${phase}`),
        detail: (_phase, done, total, rate) => listr.detail(describeRate(done, total, rate)),
        done: (phase, done, seconds) => void listr.end(`${prefix}${summary(phase, done, seconds)}`),
        note: (message) => listr.detail(message),
      };
    }
    return {
      start: () => undefined,
      detail: () => undefined,
      done: (phase, done, seconds) => io.stderr.write(`✓ ${prefix}${summary(phase, done, seconds)}\n`),
      note: (message) => io.stderr.write(`· ${prefix}${message}\n`),
    };
  };

  const image = phases(sink(), io.json ? 1000 : 200);
  const open: Array<ReturnType<typeof phases>> = [image];
  return {
    download: (bytes, total) => image.update('download', bytes, total),
    checksum(finished) {
      if (finished) image.finish();
      else image.update('checksum', 0);
    },
    card(hostname, target): FlashProgress {
      image.finish();
      if (io.json) emit({ event: 'card', hostname, target });
      else if (board) board.add(hostname, `${hostname} → ${target}`);
      else if (listr) {
        listr.start(`${hostname} → ${target}`);
        void listr.end();
      } else io.stderr.write(`Flashing ${hostname} onto ${target}\n`);
      const card = phases(sink(hostname), io.json ? 1000 : 200);
      open.push(card);
      return {
        phase(name, bytes, total) {
          card.update(name, bytes, total);
          if (name === 'personalise' && bytes === 1) card.finish();
        },
        note: (message) => card.note(message),
      };
    },
    async close(error) {
      board?.close();
      if (listr) await listr.end(undefined, error);
      else if (!error) for (const stream of open) stream.finish();
    },
  };
}

/** One stream of phases: times each, throttles its updates, reports when the next one starts. */
function phases(sink: PhaseSink, everyMs: number) {
  let phase: string | undefined;
  let started = 0;
  let lastShown = 0;
  let done = 0;
  const finish = () => {
    if (!phase) return;
    sink.done(phase, done, (Date.now() - started) / 1000);
    phase = undefined;
  };
  return {
    finish,
    note: (message: string) => sink.note(message),
    update(name: string, bytes: number, total?: number) {
      const now = Date.now();
      if (name !== phase) {
        finish();
        phase = name;
        started = now;
        lastShown = 0;
        sink.start(name);
      }
      done = bytes;
      if (now - lastShown < everyMs) return;
      lastShown = now;
      sink.detail(name, bytes, total, bytes / Math.max((now - started) / 1000, 0.001));
    },
  };
}

function describeRate(bytes: number, total: number | undefined, rate: number): string {
  const eta = total && rate > 0 ? `, ETA ${Math.max(0, Math.round((total - bytes) / rate))} s` : '';
  return `${formatBytes(bytes)}${total ? ` of ${formatBytes(total)}` : ''}, ${formatBytes(rate)}/s${eta}`;
}

/** A live line per card on a terminal, redrawn in place (at most 5 times a second). */
class CardBoard {
  private readonly lines = new Map<string, { title: string; status: string }>();
  private drawn = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly out: NodeJS.WritableStream) {}

  add(hostname: string, title: string): void {
    this.lines.set(hostname, { title, status: 'starting' });
    this.draw();
  }

  set(hostname: string, status: string): void {
    const line = this.lines.get(hostname);
    if (!line) return;
    line.status = status;
    this.timer ??= setTimeout(() => this.draw(), 200);
  }

  close(): void {
    this.draw();
  }

  private draw(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const text = [...this.lines.values()].map((l) => `\x1b[2K${l.title}  ${l.status}\n`).join('');
    this.out.write(`${this.drawn > 0 ? `\x1b[${this.drawn}A` : ''}${text}`);
    this.drawn = this.lines.size;
  }
}
