import type { Convergence } from '../core/convergence.js';
import type { Io } from '../io.js';

/** A progress listener printing "service stable/desired" whenever it changes (a JSON line with --json). */
export function convergenceProgress(io: Io, label: string): (state: Convergence) => void {
  let shown = '';
  return (state) => {
    const line = state.services.map((s) => `${s.name} ${s.stable}/${s.desired}`).join(', ');
    if (line === shown) return;
    shown = line;
    if (io.json) io.stderr.write(`${JSON.stringify({ event: 'progress', services: state.services })}\n`);
    else io.stderr.write(`· ${label}: ${line}\n`);
  };
}
