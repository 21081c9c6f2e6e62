import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandRunner } from '../../adapters/process.js';
import { PiswarmError } from '../../errors.js';
import type { Reporter } from '../../io.js';

/** The programs the lab runs, and the Debian package that ships each. */
export const LAB_PROGRAMS: ReadonlyArray<{ program: string; pkg: string }> = [
  { program: 'dockerd', pkg: 'docker.io' },
  { program: 'sshd', pkg: 'openssh-server' },
  { program: 'ssh-keygen', pkg: 'openssh-client' },
  { program: 'iptables', pkg: 'iptables' },
  { program: 'docker-registry', pkg: 'docker-registry' },
  { program: 'qemu-aarch64-static', pkg: 'qemu-user-static' },
  { program: 'update-binfmts', pkg: 'binfmt-support' },
  { program: 'ip', pkg: 'iproute2' },
  { program: 'nsenter', pkg: 'util-linux' },
  { program: 'unshare', pkg: 'util-linux' },
  { program: 'useradd', pkg: 'passwd' },
  { program: 'sudo', pkg: 'sudo' },
];

const SEARCH_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export function assertRoot(action: string): void {
  if (process.getuid?.() !== 0) {
    throw new PiswarmError(`${action} needs root: it creates network namespaces, a bridge and daemons.`, {
      hint: 'Run it again with sudo.',
    });
  }
}

export async function missingPackages(searchPath: readonly string[] = SEARCH_PATH): Promise<string[]> {
  const missing = new Set<string>();
  for (const { program, pkg } of LAB_PROGRAMS) {
    if (!(await onPath(program, searchPath))) missing.add(pkg);
  }
  return [...missing];
}

async function onPath(program: string, searchPath: readonly string[]): Promise<boolean> {
  for (const dir of searchPath) {
    try {
      await access(join(dir, program), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** Installs what is missing with apt-get, or explains exactly what to install by hand. */
export async function ensurePackages(
  runner: CommandRunner,
  reporter: Reporter,
  allowInstall: boolean,
  searchPath: readonly string[] = SEARCH_PATH,
): Promise<void> {
  const missing = await missingPackages(searchPath);
  if (missing.length === 0) return;
  const byHand = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (!allowInstall) {
    throw new PiswarmError(`The lab needs packages that are not installed: ${missing.join(', ')}.`, {
      hint: `Install them with \`${byHand}\`, or drop --no-install.`,
    });
  }
  reporter.step(`Installing ${missing.join(', ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await runner.run('apt-get', ['update', '-qq'], { env });
    await runner.run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
  } catch (error) {
    throw new PiswarmError(`Could not install ${missing.join(', ')}: ${(error as Error).message}`, {
      hint: `Install them by hand (\`${byHand}\`) and run lab up again.`,
      cause: error,
    });
  }
  const still = await missingPackages(searchPath);
  if (still.length > 0) {
    throw new PiswarmError(`apt-get ran, but ${still.join(', ')} still provide no program.`, { hint: `Check \`${byHand}\`.` });
  }
  reporter.step(`Packages installed: ${missing.join(', ')}`);
}
