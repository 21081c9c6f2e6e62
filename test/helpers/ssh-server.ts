import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
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
 * can ask for output, an exit code or a hang: "echo X", "fail N", "hang".
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
