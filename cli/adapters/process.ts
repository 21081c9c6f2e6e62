import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { PiswarmError } from '../errors.js';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  /** Return the result instead of throwing when the command exits non-zero. */
  allowFailure?: boolean;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Runs local programs. The lab's only way to touch the host, so tests can see every command. */
export interface CommandRunner {
  run(command: string, args: readonly string[], options?: RunOptions): Promise<CommandResult>;
  /** Starts a long-lived process detached from piswarm, output appended to logFile; returns its pid. */
  spawnDetached(command: string, args: readonly string[], logFile: string): number;
  /** Runs with this process's stdin/stdout/stderr; resolves to the exit code. */
  runAttached(command: string, args: readonly string[]): Promise<number>;
}

export class CommandFailedError extends PiswarmError {
  constructor(
    readonly command: string,
    readonly result: CommandResult,
  ) {
    const detail = (result.stderr || result.stdout).trim().split('\n').slice(-3).join(' / ');
    super(`\`${command}\` failed (exit ${result.code})${detail ? `: ${detail}` : ''}`);
  }
}

export const localRunner: CommandRunner = {
  run(command, args, options = {}) {
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, {
        stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        env: options.env ?? process.env,
        timeout: options.timeoutMs,
      });
      let stdout = '';
      let stderr = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') {
          reject(new PiswarmError(`\`${command}\` is not installed.`, { cause: error }));
        } else reject(error);
      });
      child.on('close', (code, signal) => {
        const result = { code: code ?? (signal ? 128 : 1), stdout, stderr };
        const line = [command, ...args].join(' ');
        if (result.code !== 0 && !options.allowFailure) reject(new CommandFailedError(line, result));
        else resolve(result);
      });
      if (child.stdin) {
        // A program may exit without reading its input; that is its answer, not our error.
        child.stdin.on('error', () => undefined);
        child.stdin.end(options.input);
      }
    });
  },
  runAttached(command, args) {
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, { stdio: 'inherit' });
      child.on('error', reject);
      child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
  },
  spawnDetached(command, args, logFile) {
    const log = openSync(logFile, 'a');
    try {
      const child = spawn(command, args, { detached: true, stdio: ['ignore', log, log] });
      child.unref();
      if (child.pid === undefined) throw new PiswarmError(`Could not start ${command}.`);
      return child.pid;
    } finally {
      closeSync(log);
    }
  },
};

/** True while the process runs. A zombie counts as gone: some inits (in VMs) reap late. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // Field 3 of /proc/PID/stat is the state; the command name before it may contain spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
