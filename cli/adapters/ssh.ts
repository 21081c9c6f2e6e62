import { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import { ConnectionLostError, HostKeyMismatchError, PiswarmError } from '../errors.js';
import { fingerprint, hostKeyLine, sameHostKey } from '../core/host-key.js';

export interface SshTarget {
  /** What the user calls this node (hostname); used in every message. */
  name: string;
  host: string;
  port: number;
  username: string;
  password?: string;
  privateKey?: Buffer;
  /** ssh-agent socket (SSH_AUTH_SOCK), tried like OpenSSH's own client does. */
  agent?: string;
  /** The OpenSSH host key line pinned in the inventory; absent means trust on first use. */
  pinnedHostKey?: string;
  /** Accept a host key that differs from the pinned one (after a deliberate re-flash). */
  acceptChangedHostKey?: boolean;
}

export interface SshTimeouts {
  connectMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
}

export const DEFAULT_SSH_TIMEOUTS: SshTimeouts = { connectMs: 10_000, keepaliveIntervalMs: 5_000, keepaliveCountMax: 3 };

export interface ExecOptions {
  timeoutMs?: number;
  input?: string;
}

export interface ExecResult {
  code: number;
  signal?: string;
  stdout: string;
  stderr: string;
}

export type AuthMethod = 'none' | 'agent' | 'publickey' | 'password';

export interface SshConnection {
  /** The host key the server presented, as an OpenSSH line. */
  readonly hostKey: string;
  /** How the login succeeded. */
  readonly authMethod: AuthMethod;
  /** Set once the connection went away without close() (the node closed it, or stopped answering keepalives). */
  readonly lost?: ConnectionLostError;
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** A stream to a unix socket on the node, opened as the login user (OpenSSH streamlocal forwarding). */
  openSocket(path: string): Promise<Duplex>;
  /** A command's stdin and stdout as one stream (e.g. `docker system dial-stdio`); its stderr is dropped. */
  openCommandStream(command: string): Promise<Duplex>;
  /** A file's text read over SFTP (one subsystem per connection, no program per read); undefined when it does not exist. */
  readFile(path: string): Promise<string | undefined>;
  close(): void;
}

export interface SshConnector {
  connect(target: SshTarget): Promise<SshConnection>;
}

export class SshError extends PiswarmError {}

export function createSshConnector(timeouts: SshTimeouts = DEFAULT_SSH_TIMEOUTS): SshConnector {
  return { connect: (target) => connect(target, timeouts) };
}

function connect(target: SshTarget, timeouts: SshTimeouts): Promise<SshConnection> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let presented: string | undefined;
    let mismatch: HostKeyMismatchError | undefined;
    let settled = false;
    // One attempt per method, as OpenSSH orders them: agent, key file, then password (repeated
    // password tries lock accounts on some systems). The last one tried is the one that let us in.
    const methods: AuthMethod[] = ['none', ...(target.agent ? ['agent' as const] : []), ...(target.privateKey ? ['publickey' as const] : []), ...(target.password !== undefined ? ['password' as const] : [])];
    let tried: AuthMethod = 'none';
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      client.end();
      reject(error);
    };

    client.on('ready', () => {
      settled = true;
      resolve(wrapConnection(client, target, presented!, tried, timeouts));
    });
    client.on('error', (error: Error & { level?: string; code?: string }) => fail(mismatch ?? describeSshError(target, error, timeouts)));
    client.on('close', () => fail(mismatch ?? new SshError(`${target.name} (${target.host}) closed the SSH connection during the handshake.`, { hint: 'Check that sshd is running on it and that this machine is allowed to log in.' })));

    client.connect({
      host: target.host,
      port: target.port,
      username: target.username,
      password: target.password,
      privateKey: target.privateKey,
      agent: target.agent,
      readyTimeout: timeouts.connectMs,
      keepaliveInterval: timeouts.keepaliveIntervalMs,
      keepaliveCountMax: timeouts.keepaliveCountMax,
      tryKeyboard: false,
      authHandler: (_methodsLeft, _partialSuccess, next) => {
        const method = methods.shift();
        if (method) tried = method;
        // ssh2 takes false for "no methods left"; its type definitions leave that out.
        (next as (auth: AuthMethod | false) => void)(method ?? false);
      },
      hostVerifier: (key: Buffer) => {
        presented = hostKeyLine(key);
        if (!target.pinnedHostKey || target.acceptChangedHostKey || sameHostKey(target.pinnedHostKey, presented)) return true;
        // Refuse before authentication: no password or key signature is sent to an impostor.
        mismatch = new HostKeyMismatchError(target.name, fingerprint(target.pinnedHostKey), fingerprint(presented));
        return false;
      },
    });
  });
}

function wrapConnection(client: ssh2.Client, target: SshTarget, hostKey: string, authMethod: AuthMethod, timeouts: SshTimeouts): SshConnection {
  let sftp: Promise<ssh2.SFTPWrapper> | undefined;
  let closed = false;
  let lost: ConnectionLostError | undefined;
  let reason = 'the node closed it';
  client.on('error', (error: Error & { level?: string }) => {
    reason = error.level === 'client-timeout' ? `no answer for ${(timeouts.keepaliveIntervalMs * timeouts.keepaliveCountMax) / 1000} s` : error.message;
  });
  // Streams handed out (engine sockets, command streams): ssh2 closes a dead channel only once its
  // reader has read to the end, and leaves it writable, so an idle one kept for reuse (an HTTP
  // agent's) would stay in the pool and the next request wait on it forever. Each one is read to
  // its end and destroyed there, before ssh2 says it closed.
  const streams = new Set<Duplex>();
  const handOut = (stream: Duplex) => {
    streams.add(stream);
    stream.once('close', () => streams.delete(stream));
    return stream;
  };
  // ssh2 emits the client's 'close' before it closes the channels, so every step in flight sees the loss.
  client.on('close', () => {
    if (!closed) lost ??= new ConnectionLostError(target.name, reason);
    for (const stream of streams) {
      // ssh2's own destroy() would write to the dead connection; the stream's base one only marks it.
      stream.once('end', () => Duplex.prototype.destroy.call(stream));
      stream.resume();
    }
  });
  /** What a failed channel request means: the connection's loss when it is gone, else the request's own error. */
  const failure = (error: Error, describe: (error: Error) => SshError) => lost ?? describe(error);
  /** A channel request, refused at once on a lost connection (ssh2 would throw a bare "Not connected"). */
  const request = <T>(executor: (resolve: (value: T) => void, reject: (error: Error) => void) => void) => (lost ? Promise.reject<T>(lost) : new Promise<T>(executor));
  return {
    hostKey,
    authMethod,
    get lost() {
      return lost;
    },
    close: () => {
      closed = true;
      client.end();
    },
    openSocket(path) {
      return request((resolve, reject) => {
        client.openssh_forwardOutStreamLocal(path, (error, stream) => {
          if (error) return reject(failure(error, (e) => new SshError(`${target.name} refused a connection to ${path} over SSH: ${e.message}`, { cause: e })));
          resolve(handOut(stream));
        });
      });
    },
    openCommandStream(command) {
      return request((resolve, reject) => {
        client.exec(command, (error, stream) => {
          if (error) return reject(failure(error, (e) => new SshError(`Can't run \`${firstWord(command)}\` on ${target.name}: ${e.message}`, { cause: e })));
          stream.stderr.resume();
          resolve(handOut(stream));
        });
      });
    },
    readFile(path) {
      sftp ??= request((resolve, reject) => client.sftp((error, session) => (error ? reject(failure(error, (e) => new SshError(`${target.name} offers no SFTP: ${e.message}`, { cause: e }))) : resolve(session))));
      return sftp.then(
        (session) =>
          new Promise((resolve, reject) =>
            session.readFile(path, 'utf8', (error, data) => {
              if (!error) return resolve(data as unknown as string);
              // SFTP status 2: no such file.
              if ((error as { code?: number }).code === 2) return resolve(undefined);
              reject(failure(error, (e) => new SshError(`Can't read ${path} on ${target.name}: ${e.message}`, { cause: e })));
            }),
          ),
      );
    },
    exec(command, options = {}) {
      return request((resolve, reject) => {
        client.exec(command, (error, stream) => {
          if (error) return reject(failure(error, (e) => new SshError(`Can't run a command on ${target.name}: ${e.message}`, { cause: e })));
          let stdout = '';
          let stderr = '';
          let timer: NodeJS.Timeout | undefined;
          if (options.timeoutMs) {
            timer = setTimeout(() => {
              stream.close();
              reject(new SshError(`\`${firstWord(command)}\` on ${target.name} did not finish within ${options.timeoutMs} ms.`, { hint: 'Raise --timeout if the node is just slow.' }));
            }, options.timeoutMs);
          }
          stream.setEncoding('utf8');
          stream.stderr.setEncoding('utf8');
          stream.on('data', (chunk: string) => (stdout += chunk));
          stream.stderr.on('data', (chunk: string) => (stderr += chunk));
          stream.on('close', (code: number | null, signal?: string) => {
            clearTimeout(timer);
            // No exit status: the command's fate is unknown, and the loss is what to report.
            if (code == null && !signal && lost) return reject(lost);
            resolve({ code: code ?? 255, signal: signal ?? undefined, stdout, stderr });
          });
          stream.end(options.input ?? '');
        });
      });
    },
  };
}

function firstWord(command: string): string {
  return command.trim().split(/\s+/)[0] ?? command;
}

function describeSshError(target: SshTarget, error: Error & { level?: string; code?: string }, timeouts: SshTimeouts): SshError {
  const where = `${target.name} (${target.host}:${target.port})`;
  if (error.level === 'client-authentication') {
    return new SshError(`${where} refused the login for user ${target.username}.`, {
      hint: target.password ? 'Check the password, or use a key: set ssh.privateKey in the inventory.' : 'Check the key is in ~/.ssh/authorized_keys on the node, or give a password with PISWARM_SSH_PASSWORD.',
      cause: error,
    });
  }
  if (error.level === 'client-timeout' || /timed out/i.test(error.message)) {
    return new SshError(`Can't reach ${where} over SSH (no answer within ${timeouts.connectMs / 1000} s).`, {
      hint: 'Is it powered on and on this network? Try `piswarm discover`.',
      cause: error,
    });
  }
  const reason = error.code === 'ECONNREFUSED' ? 'connection refused' : error.code === 'EHOSTUNREACH' || error.code === 'ENETUNREACH' ? 'no route to host' : error.message;
  return new SshError(`Can't reach ${where} over SSH (${reason}).`, {
    hint: 'Is it powered on and is sshd running? Try `piswarm discover`.',
    cause: error,
  });
}
