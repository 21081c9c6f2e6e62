import type { Io } from '../io.js';
import type { FlashEvents } from '../services/flash/flash.js';
import type { FlashPhase } from '../services/flash/flash-card.js';
import { formatBytes } from '../core/drive-safety.js';

/**
 * Shows flash progress on stderr: one live line with bytes/s and ETA on a terminal, a line per
 * finished phase off one, and JSON lines (`{"event": ...}`) with --json, so scripts can follow.
 */
export function createFlashProgress(io: Io): FlashEvents {
  let phase: string | undefined;
  let phaseStart = 0;
  let lastDraw = 0;
  let lastDone = 0;
  const emit = (event: Record<string, unknown>) => io.stderr.write(`${JSON.stringify(event)}\n`);
  const line = (text: string) => io.stderr.write(io.isTTY ? `\r\u001b[K${text}` : `${text}\n`);

  const update = (name: string, done: number, total?: number, force = false) => {
    const now = Date.now();
    if (name !== phase) {
      if (phase) finish();
      phase = name;
      phaseStart = now;
      lastDraw = 0;
    }
    lastDone = done;
    if (!force && now - lastDraw < (io.isTTY ? 200 : 1000)) return;
    lastDraw = now;
    const seconds = (now - phaseStart) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    if (io.json) return emit({ event: 'progress', phase: name, done, total, bytesPerSecond: Math.round(rate) });
    if (!io.isTTY) return;
    const eta = total && rate > 0 ? ` ETA ${Math.max(0, Math.round((total - done) / rate))} s` : '';
    line(`${name.padEnd(11)} ${formatBytes(done)}${total ? ` / ${formatBytes(total)}` : ''}  ${formatBytes(rate)}/s${eta}`);
  };
  const finish = () => {
    const seconds = ((Date.now() - phaseStart) / 1000).toFixed(1);
    if (io.json) emit({ event: 'phase-done', phase, done: lastDone, seconds: Number(seconds) });
    else line(`✓ ${phase} done${lastDone > 1 ? ` (${formatBytes(lastDone)})` : ''} in ${seconds} s${io.isTTY ? '\n' : ''}`);
    phase = undefined;
  };

  return {
    download: (done, total) => update('download', done, total),
    checksum(done) {
      if (!done) update('checksum', 0, undefined, true);
      else finish();
    },
    card(hostname, target) {
      if (phase) finish();
      if (io.json) emit({ event: 'card', hostname, target });
      else io.stderr.write(`Flashing ${hostname} onto ${target}\n`);
    },
    phase(name: FlashPhase, done, total) {
      update(name, done, total, done === total);
      if (name === 'personalise' && done === 1) finish();
    },
    note(message) {
      if (io.json) emit({ event: 'note', message });
      else io.stderr.write(`${io.isTTY ? '\r\u001b[K' : ''}· ${message}\n`);
    },
  };
}
