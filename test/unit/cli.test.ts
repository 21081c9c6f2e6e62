import { mkdtempSync, readdirSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { CLI, piswarm } from '../helpers/cli.js';

const labRoot = () => mkdtempSync(join(tmpdir(), 'piswarm-labs-'));

describe('piswarm CLI', () => {
  it('--help lists only the commands that work', async () => {
    const { code, stdout } = await piswarm(['--help']);
    expect(code).toBe(0);
    const commands = stdout.split('Commands:')[1]!.split('\n').filter((l) => /^  \S/.test(l)).map((l) => l.trim().split(/\s/)[0]);
    expect(commands).toEqual(['init', 'flash', 'discover', 'bootstrap', 'swarm', 'stack', 'service', 'node', 'deploy', 'doctor', 'upgrade', 'backup', 'restore', 'dashboard', 'logs', 'images', 'lab', 'run', 'help']);
    expect(stdout).toContain('--json');
    expect(stdout).toContain('--inventory <file>');
  });

  it('is built as an executable, the package bin, that runs by its own shebang', () => {
    expect(execFileSync(CLI, ['--help'], { encoding: 'utf8' })).toContain('Usage: piswarm');
  });

  it('exits with the usage code on an unknown command', async () => {
    const { code, stderr } = await piswarm(['fly']);
    expect(code).toBe(64);
    expect(stderr).toContain("unknown command 'fly'");
  });

  it.each(['0', '300', 'three', '-2'])('refuses `lab up --nodes %s` before touching anything', async (nodes) => {
    const root = labRoot();
    const { code, stderr } = await piswarm(['lab', 'up', '--nodes', nodes], { env: { PISWARM_LAB_ROOT: root } });
    expect(code).toBe(64);
    expect(stderr).toContain(`--nodes must be a whole number from 1 to 64, got "${nodes}"`);
    expect(stderr).toContain('Hint: A home lab has a handful of Pis');
    expect(readdirSync(root)).toEqual([]);
  });

  it('says lab up needs root, and makes nothing, when run as another user', async () => {
    const root = labRoot();
    chmodSync(root, 0o777);
    const { code, stderr } = await piswarm(['lab', 'up', '--nodes', '2'], { env: { PISWARM_LAB_ROOT: root }, uid: 65534, gid: 65534, cwd: '/' });
    expect(code).toBe(1);
    expect(stderr).toContain('piswarm lab up needs root');
    expect(stderr).toContain('Hint: Run it again with sudo.');
    expect(readdirSync(root)).toEqual([]);
  });

  it('points at the file, line and field of a corrupt inventory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'piswarm-cli-'));
    const file = join(dir, 'piswarm.yaml');
    writeFileSync(file, 'nodes:\n  b8:27:eb:00:00:01:\n    hostname: pi-01\n    role: captain\n');
    const { code, stdout, stderr } = await piswarm(['run', '--inventory', file, '--', 'true']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(`${file}:4: nodes.b8:27:eb:00:00:01.role: must be "manager" or "worker"`);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('reports errors as JSON on stdout with --json', async () => {
    const { code, stdout } = await piswarm(['lab', 'status', '--json', '--name', 'nosuch'], { env: { PISWARM_LAB_ROOT: labRoot() } });
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toEqual({ error: { message: 'No lab named nosuch is running.', hint: 'Start one with `sudo piswarm lab up`.', exitCode: 1 } });
  });

  it('says there is nothing to do when taking down a lab that does not exist', async () => {
    const { code, stderr } = await piswarm(['lab', 'down', '--name', 'nosuch'], { env: { PISWARM_LAB_ROOT: labRoot() } });
    expect(code).toBe(0);
    expect(stderr).toContain('No lab named nosuch; nothing to do');
  });

  it('refuses run with an empty inventory and says how to fill it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'piswarm-cli-'));
    const { code, stderr } = await piswarm(['run', '--inventory', join(dir, 'piswarm.yaml'), '--', 'uptime']);
    expect(code).toBe(1);
    expect(stderr).toContain('lists no nodes');
    expect(stderr).toContain('piswarm discover --save');
  });

  it('doctor and upgrade refuse an unknown node and bad numbers before connecting anywhere', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'piswarm-cli-'));
    const inventory = join(dir, 'piswarm.yaml');
    writeFileSync(inventory, 'nodes:\n  "b8:27:eb:00:00:01": { hostname: pi-01, ip: 192.0.2.1 }\n');
    const doctor = await piswarm(['doctor', '--inventory', inventory, '--only', 'pi-09']);
    expect(doctor.code).toBe(64);
    expect(doctor.stderr).toContain('pi-09');
    expect(doctor.stderr).toContain('pi-01');
    const upgrade = await piswarm(['upgrade', '--inventory', inventory, '--timeout', '0']);
    expect(upgrade.code).toBe(64);
    expect(upgrade.stderr).toContain('--timeout');
    const boot = await piswarm(['upgrade', '--inventory', inventory, '--boot-timeout', 'soon']);
    expect(boot.code).toBe(64);
    const empty = await piswarm(['doctor', '--inventory', join(dir, 'none.yaml')]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('lists no nodes with an address');
  });

  it('backup, restore and node replace refuse bad input with what to do, before connecting anywhere', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'piswarm-backup-cli-'));
    const env = { HOME: dir, PISWARM_BACKUP_PASSPHRASE: 'long enough passphrase' };
    const noOutput = await piswarm(['backup'], { env });
    expect(noOutput.code).toBe(64);
    expect(noOutput.stderr).toContain('Give --output FILE');
    const short = await piswarm(['backup', '--output', join(dir, 'b'), '--inventory', join(dir, 'none.yaml')], { env: { ...env, PISWARM_BACKUP_PASSPHRASE: 'short' } });
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('shorter than 8 characters');
    expect(readdirSync(dir).filter((f) => f.startsWith('b'))).toEqual([]);
    const missing = await piswarm(['restore', join(dir, 'nothing.backup')], { env });
    expect(missing.code).toBe(64);
    expect(missing.stderr).toMatch(/Can't read the backup .*nothing\.backup \(ENOENT\)/);
    writeFileSync(join(dir, 'compose.backup'), 'version: "3.8"\n');
    const notOurs = await piswarm(['restore', join(dir, 'compose.backup')], { env });
    expect(notOurs.code).toBe(1);
    expect(notOurs.stderr).toContain('is not a piswarm backup');
    const badSecret = await piswarm(['restore', join(dir, 'compose.backup'), '--secret', 'token'], { env });
    expect(badSecret.code).toBe(64);
    expect(badSecret.stderr).toContain('--secret token is not NAME=FILE');
    const oneNode = await piswarm(['node', 'replace', 'worker-02'], { env });
    expect(oneNode.code).toBe(64);
    expect(oneNode.stderr).toContain('missing required argument');
  });
});
