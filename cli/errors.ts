/**
 * Typed errors. Every error piswarm raises on purpose says what went wrong and carries a hint
 * (the next step for the user). Exit codes are decided here and only here.
 */
export const ExitCode = {
  ok: 0,
  failed: 1,
  cancelled: 2,
  partial: 3,
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

/**
 * The SSH connection to a node went away (closed by the node, or no answer to keepalives) while
 * a step ran on it. The step may or may not have finished there: the message says which step it
 * was and, once the caller adds it, what had been done already; the fix is always to run again.
 */
export class ConnectionLostError extends PiswarmError {
  constructor(
    readonly node: string,
    readonly reason: string,
    readonly step?: string,
    readonly done?: readonly string[],
  ) {
    const during = step ? ` while trying to ${step}` : '';
    const progress = done === undefined ? '' : done.length > 0 ? ` Already done on ${node}: ${done.join(', ')}.` : ` Nothing had been changed on ${node} yet.`;
    super(`${node}: the SSH connection was lost${during} (${reason}).${progress}`, {
      hint: `${step ? 'That step may or may not have finished. ' : ''}Once ${node} answers again (powered on? cable in?), run the command again: what is done already is not done twice.`,
      exitCode: ExitCode.partial,
    });
  }

  /** The same loss, naming the step that was running. */
  during(step: string): ConnectionLostError {
    return new ConnectionLostError(this.node, this.reason, this.step ?? step, this.done);
  }

  /** The same loss, saying what was done on the node before it. */
  after(done: readonly string[]): ConnectionLostError {
    return new ConnectionLostError(this.node, this.reason, this.step, done);
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
