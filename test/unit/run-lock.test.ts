import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireRunLock } from '../../cli/adapters/run-lock.js';
import { piswarm } from '../helpers/cli.js';

const quick = { waitMs: 300, pollMs: 50 };
const inventory = () => join(mkdtempSync(join(tmpdir(), 'piswarm-lock-')), 'piswarm.yaml');

describe('the run lock beside the inventory', () => {
  it('lets one run in, refuses a second naming the first, and lets the next in once released', async () => {
    const file = inventory();
    const release = await acquireRunLock(file, 'bootstrap', quick);
    expect(JSON.parse(readFileSync(`${file}.lock`, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname(), command: 'bootstrap' });
    // A second process of this machine, holding it: as a second piswarm would find it.
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: process.ppid, host: hostname(), command: 'node drain', since: '2026-12-01T10:00:00.000Z' }));
    await expect(acquireRunLock(file, 'stack deploy', quick)).rejects.toThrow(`another piswarm node drain (pid ${process.ppid}, since 2026-12-01T10:00:00.000Z) is changing the cluster of ${file}.`);
    // Not ours any more: releasing leaves the other run's lock alone.
    await release();
    expect(existsSync(`${file}.lock`)).toBe(true);
  });

  it('waits for a run that finishes within the wait, then goes ahead', async () => {
    const file = inventory();
    const first = await acquireRunLock(file, 'bootstrap', quick);
    setTimeout(() => void first(), 100);
    const second = await acquireRunLock(file, 'node drain', { waitMs: 2000, pollMs: 20 });
    expect(JSON.parse(readFileSync(`${file}.lock`, 'utf8')).command).toBe('node drain');
    await second();
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('takes over a lock whose process is gone', async () => {
    const file = inventory();
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => gone.once('exit', resolve));
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: gone.pid, host: hostname(), command: 'bootstrap', since: '2026-12-01T10:00:00.000Z' }));
    const release = await acquireRunLock(file, 'swarm teardown', quick);
    expect(JSON.parse(readFileSync(`${file}.lock`, 'utf8')).command).toBe('swarm teardown');
    await release();
  });

  it("never takes over another machine's lock: its process cannot be checked from here", async () => {
    const file = inventory();
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: 1, host: 'laptop-elsewhere', command: 'bootstrap', since: '2026-12-01T10:00:00.000Z' }));
    await expect(acquireRunLock(file, 'node rm', quick)).rejects.toThrow('another piswarm bootstrap (pid 1 on laptop-elsewhere, since 2026-12-01T10:00:00.000Z)');
  });
});

describe('commands and the run lock', () => {
  it('refuses a changing command while another run holds the lock, and never holds up one that only reads', async () => {
    const file = inventory();
    writeFileSync(file, 'nodes: {}\n');
    const other = spawn('sleep', ['30']);
    try {
      writeFileSync(`${file}.lock`, JSON.stringify({ pid: other.pid, host: hostname(), command: 'bootstrap', since: '2026-12-01T10:00:00.000Z' }));
      const changing = await piswarm(['--inventory', file, 'node', 'activate', 'pi-01']);
      expect(changing.code).not.toBe(0);
      expect(changing.stderr).toContain(`another piswarm bootstrap (pid ${other.pid}, since 2026-12-01T10:00:00.000Z) is changing the cluster of ${file}.`);
      const dryRun = await piswarm(['--inventory', file, 'node', 'drain', 'pi-01', '--dry-run']);
      const reading = await piswarm(['--inventory', file, 'node', 'ls']);
      for (const run of [dryRun, reading]) {
        expect(run.stderr).not.toContain('is changing the cluster');
        expect(run.stderr).toContain('lists no nodes');
      }
    } finally {
      other.kill();
    }
  });
});
