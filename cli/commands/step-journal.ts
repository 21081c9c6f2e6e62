import { shq } from '../core/shell-quote.js';
import { ConnectionLostError } from '../errors.js';

/**
 * The steps a multi-step command announced, so that a connection lost half-way is reported with
 * what was done, what was under way and the command that finishes the job.
 */
export class StepJournal {
  private readonly steps: string[] = [];

  /** A step about to be taken (the one before it is complete). */
  note(step: string): void {
    this.steps.push(step);
  }

  /** Runs `work`; a lost connection is rethrown with the journal's account (unless it has one) and `finish`. */
  async guard<T>(finish: readonly string[], work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof ConnectionLostError)) throw error;
      // A service that kept its own account of the work (teardown) knows better than the steps announced.
      const account = error.progress ?? { done: this.steps.slice(0, -1), running: this.steps.at(-1) };
      throw error.after({ ...account, finish: commandLine(finish) });
    }
  }
}

/** A command's words as a user would type them again (each quoted when the shell needs it). */
export function commandLine(words: readonly string[]): string {
  return ['piswarm', ...words].map(shq).join(' ');
}
