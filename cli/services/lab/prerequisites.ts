import { join } from 'node:path';
import { CommandFailedError, type CommandRunner } from '../../adapters/process.js';
import { PiswarmError } from '../../errors.js';
import type { Reporter } from '../../io.js';
import { PACKAGE_ROOT } from '../../paths.js';

/**
 * The project's one installer and its list (scripts/system-packages.txt): the lab checks and
 * installs the list's `lab` part through the same script the demo, tests and benchmarks use.
 */
export const PACKAGE_INSTALLER = join(PACKAGE_ROOT, 'scripts', 'install-packages.sh');

export function assertRoot(action: string): void {
  if (process.getuid?.() !== 0) {
    throw new PiswarmError(`${action} needs root: it creates network namespaces, a bridge and daemons.`, {
      hint: 'Run it again with sudo.',
    });
  }
}

/** The packages of the named parts of the list that are not installed. */
export async function missingPackages(runner: CommandRunner, parts: readonly string[]): Promise<string[]> {
  const result = await runner.run('bash', [PACKAGE_INSTALLER, '--check', ...parts], { allowFailure: true });
  if (result.code > 1) throw new CommandFailedError(`bash ${PACKAGE_INSTALLER} --check ${parts.join(' ')}`, result);
  return result.stdout.split('\n').filter((line) => line.trim() !== '');
}

/** Installs what the named parts lack with the project's installer, or explains what to install by hand. */
export async function ensurePackages(
  runner: CommandRunner,
  reporter: Reporter,
  allowInstall: boolean,
  parts: readonly string[] = ['lab'],
): Promise<void> {
  const missing = await missingPackages(runner, parts);
  if (missing.length === 0) return;
  const byHand = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (!allowInstall) {
    throw new PiswarmError(`The lab needs Debian packages that are not installed: ${missing.join(', ')}.`, {
      hint: `Install them with \`${byHand}\`, or drop --no-install.`,
    });
  }
  reporter.step(`Installing ${missing.join(', ')} with apt-get`);
  try {
    await runner.run('bash', [PACKAGE_INSTALLER, ...parts]);
  } catch (error) {
    throw new PiswarmError(`Could not install ${missing.join(', ')}: ${(error as Error).message}`, {
      hint: `Install them by hand (\`${byHand}\`) and run lab up again.`,
      cause: error,
    });
  }
  reporter.step(`Packages installed: ${missing.join(', ')}`);
}
