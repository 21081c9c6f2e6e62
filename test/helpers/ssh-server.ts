import { connect, createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import ssh2 from 'ssh2';

export interface TestSshServer {
  port: number;
  publicKey: string;
  /** Authentication methods the server was asked to accept, in order. */
  authAttempts: string[];
  close(): Promise<void>;
}

/**
 * A real SSH server (ssh2's) on loopback. `exec` understands a tiny command language so tests
 * can ask for output, an exit code or a hang: "echo X", "fail N", "hang", "drop" (the connection closed mid-command).
 */
export async function startSshServer(options: { password: string }): Promise<TestSshServer> {
  const key = ssh2.utils.generateKeyPairSync('ed25519');
  const authAttempts: string[] = [];
  const server = new ssh2.Server({ hostKeys: [key.private] }, (client) => {
    client.on('authentication', (ctx) => {
      authAttempts.push(ctx.method);
      if (ctx.method === 'password' && ctx.password === options.password) ctx.accept();
      else ctx.reject(['password']);
    });
    client.on('error', () => undefined);
    client.on('ready', () => {
      client.on('session', (accept) => {
        accept().on('exec', (acceptExec, _reject, info) => {
          const stream = acceptExec();
          const [verb, ...rest] = info.command.split(' ');
          if (verb === 'echo') {
            stream.write(`${rest.join(' ')}\n`);
            stream.stderr.write('to stderr\n');
            stream.exit(0);
            stream.end();
          } else if (verb === 'fail') {
            stream.exit(Number(rest[0]));
            stream.end();
          } else if (verb === 'drop') {
            // The connection goes, the command's exit status never sent (a node losing power).
            client.end();
          } // "hang": never answers
        });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    publicKey: key.public,
    authAttempts,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A TCP server that accepts connections and never says a word (a wedged sshd). */
export async function startSilentServer(): Promise<{ port: number; server: TcpServer }> {
  const server = createTcpServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, server };
}

/**
 * A TCP relay to `port` that can be frozen: from then on it forwards nothing either way and
 * closes nothing (a network cable pulled out), so only keepalives can tell.
 */
export async function startFreezableRelay(port: number): Promise<{ port: number; freeze(): void; close(): void }> {
  let frozen = false;
  const sockets: Socket[] = [];
  const server = createTcpServer((inbound) => {
    const outbound = connect(port, '127.0.0.1');
    sockets.push(inbound, outbound);
    inbound.on('data', (chunk) => frozen || outbound.write(chunk));
    outbound.on('data', (chunk) => frozen || inbound.write(chunk));
    for (const socket of [inbound, outbound]) socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    freeze: () => (frozen = true),
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}
