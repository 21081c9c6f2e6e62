import { connect } from 'node:net';

/**
 * ssh: an SSH identification line came back. open: the port accepted but sent no SSH line in time
 * (or garbage). closed: refused, so the host is up. silent: nothing answered in time.
 */
export type ProbeState = 'ssh' | 'open' | 'closed' | 'silent';

export interface ProbeResult {
  ip: string;
  state: ProbeState;
  /** The server's identification line, when state is ssh. */
  banner?: string;
}

export type SshProber = (ip: string) => Promise<ProbeResult>;

const MAX_PRE_BANNER_BYTES = 2048;

/**
 * Connects to ip:port and reads the SSH server's first line, sending nothing. The connection gets
 * `timeoutMs`, and so does the banner after it: a host that accepts and then hangs costs at most
 * twice the timeout, never more.
 */
export function createSshProber(port: number, timeoutMs: number): SshProber {
  return (ip) =>
    new Promise((resolve) => {
      const socket = connect({ host: ip, port });
      let received = '';
      let connected = false;
      const finish = (state: ProbeState, banner?: string) => {
        clearTimeout(timer);
        socket.destroy();
        resolve(banner ? { ip, state, banner } : { ip, state });
      };
      let timer = setTimeout(() => finish('silent'), timeoutMs);
      socket.setNoDelay(true);
      socket.on('connect', () => {
        connected = true;
        clearTimeout(timer);
        timer = setTimeout(() => finish('open'), timeoutMs);
      });
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
        // RFC 4253 lets a server send other lines before its "SSH-" line.
        for (const line of received.split('\n').slice(0, -1)) {
          if (line.startsWith('SSH-')) return finish('ssh', line.replace(/\r$/, ''));
        }
        if (received.length > MAX_PRE_BANNER_BYTES) finish('open');
      });
      socket.on('error', (error: NodeJS.ErrnoException) => finish(!connected && error.code === 'ECONNREFUSED' ? 'closed' : connected ? 'open' : 'silent'));
      socket.on('close', () => finish(connected ? 'open' : 'silent'));
    });
}
