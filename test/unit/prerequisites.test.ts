import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommandFailedError, type CommandRunner } from '../../cli/adapters/process.js';
import { ensurePackages, missingPackages } from '../../cli/services/lab/prerequisites.js';

const silent = { step: () => undefined, warn: () => undefined, debug: () => undefined };
const emptyDir = () => [mkdtempSync(join(tmpdir(), 'piswarm-path-'))];

/** apt-get that always fails, as on a machine with no package mirror. */
const brokenApt: CommandRunner = {
  run: async (command, args) => {
    throw new CommandFailedError(`${command} ${args.join(' ')}`, { code: 100, stdout: '', stderr: 'E: Unable to locate package' });
  },
  spawnDetached: () => 0,
  runAttached: async () => 0,
};

describe('lab prerequisites', () => {
  it('finds every lab program on this machine (the test setup installed them)', async () => {
    expect(await missingPackages()).toEqual([]);
  });

  it('names the missing packages and the command to install them when installing is off', async () => {
    const error = await ensurePackages(brokenApt, silent, false, emptyDir()).catch((e: Error & { hint?: string }) => e);
    expect(error.message).toContain('docker.io, openssh-server');
    expect((error as { hint?: string }).hint).toContain('apt-get install -y --no-install-recommends docker.io');
  });

  it('explains what to do when apt-get cannot install them', async () => {
    const error = await ensurePackages(brokenApt, silent, true, emptyDir()).catch((e: Error & { hint?: string }) => e);
    expect(error.message).toContain('Could not install docker.io');
    expect(error.message).toContain('Unable to locate package');
    expect((error as { hint?: string }).hint).toContain('Install them by hand');
  });
});
