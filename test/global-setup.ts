import { execFileSync } from 'node:child_process';

/**
 * Builds the CLI once (end-to-end tests run `dist/cli/main.js` as a user runs `piswarm`) and
 * installs the lab's Debian packages with the same code `lab up` uses, so every test finds them.
 */
export default async function setup(): Promise<void> {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
  const { ensurePackages } = await import('../dist/cli/services/lab/prerequisites.js');
  const { localRunner } = await import('../dist/cli/adapters/process.js');
  const quiet = { step: () => undefined, warn: (m: string) => console.warn(m), debug: () => undefined };
  await ensurePackages(localRunner, quiet, true);
}
