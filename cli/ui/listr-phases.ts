import { Listr, ListrLogger, ProcessOutput, type DefaultRenderer, type ListrTaskWrapper, type SimpleRenderer } from 'listr2';

/**
 * Shows sequential phases as listr2 tasks on stderr (stdout stays for results): a spinner with a
 * live detail line while a phase runs, a tick and a summary when it ends. One Listr at a time:
 * the next phase starts only after the previous one has finished rendering.
 */
export class ListrPhases {
  private chain: Promise<void> = Promise.resolve();
  private current?: Phase;

  start(title: string): void {
    // The phase exists at once, so end() always finishes this one, however far rendering is behind.
    let finish!: Phase['finish'];
    const done = new Promise<string | undefined>((resolve, reject) => {
      finish = (final, error) => (error ? reject(error) : resolve(final));
    });
    done.catch(() => undefined);
    const phase: Phase = { finish, done, detail: '' };
    this.current = phase;
    this.chain = this.chain.then(() => this.render(title, phase));
  }

  /** Updates the running phase's detail line (bytes, rate, ETA). */
  detail(text: string): void {
    if (!this.current) return;
    this.current.detail = text;
    if (this.current.task) this.current.task.output = text;
  }

  end(title?: string, error?: Error): Promise<void> {
    this.current?.finish(title, error);
    this.current = undefined;
    return this.chain;
  }

  private render(title: string, phase: Phase): Promise<void> {
    const list = new Listr(
      [
        {
          title,
          task: async (_ctx, task) => {
            phase.task = task;
            if (phase.detail) task.output = phase.detail;
            const final = await phase.done;
            if (final) task.title = final;
          },
          rendererOptions: { outputBar: 1, persistentOutput: false },
        },
      ],
      {
        renderer: 'default',
        fallbackRenderer: 'simple',
        exitOnError: true,
        rendererOptions: { collapseErrors: false, logger: new ListrLogger({ processOutput: new ProcessOutput(process.stderr, process.stderr) }) },
      },
    );
    // The error itself is reported once, by the command; here it only marks the task as failed.
    return list.run().then(
      () => undefined,
      () => undefined,
    );
  }
}

interface Phase {
  task?: ListrTaskWrapper<unknown, typeof DefaultRenderer, typeof SimpleRenderer>;
  finish: (title?: string, error?: Error) => void;
  done: Promise<string | undefined>;
  detail: string;
}
