import { Listr, ListrLogger, ProcessOutput } from 'listr2';
import type { Io } from '../io.js';

export interface NodeProgressView {
  step(node: string, step: string): void;
  done(node: string, summary: string): void;
  failed(node: string, error: Error): void;
  /** Ends nodes that never reported, and waits until rendering is done. */
  close(): Promise<void>;
}

/**
 * Per-node progress on stderr: one listr2 task per node, side by side, on a terminal; a line per
 * finished node off one; JSON lines (`{"event": "step", "node": ...}`) with --json.
 */
export function createNodeProgress(io: Io, nodes: readonly string[]): NodeProgressView {
  if (io.json) {
    const emit = (event: Record<string, unknown>) => io.stderr.write(`${JSON.stringify(event)}\n`);
    return {
      step: (node, step) => emit({ event: 'step', node, step }),
      done: (node, summary) => emit({ event: 'done', node, summary }),
      failed: (node, error) => emit({ event: 'failed', node, error: error.message }),
      close: async () => undefined,
    };
  }
  if (!io.isTTY) {
    return {
      step: (node, step) => io.verbose && io.stderr.write(`· ${node}: ${step}\n`),
      done: (node, summary) => io.stderr.write(`✓ ${node}: ${summary}\n`),
      // Most messages name their node first already.
      failed: (node, error) => io.stderr.write(`✗ ${node}: ${error.message.startsWith(`${node}: `) ? error.message.slice(node.length + 2) : error.message}\n`),
      close: async () => undefined,
    };
  }
  const tasks = new Map<string, NodeTask>(nodes.map((node) => [node, { last: '' }]));
  const apply = (entry: NodeTask) => {
    if (!entry.render || !entry.outcome) return;
    if ('error' in entry.outcome) entry.render.reject(entry.outcome.error);
    else {
      entry.render.task.title = entry.outcome.title;
      entry.render.resolve();
    }
  };
  const settle = (node: string, outcome: NodeTask['outcome']) => {
    const entry = tasks.get(node);
    if (!entry || entry.outcome) return;
    entry.outcome = outcome;
    apply(entry);
  };
  const list = new Listr(
    nodes.map((node) => ({
      title: node,
      // Events may come before listr2 starts a node's task: the task picks up what happened so far.
      task: (_ctx: unknown, task: { output: string; title: string }) =>
        new Promise<void>((resolve, reject) => {
          const entry = tasks.get(node)!;
          entry.render = { task, resolve, reject };
          if (entry.last) task.output = entry.last;
          apply(entry);
        }),
      rendererOptions: { outputBar: 1, persistentOutput: false },
    })),
    {
      concurrent: true,
      exitOnError: false,
      renderer: 'default',
      fallbackRenderer: 'simple',
      rendererOptions: { collapseErrors: false, logger: new ListrLogger({ processOutput: new ProcessOutput(process.stderr, process.stderr) }) },
    },
  );
  // The errors themselves are reported by the command's summary; here they only mark the task.
  const rendering = list.run().then(
    () => undefined,
    () => undefined,
  );
  return {
    step(node, step) {
      const entry = tasks.get(node);
      if (!entry || entry.outcome) return;
      entry.last = step;
      if (entry.render) entry.render.task.output = step;
    },
    done: (node, summary) => settle(node, { title: `${node}: ${summary}` }),
    failed: (node, error) => settle(node, { error }),
    async close() {
      for (const node of nodes) settle(node, { title: node });
      await rendering;
    },
  };
}

interface NodeTask {
  last: string;
  outcome?: { title: string } | { error: Error };
  render?: { task: { output: string; title: string }; resolve: () => void; reject: (error: Error) => void };
}
