import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommandFailedError, localRunner, type CommandRunner } from '../../cli/adapters/process.js';
import { ensurePackages, missingPackages, PACKAGE_INSTALLER } from '../../cli/services/lab/prerequisites.js';

const silent = { step: () => undefined, warn: () => undefined, debug: () => undefined };

/** The installer's check says docker.io and openssh-server are missing; apt-get always fails. */
const brokenApt: CommandRunner = {
  run: async (command, args) => {
    if (args.includes('--check')) return { code: 1, stdout: 'docker.io\nopenssh-server\n', stderr: '' };
    throw new CommandFailedError(`${command} ${args.join(' ')}`, { code: 100, stdout: '', stderr: 'E: Unable to locate package' });
  },
  spawnDetached: () => 0,
  runAttached: async () => 0,
};

/** A PATH whose dpkg-query knows the packages in `state` and whose apt-get installs into it. */
function fakeDpkg(installed: string[]) {
  const bin = mkdtempSync(join(tmpdir(), 'piswarm-apt-'));
  const state = join(bin, 'installed');
  const log = join(bin, 'apt.log');
  writeFileSync(state, installed.map((p) => `${p}\n`).join(''));
  writeFileSync(join(bin, 'dpkg-query'), `#!/bin/sh\nfor p; do grep -qx "$p" ${state} && echo "$p installed"; done\nexit 0\n`);
  writeFileSync(join(bin, 'apt-get'), `#!/bin/sh\necho "$*" >> ${log}\n[ "$1" = install ] || exit 0\nshift 4\nprintf '%s\\n' "$@" >> ${state}\n`);
  for (const tool of ['dpkg-query', 'apt-get']) chmodSync(join(bin, tool), 0o755);
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
  const run = (...args: string[]) => spawnSync('bash', [PACKAGE_INSTALLER, ...args], { env, encoding: 'utf8' });
  return { run, log: () => readFileSync(log, 'utf8') };
}

const listed = (part: string) => {
  const text = readFileSync(PACKAGE_INSTALLER.replace('install-packages.sh', 'system-packages.txt'), 'utf8');
  const section = text.split(/^## /m).find((s) => s.startsWith(`${part}:`))!;
  return section.split('\n').slice(1).map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
};

describe('the package installer', () => {
  it('finds the packages of the parts the tests need installed (npm test installed them)', async () => {
    expect(await missingPackages(localRunner, ['lab', 'demo', 'test'])).toEqual([]);
  });

  it('lists what a part lacks, only that part', () => {
    const apt = fakeDpkg(['docker.io', 'dpkg']);
    const lab = apt.run('--check', 'lab');
    expect(lab.status).toBe(1);
    expect(lab.stdout.split('\n').filter(Boolean)).toEqual(listed('lab').filter((p) => p !== 'docker.io').sort());
    expect(apt.run('--check', 'demo').stdout).not.toContain('dpkg');
    expect(apt.run('--check', 'demo').stdout).toContain('rabbitmq-server');
  });

  it('refuses a part the list does not have, naming the parts it has', () => {
    const result = fakeDpkg([]).run('--check', 'lab', 'tests');
    expect(result.status).toBe(64);
    expect(result.stderr).toContain("no part named 'tests'");
    expect(result.stderr).toContain('lab demo test bench');
  });

  it('updates, then installs only the missing packages, and checks they are installed', () => {
    const apt = fakeDpkg(listed('lab').filter((p) => p !== 'sudo' && p !== 'passwd'));
    const result = apt.run('lab');
    expect(result.status, result.stderr).toBe(0);
    expect(apt.log().split('\n').filter(Boolean)).toEqual(['update -qq', 'install -y -qq --no-install-recommends passwd sudo']);
    expect(apt.run('--check', 'lab').status).toBe(0);
  });

  it('every package the list names exists in Debian', () => {
    const names = [...new Set(['lab', 'demo', 'test', 'bench'].flatMap(listed))];
    const known = execFileSync('apt-cache', ['show', '--no-all-versions', ...names], { encoding: 'utf8' }).match(/^Package: (.+)$/gm)!;
    expect(known.map((l) => l.slice('Package: '.length)).sort()).toEqual([...names].sort());
  });
});

describe('lab prerequisites', () => {
  it('names the missing packages and the command to install them when installing is off', async () => {
    const error = await ensurePackages(brokenApt, silent, false).catch((e: Error & { hint?: string }) => e);
    expect(error.message).toContain('docker.io, openssh-server');
    expect((error as { hint?: string }).hint).toContain('apt-get install -y --no-install-recommends docker.io');
  });

  it('explains what to do when apt-get cannot install them', async () => {
    const error = await ensurePackages(brokenApt, silent, true).catch((e: Error & { hint?: string }) => e);
    expect(error.message).toContain('Could not install docker.io');
    expect(error.message).toContain('Unable to locate package');
    expect((error as { hint?: string }).hint).toContain('Install them by hand');
  });
});
