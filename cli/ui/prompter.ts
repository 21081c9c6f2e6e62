import { confirm, input, password } from '@inquirer/prompts';
import { CancelledError } from '../errors.js';
import type { Io } from '../io.js';

/** Questions to the user: answered by --yes, asked on a terminal, refused without one. */
export interface Prompter {
  confirm(question: string): Promise<boolean>;
  waitForEnter(message: string): Promise<void>;
  secret(message: string): Promise<string>;
}

export function createPrompter(io: Io): Prompter {
  const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY);
  const refuse = (question: string): never => {
    throw new CancelledError(`${question} — this needs an answer, and there is no terminal to ask.`, 'Add --yes to go ahead without asking.');
  };
  const output = { output: io.stderr };
  return {
    async confirm(question) {
      if (io.yes) return true;
      if (!interactive) refuse(question);
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
