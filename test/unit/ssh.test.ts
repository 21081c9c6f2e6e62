import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSshConnector, type SshTarget } from '../../cli/adapters/ssh.js';
import { fingerprint, sameHostKey } from '../../cli/core/host-key.js';
import { ConnectionLostError, HostKeyMismatchError } from '../../cli/errors.js';
import { startFreezableRelay, startSilentServer, startSshServer, type TestSshServer } from '../helpers/ssh-server.js';

const PASSWORD = 'hypriot';
let server: TestSshServer;
const connector = createSshConnector({ connectMs: 1500, keepaliveIntervalMs: 1000, keepaliveCountMax: 2 });
const target = (extra: Partial<SshTarget> = {}): SshTarget => ({
  name: 'pi-01',
  host: '127.0.0.1',
  port: server.port,
  username: 'pirate',
  password: PASSWORD,
  ...extra,
});

beforeAll(async () => {
  server = await startSshServer({ password: PASSWORD });
});
afterAll(() => server.close());

describe('SSH connections', () => {
  it('runs a command and returns stdout, stderr and the exit status', async () => {
    const connection = await connector.connect(target());
    const ok = await connection.exec('echo hello pi');
    const failed = await connection.exec('fail 7');
    connection.close();
    expect(ok).toMatchObject({ code: 0, stdout: 'hello pi\n', stderr: 'to stderr\n' });
    expect(failed.code).toBe(7);
  });

  it('tries each method once, the key before the password, and says which one let it in', async () => {
    const key = ssh2.utils.generateKeyPairSync('ed25519');
    const before = server.authAttempts.length;
    const connection = await connector.connect(target({ privateKey: Buffer.from(key.private) }));
    connection.close();
    expect(server.authAttempts.slice(before)).toEqual(['none', 'publickey', 'password']);
    expect(connection.authMethod).toBe('password');
  });

  it('reports the presented host key so it can be pinned, with the fingerprint ssh-keygen prints', async () => {
    const connection = await connector.connect(target());
    connection.close();
    expect(sameHostKey(connection.hostKey, server.publicKey)).toBe(true);
    const file = join(mkdtempSync(join(tmpdir(), 'piswarm-key-')), 'key.pub');
    writeFileSync(file, `${connection.hostKey}\n`);
    const keygen = execFileSync('ssh-keygen', ['-lf', file], { encoding: 'utf8' });
    expect(keygen).toContain(fingerprint(connection.hostKey));
  });

  it('refuses a changed host key before any credential is sent, naming both fingerprints', async () => {
    const other = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHq0sDbM1iD6pLr0L1dC8oVdHjgB2E8jVx6m7n1cI0Zr';
    const before = server.authAttempts.length;
    const error = await connector.connect(target({ pinnedHostKey: other })).catch((e: Error) => e);
    expect(error).toBeInstanceOf(HostKeyMismatchError);
    expect(error.message).toContain('pi-01');
    expect(error.message).toContain(fingerprint(other));
    expect(error.message).toContain(fingerprint(server.publicKey));
    expect((error as HostKeyMismatchError).hint).toContain('--accept-new-host-key');
    expect(server.authAttempts.length).toBe(before);
  });

  it('accepts a changed host key only when told to', async () => {
    const other = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHq0sDbM1iD6pLr0L1dC8oVdHjgB2E8jVx6m7n1cI0Zr';
    const connection = await connector.connect(target({ pinnedHostKey: other, acceptChangedHostKey: true }));
    connection.close();
    expect(sameHostKey(connection.hostKey, server.publicKey)).toBe(true);
  });

  it('says the login was refused, without echoing the password', async () => {
    const error = await connector.connect(target({ password: 'wrong-secret' })).catch((e: Error) => e);
    expect(error.message).toContain('refused the login for user pirate');
    expect(error.message).not.toContain('wrong-secret');
  });

  it('says the connection was refused when nothing listens', async () => {
    const error = await connector.connect(target({ port: 1 })).catch((e: Error) => e);
    expect(error.message).toContain("Can't reach pi-01 (127.0.0.1:1) over SSH (connection refused)");
  });

  it('gives up on a server that accepts TCP but never speaks SSH', async () => {
    const silent = await startSilentServer();
    const started = Date.now();
    const error = await connector.connect(target({ port: silent.port })).catch((e: Error) => e);
    silent.server.close();
    expect(error.message).toContain('no answer within 1.5 s');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('times out a command that never finishes', async () => {
    const connection = await connector.connect(target());
    const error = await connection.exec('hang', { timeoutMs: 300 }).catch((e: Error) => e);
    connection.close();
    expect(error.message).toContain('did not finish within 300 ms');
  });

  it('says a connection the node closed mid-command was lost, not that the command exited 255', async () => {
    const connection = await connector.connect(target());
    const error = await connection.exec('drop').catch((e: Error) => e);
    expect(error).toBeInstanceOf(ConnectionLostError);
    expect(error.message).toBe('pi-01: the SSH connection was lost (the node closed it).');
    expect(connection.lost).toBe(error);
    // Later requests fail at once with the same loss, not with a bare "Not connected".
    await expect(connection.exec('echo again')).rejects.toBe(error);
    await expect(connection.openSocket('/var/run/docker.sock')).rejects.toBe(error);
  });

  it('closes the streams it handed out when the connection is lost, even one nobody reads (an idle pooled engine socket)', async () => {
    const connection = await connector.connect(target());
    const idle = await connection.openCommandStream('hang');
    const closed = new Promise((resolve) => idle.once('close', resolve));
    await connection.exec('drop').catch(() => undefined);
    // Closed and no longer writable, so no HTTP agent keeps it to write the next request into.
    await closed;
    expect(idle.writable).toBe(false);
  });

  it('finds a silent network (no FIN, no RST) lost through its keepalives', async () => {
    const relay = await startFreezableRelay(server.port);
    try {
      const connection = await connector.connect(target({ port: relay.port }));
      const running = connection.exec('hang').catch((e: Error) => e);
      relay.freeze();
      const error = await running;
      expect(error).toBeInstanceOf(ConnectionLostError);
      expect(error.message).toBe('pi-01: the SSH connection was lost (no answer for 2 s).');
    } finally {
      relay.close();
    }
  });

  it('does not call a connection it closed itself lost', async () => {
    const connection = await connector.connect(target());
    connection.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(connection.lost).toBeUndefined();
  });
});
