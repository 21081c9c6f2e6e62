import { execFileSync } from 'node:child_process';

/**
 * Builds the CLI once (end-to-end tests run `dist/cli/main.js` as a user runs `piswarm`) and
 * checks that the Debian packages the tests need are installed (`npm test` installs them first,
 * through the same installer as `lab up`). A missing one stops the run, named, instead of failing
 * tests one by one with ENOENT.
 */
export default async function setup(): Promise<void> {
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  const { missingPackages, PACKAGE_INSTALLER } = await import('../dist/cli/services/lab/prerequisites.js');
  const { localRunner } = await import('../dist/cli/adapters/process.js');
  const missing = await missingPackages(localRunner, TEST_PARTS);
  if (missing.length > 0) {
    throw new Error(
      `The tests need Debian packages that are not installed: ${missing.join(', ')}. ` +
        `Install them with \`bash ${PACKAGE_INSTALLER} ${TEST_PARTS.join(' ')}\` (npm test does it).`,
    );
  }
}

/** The parts of scripts/system-packages.txt the tests use. */
const TEST_PARTS = ['lab', 'demo', 'test'];
