import ssh2 from 'ssh2';
import { hostKeyLine } from '../core/host-key.js';

/**
 * The host key a host presents in the SSH handshake, read without logging in: the handshake is
 * broken off as soon as the key is seen, so no password or key signature is ever sent. Undefined
 * when the host shows none in time (not SSH, or too slow).
 */
export function readHostKey(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const client = new ssh2.Client();
    let presented: string | undefined;
    const done = () => {
      client.end();
      resolve(presented);
    };
    client.on('error', done);
    client.on('close', done);
    client.on('ready', done);
    client.connect({
      host,
      port,
      username: 'piswarm',
      readyTimeout: timeoutMs,
      hostVerifier: (key: Buffer) => {
        presented = hostKeyLine(key);
        return false;
      },
    });
  });
}
