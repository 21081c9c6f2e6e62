import { request } from 'node:http';
import { Socket } from 'node:net';

/** Reads an SSH server's identification line ("SSH-2.0-OpenSSH_9.2p1 Debian-2"); undefined if none. */
export function readSshBanner(host: string, port = 22, timeoutMs = 2000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let data = '';
    const done = (banner?: string) => {
      socket.destroy();
      resolve(banner);
    };
    socket.setTimeout(timeoutMs, () => done());
    socket.on('error', () => done());
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      const line = data.split('\r\n')[0]!;
      if (data.includes('\n')) done(line.startsWith('SSH-') ? line.trim() : undefined);
    });
    socket.on('close', () => done());
    socket.connect(port, host);
  });
}

/** Asks a Docker engine's unix socket whether it is up; 'unknown' when we may not open it. */
export function pingDocker(socketPath: string, timeoutMs = 2000): Promise<'running' | 'down' | 'unknown'> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve(res.statusCode === 200 && body === 'OK' ? 'running' : 'down'));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EACCES' ? 'unknown' : 'down'));
    req.end();
  });
}

export async function httpOk(url: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return response.ok;
  } catch {
    return false;
  }
}
