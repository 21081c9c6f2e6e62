import type { Context } from '../../context.js';
import { MAX_LAB_NODES } from '../../core/lab-plan.js';
import { printJson, printLines } from '../../io.js';
import { labStatus } from '../../services/lab/lab-status.js';
import { readCardBootConfig } from '../../services/lab/lab-cards.js';
import { labUp } from '../../services/lab/lab-up.js';
import { UsageError } from '../../errors.js';
import { parseIntegerFlag } from '../parse.js';
import { formatLabStatus } from './status.js';

export interface LabUpFlags {
  nodes: string;
  name: string;
  subnet: string;
  install: boolean;
  timeout: string;
  card?: string[];
  cpu?: string;
}

export async function labUpAction(context: Context, flags: LabUpFlags): Promise<number> {
  const bootConfigs = flags.card ? await Promise.all(flags.card.map(readCardBootConfig)) : undefined;
  const nodes = bootConfigs
    ? bootConfigs.length
    : parseIntegerFlag('--nodes', flags.nodes, 1, MAX_LAB_NODES, 'A home lab has a handful of Pis; 3 (one manager, two workers) is a good start.');
  const readyTimeoutMs = parseIntegerFlag('--timeout', flags.timeout, 1, 3600) * 1000;
  const cpu = flags.cpu === undefined ? undefined : parseCpuShare(flags.cpu);
  const started = Date.now();
  // The first Ctrl-C stops lab up cleanly; the listener is gone after it, so a second one kills.
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    await labUp(context.runner, context.reporter, {
      name: flags.name,
      nodes,
      subnet: flags.subnet,
      installPackages: flags.install,
      readyTimeoutMs,
      bootConfigs,
      cpu,
      signal: interrupt.signal,
    });
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
  const status = await labStatus({ name: flags.name });
  context.reporter.step(`Lab ${status.name} up with ${status.nodes.length} nodes in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (context.io.json) printJson(context.io, status);
  else printLines(context.io, formatLabStatus(status));
  return 0;
}

/** A share of one core, as `--cpu 0.25`: at least 1% (the kernel's quota needs 1 ms in 100), at most 4 cores. */
function parseCpuShare(text: string): number {
  const share = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || share < 0.01 || share > 4) throw new UsageError(`--cpu ${text} is not a share of a core between 0.01 and 4.`, 'Give a fraction like 0.25 (a Pi Zero) or 1 (one core of a Pi 4).');
  return share;
}
