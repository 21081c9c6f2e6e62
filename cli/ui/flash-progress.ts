import { formatBytes } from '../core/drive-safety.js';
import type { Io } from '../io.js';
import type { FlashEvents } from '../services/flash/flash.js';
import { ListrPhases } from './listr-phases.js';

export interface FlashProgressView extends FlashEvents {
  /** Ends the running phase (failed when `error` is given) and waits until rendering is done. */
  close(error?: Error): Promise<void>;
}

/**
 * Shows flash progress on stderr: listr2 phases with bytes/s and ETA on a terminal, a line per
 * finished phase off one, and JSON lines (`{"event": ...}`) with --json, so scripts can follow.
 */
export function createFlashProgress(io: Io): FlashProgressView {
  const listr = io.isTTY && !io.json ? new ListrPhases() : undefined;
  const emit = (event: Record<string, unknown>) => io.stderr.write(`${JSON.stringify(event)}\n`);
  let phase: string | undefined;
  let started = 0;
  let lastShown = 0;
  let done = 0;

  const finish = () => {
    if (!phase) return;
    const seconds = (Date.now() - started) / 1000;
    const summary = `${phase}${done > 1 ? ` ${formatBytes(done)}` : ''} in ${seconds.toFixed(1)} s`;
    if (io.json) emit({ event: 'phase-done', phase, done, seconds });
    else if (listr) void listr.end(summary);
    else io.stderr.write(`✓ ${summary}\n`);
    phase = undefined;
  };

  const update = (name: string, bytes: number, total?: number) => {
    const now = Date.now();
    if (name !== phase) {
      finish();
      phase = name;
      started = now;
      lastShown = 0;
      listr?.start(name);
    }
    done = bytes;
    if (now - lastShown < (io.json ? 1000 : 200)) return;
    lastShown = now;
    const rate = bytes / Math.max((now - started) / 1000, 0.001);
    if (io.json) emit({ event: 'progress', phase: name, done: bytes, total, bytesPerSecond: Math.round(rate) });
    const eta = total && rate > 0 ? `, ETA ${Math.max(0, Math.round((total - bytes) / rate))} s` : '';
    listr?.detail(`${formatBytes(bytes)}${total ? ` of ${formatBytes(total)}` : ''}, ${formatBytes(rate)}/s${eta}`);
  };

  return {
    download: (bytes, total) => update('download', bytes, total),
    checksum(finished) {
      if (finished) finish();
      else update('checksum', 0);
    },
    card(hostname, target) {
      finish();
      if (io.json) emit({ event: 'card', hostname, target });
      else if (listr) {
        listr.start(`${hostname} → ${target}`);
        void listr.end();
      } else io.stderr.write(`Flashing ${hostname} onto ${target}\n`);
    },
    phase(name, bytes, total) {
      update(name, bytes, total);
      if (name === 'personalise' && bytes === 1) finish();
    },
    note(message) {
      if (io.json) emit({ event: 'note', message });
      else if (!listr) io.stderr.write(`· ${message}\n`);
      else listr.detail(message);
    },
    async close(error) {
      if (listr) await listr.end(undefined, error);
      else if (!error) finish();
      phase = undefined;
    },
  };
}
