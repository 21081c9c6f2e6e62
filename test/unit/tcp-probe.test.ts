import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createSshProber } from '../../cli/adapters/tcp-probe.js';

const servers: Server[] = [];
const sockets: Socket[] = [];

/** A real TCP server on loopback that greets each connection with `greet` (or says nothing). */
async function serve(greet?: string): Promise<number> {
  const server = createServer((socket) => {
    sockets.push(socket);
    if (greet) socket.write(greet);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

afterAll(() => {
  for (const socket of sockets) socket.destroy();
  for (const server of servers) server.close();
});

// "silent" (no answer at all) needs an address nobody holds: the lab e2e test sweeps 250 of those.
describe('SSH port probe', () => {
  it('reads the identification line, even after other lines', async () => {
    const port = await serve('Welcome\r\nSSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n');
    expect(await createSshProber(port, 1000)('127.0.0.1')).toEqual({ ip: '127.0.0.1', state: 'ssh', banner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3' });
  });

  it('calls a port that accepts and then hangs "open", within the banner timeout', async () => {
    const port = await serve();
    const started = Date.now();
    expect(await createSshProber(port, 300)('127.0.0.1')).toEqual({ ip: '127.0.0.1', state: 'open' });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('calls garbage "open", not SSH', async () => {
    const port = await serve('x'.repeat(4096));
    expect((await createSshProber(port, 1000)('127.0.0.1')).state).toBe('open');
  });

  it('calls a refused port "closed" (the host is up)', async () => {
    const port = await serve();
    await new Promise((resolve) => servers.pop()!.close(resolve));
    expect((await createSshProber(port, 1000)('127.0.0.1')).state).toBe('closed');
  });
});
