import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package's own folder: images/, stacks/ and scripts/ live there, wherever piswarm runs from.
 * The nearest folder above this file with a package.json: dist/cli/ when built, cli/ when tests
 * import the sources.
 */
export const PACKAGE_ROOT = packageRootAbove(dirname(fileURLToPath(import.meta.url)));

function packageRootAbove(dir: string): string {
  for (let at = dir; ; at = dirname(at)) {
    if (existsSync(join(at, 'package.json'))) return at;
    if (dirname(at) === at) return join(dir, '..', '..');
  }
}

/** Where piswarm keeps what it generates for the user (XDG_CONFIG_HOME, else ~/.config). */
export function configDir(): string {
  return join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'piswarm');
}
