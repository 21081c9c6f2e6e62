import { request } from 'node:http';

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
