import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openEngineApi } from '../../cli/adapters/engine-api.js';
import type { SshConnection } from '../../cli/adapters/ssh.js';
import { apiVersionAtLeast, EngineError } from '../../cli/core/swarm-api.js';
import { hasDeployDetach } from '../../cli/core/stack-scripts.js';
import { until } from '../helpers/wait.js';

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

/** `handle` answers what it wants to; returning 'hold' keeps the response open, as an engine with nothing to say yet. */
async function engine(apiVersion: string, handle: (req: IncomingMessage, res: ServerResponse, body: string) => unknown = () => undefined) {
  const seen: Seen[] = [];
  const socket = join(mkdtempSync(join(tmpdir(), 'piswarm-engine-')), 'docker.sock');
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, body });
      if (req.url === '/version') return void res.end(JSON.stringify({ ApiVersion: apiVersion, Version: '20.10.24' }));
      if (handle(req, res, body) === 'hold') return;
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

  it("scales by writing back the service's own spec with the new count, retrying once when another writer got there first", async () => {
    let version = 7;
    let updates = 0;
    const { seen, socket } = await engine('1.41', (req, res) => {
      if (req.method === 'GET' && req.url?.includes('/services/s1')) return void res.end(JSON.stringify({ ID: 's1', Version: { Index: version }, Spec: { Name: 'web', Labels: { a: 'b' }, Mode: { Replicated: { Replicas: 3 } }, TaskTemplate: { ContainerSpec: { Image: 'hello:1' } } } }));
      if (req.method === 'POST' && req.url?.includes('/services/s1/update')) {
        // The first write lost a race: the service moved on to version 8 meanwhile.
        if (updates++ === 0) {
          version = 8;
          return void res.writeHead(500).end(JSON.stringify({ message: 'rpc error: update out of sequence' }));
        }
        return void res.end('{}');
      }
    });
    const api = await openEngineApi(connection(socket).conn);
    await api.scaleService('s1', 9);
    const writes = seen.filter((s) => s.url.includes('/services/s1/update'));
    expect(writes.map((w) => new URL(w.url, 'http://docker').search)).toEqual(['?version=7', '?version=8']);
    expect(JSON.parse(writes[1]!.body)).toMatchObject({ Name: 'web', Labels: { a: 'b' }, Mode: { Replicated: { Replicas: 9 } }, TaskTemplate: { ContainerSpec: { Image: 'hello:1' } } });
    api.close();
  });

  it('creates a secret with its content in the body only, and finds existing ones by exact name', async () => {
    const { seen, socket } = await engine('1.41', (req, res) => {
      if (req.method === 'GET' && req.url?.startsWith('/v1.41/secrets')) return void res.end(JSON.stringify([{ Spec: { Name: 'app_db_1234' } }, { Spec: { Name: 'app_db_1234_old' } }]));
      if (req.method === 'POST' && req.url?.includes('/secrets/create')) return void res.writeHead(201).end('{"ID":"x"}');
    });
    const api = await openEngineApi(connection(socket).conn);
    expect([...(await api.existingObjects('secret', ['app_db_1234', 'app_key_99']))]).toEqual(['app_db_1234']);
    await api.createObject('secret', 'app_key_99', 'hunter2', { 'com.docker.stack.namespace': 'app' });
    const create = seen.find((s) => s.url.includes('/secrets/create'))!;
    // In the body only: not in the URL, not even base64-encoded (the engine logs request URLs).
    expect(create.url).toBe('/v1.41/secrets/create?');
    expect(JSON.parse(create.body)).toEqual({ Name: 'app_key_99', Labels: { 'com.docker.stack.namespace': 'app' }, Data: Buffer.from('hunter2').toString('base64') });
    api.close();
  });

  it("splits the engine's multiplexed log frames into lines, stdout and stderr alike, a line split across frames whole", async () => {
    const frame = (stream: number, text: string) => {
      const payload = Buffer.from(text);
      const header = Buffer.alloc(8);
      header[0] = stream;
      header.writeUInt32BE(payload.length, 4);
      return Buffer.concat([header, payload]);
    };
    const { seen, socket } = await engine('1.41', (req, res) => {
      if (!req.url?.includes('/services/s1/logs')) return;
      res.writeHead(200, { 'content-type': 'application/vnd.docker.multiplexed-stream' });
      res.end(Buffer.concat([frame(1, 'T a=1 first\nT a=1 sec'), frame(2, 'ond\n'), frame(1, 'T a=1 last')]));
    });
    const api = await openEngineApi(connection(socket).conn);
    const lines: string[] = [];
    await api.serviceLogs('s1', { follow: false, tail: 5 }, (line) => lines.push(line), new AbortController().signal);
    expect(lines).toEqual(['T a=1 first', 'T a=1 second', 'T a=1 last']);
    const query = new URL(seen.find((s) => s.url.includes('/logs'))!.url, 'http://docker').searchParams;
    expect(Object.fromEntries(query)).toMatchObject({ stdout: 'true', stderr: 'true', timestamps: 'true', details: 'true', tail: '5' });
    api.close();
  });

  it('stops following a quiet engine at once, though it has not answered yet (it answers with the first event)', async () => {
    const { socket } = await engine('1.41', (req, res) => {
      // Headers held back, as Docker does until there is an event to send.
      if (req.url?.includes('/events')) return 'hold';
    });
    const api = await openEngineApi(connection(socket).conn);
    const stop = new AbortController();
    const following = api.events({ types: ['container'], actions: ['start'], seconds: 60 }, () => undefined, stop.signal);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stopped = Date.now();
    stop.abort();
    await following;
    expect(Date.now() - stopped).toBeLessThan(500);
    api.close();
  });

  it('stops following at once when the node never confirms the closed channel', async () => {
    const { socket } = await engine('1.41', (req, res) => {
      if (!req.url?.includes('/events')) return;
      res.write(`${JSON.stringify({ Type: 'container', Action: 'start' })}\n`);
      return 'hold';
    });
    const { conn } = connection(socket);
    // As an ssh2 channel: destroy() asks the node to close and 'close' waits for its answer; here none comes.
    conn.openSocket = async () => Object.assign(connect(socket), { destroy() { return this; } });
    const api = await openEngineApi(conn);
    const stop = new AbortController();
    const seen: string[] = [];
    const following = api.events({ types: ['container'], actions: ['start'], seconds: 60 }, (event) => void seen.push(String(event.Action)), stop.signal);
    await until(() => seen.length > 0, 2000, 'the first event');
    const stopped = Date.now();
    stop.abort();
    await following;
    expect(Date.now() - stopped).toBeLessThan(500);
    api.close();
  });

  it('gives up on a request the engine does not answer, saying so', async () => {
    const { socket } = await engine('1.41', (req) => (req.url?.includes('/nodes') ? 'hold' : undefined));
    const api = await openEngineApi(connection(socket).conn, 300);
    await expect(api.nodes()).rejects.toThrow(new EngineError(504, 'the engine did not answer within 0.3 s'));
    api.close();
  });
});

describe('Engine API versions', () => {
  it('compares them as numbers, so 1.9 comes before 1.10; docker stack deploy --detach from 1.42', () => {
    expect([apiVersionAtLeast('1.10', '1.9'), apiVersionAtLeast('1.9', '1.10'), apiVersionAtLeast('1.43', '1.43'), apiVersionAtLeast('2.0', '1.99')]).toEqual([true, false, true, true]);
    expect([hasDeployDetach('1.41'), hasDeployDetach('1.42'), hasDeployDetach(undefined)]).toEqual([false, true, false]);
  });
});
