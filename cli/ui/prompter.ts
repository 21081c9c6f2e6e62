import { confirm, input, password } from '@inquirer/prompts';
import { CancelledError } from '../errors.js';
import type { Io } from '../io.js';

/** Questions to the user: answered by --yes, asked on a terminal, declined without one. */
export interface Prompter {
  confirm(question: string): Promise<boolean>;
  waitForEnter(message: string): Promise<void>;
  secret(message: string): Promise<string>;
}

export function createPrompter(io: Io): Prompter {
  const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY);
  const output = { output: io.stderr };
  return {
    // Without a terminal or --yes the answer is no; the caller says what was not done and how to proceed.
    async confirm(question) {
      if (io.yes) return true;
      if (!interactive) return false;
      return confirm({ message: question, default: false }, output);
    },
    async waitForEnter(message) {
      if (!interactive) throw new CancelledError(`${message} — piswarm needs a terminal to wait for you.`, 'Flash one card per run, or give one --device or --output per hostname.');
      await input({ message: `${message} Press Enter when ready.` }, output);
    },
    async secret(message) {
      if (!interactive) throw new CancelledError(`${message} — there is no terminal to type it in.`, 'Pipe it on standard input instead.');
      return password({ message, mask: '*' }, output);
    },
  };
}
