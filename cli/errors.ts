/**
 * Typed errors. Every error piswarm raises on purpose says what went wrong and carries a hint
 * (the next step for the user). Exit codes are decided here and only here.
 */
export const ExitCode = {
  ok: 0,
  failed: 1,
  cancelled: 2,
  partial: 3,
  /** doctor found warnings, and no failures. */
  warnings: 4,
  usage: 64,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class PiswarmError extends Error {
  readonly hint?: string;
  readonly exitCode: ExitCode;

  constructor(message: string, options: { hint?: string; exitCode?: ExitCode; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.failed;
  }
}

/** The command line itself is wrong (bad flag value, missing argument). */
export class UsageError extends PiswarmError {
  constructor(message: string, hint?: string) {
    super(message, { hint, exitCode: ExitCode.usage });
  }
}

/** The user said no, pressed Ctrl-C, or a confirmation was needed without a terminal or --yes. */
export class CancelledError extends PiswarmError {
  constructor(message: string, hint?: string) {
    super(message, { hint, exitCode: ExitCode.cancelled });
  }
}

export interface FileProblem {
  line?: number;
  field: string;
  message: string;
}

/** Problems in a file the user wrote, each pointing at the file, line and field. */
export class FileProblemsError extends PiswarmError {
  constructor(
    readonly file: string,
    readonly problems: readonly FileProblem[],
    hint = `Fix ${file} and run the command again.`,
  ) {
    super(
      problems.length === 1
        ? `${formatProblem(file, problems[0]!)}`
        : `${file} has ${problems.length} problems:\n${problems.map((p) => `  ${formatProblem(file, p)}`).join('\n')}`,
      { hint },
    );
  }
}

/** A problem with the inventory file. */
export class InventoryError extends FileProblemsError {}

/** A compose file that cannot be deployed; found before anything is sent to the swarm. */
export class ComposeError extends FileProblemsError {}

function formatProblem(file: string, p: FileProblem): string {
  return `${file}${p.line ? `:${p.line}` : ''}: ${p.field ? `${p.field}: ` : ''}${p.message}`;
}

/** The SSH host key a node presents differs from the one pinned in the inventory. */
export class HostKeyMismatchError extends PiswarmError {
  constructor(
    readonly node: string,
    readonly pinned: string,
    readonly presented: string,
  ) {
    super(
      `The SSH host key of ${node} has changed: pinned ${pinned}, presented ${presented}. ` +
        `Nothing was sent to it.`,
      {
        hint:
          `If ${node} was re-flashed or its keys regenerated on purpose, run again with --accept-new-host-key; ` +
          `otherwise someone may be intercepting the connection.`,
      },
    );
  }
}

/** How far a multi-step command got when a connection was lost. */
export interface LossProgress {
  /** Steps complete before the loss (empty: nothing was changed yet). */
  done: readonly string[];
  /** The command's own step that was under way, when it is more telling than the request that failed. */
  running?: string;
  /** The command that finishes the job. */
  finish?: string;
}

/**
 * The SSH connection to a node went away (closed by the node, or no answer to keepalives) while
 * a step ran on it. The step may or may not have finished there: the message says which step it
 * was and, once the caller adds it, what had been done already and how to finish.
 */
export class ConnectionLostError extends PiswarmError {
  constructor(
    readonly node: string,
    readonly reason: string,
    readonly step?: string,
    readonly progress?: LossProgress,
  ) {
    const during = step ? ` while trying to ${step}` : '';
    const running = progress?.running ? `, during: ${progress.running}` : '';
    const done = progress === undefined ? '' : progress.done.length > 0 ? ` Already done: ${progress.done.join('; ')}.` : ' Nothing had been changed yet.';
    super(`${node}: the SSH connection was lost${during} (${reason})${running}.${done}`, {
      hint: `${step || progress?.running ? 'That step may or may not have finished. ' : ''}Once ${node} answers again (powered on? cable in?), ${progress?.finish ? `finish with: ${progress.finish}` : 'run the command again: what is done already is not done twice.'}`,
      exitCode: ExitCode.partial,
    });
  }

  /** The same loss, naming the request that was running. */
  during(step: string): ConnectionLostError {
    return new ConnectionLostError(this.node, this.reason, this.step ?? step, this.progress);
  }

  /** The same loss, saying how far the command had got. */
  after(progress: LossProgress): ConnectionLostError {
    return new ConnectionLostError(this.node, this.reason, this.step, progress);
  }
}

export interface ErrorReport {
  message: string;
  hint?: string;
  exitCode: ExitCode;
  stack?: string;
}

/** Maps anything thrown to what the user sees and the process exit code. */
export function describeError(error: unknown, verbose: boolean): ErrorReport {
  if (error instanceof PiswarmError) {
    return {
      message: error.message,
      hint: error.hint,
      exitCode: error.exitCode,
      stack: verbose ? error.stack : undefined,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    message: `Unexpected error: ${message}`,
    hint: verbose ? undefined : 'Run again with --verbose for details, and report it if it persists.',
    exitCode: ExitCode.failed,
    stack: verbose && error instanceof Error ? error.stack : undefined,
  };
}
