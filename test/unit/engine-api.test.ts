import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openEngineApi } from '../../cli/adapters/engine-api.js';
import type { SshConnection } from '../../cli/adapters/ssh.js';
import { EngineError } from '../../cli/core/swarm-api.js';

/**
 * The dockerode adapter against an engine-shaped HTTP server on a unix socket, reached the way a
 * node's is: through the SSH connection's forwarded socket, or the sudo dial-stdio stream.
 */
interface Seen {
  method: string;
  url: string;
  body: string;
}

let server: Server | undefined;
afterEach(() => void server?.close());

async function engine(apiVersion: string, handle: (req: IncomingMessage, res: ServerResponse, body: string) => void = () => undefined) {
  const seen: Seen[] = [];
  const socket = join(mkdtempSync(join(tmpdir(), 'piswarm-engine-')), 'docker.sock');
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, body });
      if (req.url === '/version') return void res.end(JSON.stringify({ ApiVersion: apiVersion, Version: '20.10.24' }));
      handle(req, res, body);
      if (!res.writableEnded && !res.headersSent) res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server!.listen(socket, resolve));
  return { seen, socket };
}

function connection(socket: string, options: { socketRefused?: boolean } = {}) {
  const opened: string[] = [];
  const conn: SshConnection = {
    hostKey: 'ssh-ed25519 AAAA',
    authMethod: 'publickey',
    exec: async () => ({ code: 0, stdout: '', stderr: '' }),
    openSocket: async (path) => {
      opened.push(`socket ${path}`);
      if (options.socketRefused) throw new Error('open failed');
      return connect(socket);
    },
    openCommandStream: async (command) => {
      opened.push(`command ${command}`);
      return connect(socket);
    },
    close: () => undefined,
  };
  return { conn, opened };
}

describe('the Engine API over a node connection', () => {
  it.each([
    ['an older engine at its own version', '1.40', '/v1.40/'],
    ['a newer engine at the newest piswarm speaks', '1.47', '/v1.43/'],
  ])('meets %s', async (_name, version, prefix) => {
    const { seen, socket } = await engine(version, (req, res) => req.url?.includes('/nodes') && res.end('[]'));
    const api = await openEngineApi(connection(socket).conn);
    expect(await api.nodes()).toEqual([]);
    expect(seen.at(-1)!.url.startsWith(`${prefix}nodes`)).toBe(true);
    api.close();
  });

  it('sends the join token in the request body only, and says why the engine refused', async () => {
    const { seen, socket } = await engine('1.41', (req, res) => {
      if (req.url?.includes('/swarm/leave')) res.writeHead(503).end(JSON.stringify({ message: 'This node is not part of a swarm' }));
      if (req.url?.includes('/swarm/join') && seen.filter((s) => s.url.includes('/swarm/join')).length > 1) res.writeHead(400).end(JSON.stringify({ message: 'invalid join token' }));
    });
    const api = await openEngineApi(connection(socket).conn);
    await api.swarmJoin({ token: 'SWMTKN-1-secret', managerAddr: '10.0.0.11', advertiseAddr: '10.0.0.12' });
    const join = seen.find((s) => s.url.includes('/swarm/join'))!;
    expect(join.method).toBe('POST');
    expect(join.url).not.toContain('SWMTKN');
    expect(JSON.parse(join.body)).toEqual({ ListenAddr: '0.0.0.0:2377', AdvertiseAddr: '10.0.0.12', RemoteAddrs: ['10.0.0.11:2377'], JoinToken: 'SWMTKN-1-secret' });
    expect(await api.swarmLeave(false)).toBe(false);
    const refused = api.swarmJoin({ token: 'SWMTKN-1-secret', managerAddr: '10.0.0.11', advertiseAddr: '10.0.0.12' });
    await expect(refused).rejects.toBeInstanceOf(EngineError);
    await expect(refused).rejects.toThrow('invalid join token');
    api.close();
  });

  it('streams events of the watched types until a moment in the future, and stops when told', async () => {
    const { seen, socket } = await engine('1.41', (req, res) => {
      if (!req.url?.includes('/events')) return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`${JSON.stringify({ Type: 'container', Action: 'start', id: 'c1' })}\n${JSON.stringify({ Type: 'container', Action: 'die' })}`);
      setTimeout(() => res.write('\n'), 20);
    });
    const api = await openEngineApi(connection(socket).conn);
    const events: string[] = [];
    const stop = new AbortController();
    const ended = api.events({ types: ['container', 'service'], actions: ['start', 'die'], seconds: 120 }, (e) => events.push(`${e.Type} ${e.Action}`), stop.signal);
    await new Promise((resolve) => setTimeout(resolve, 200));
    stop.abort();
    await ended;
    expect(events).toEqual(['container start', 'container die']);
    const query = new URL(seen.find((s) => s.url.includes('/events'))!.url, 'http://docker').searchParams;
    expect(Number(query.get('until'))).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + 118);
    expect(JSON.parse(query.get('filters')!)).toEqual({ type: ['container', 'service'], event: ['start', 'die'] });
    api.close();
  });

  it("goes through sudo's docker dial-stdio when the login user may not open the socket, on the same connection", async () => {
    const { socket } = await engine('1.41', (req, res) => req.url?.includes('/nodes') && res.end('[]'));
    const { conn, opened } = connection(socket, { socketRefused: true });
    const api = await openEngineApi(conn);
    await api.nodes();
    expect(opened).toEqual(['socket /var/run/docker.sock', 'command sudo -n docker system dial-stdio']);
    api.close();
  });
});
