import type { SshConnection } from '../../cli/adapters/ssh.js';
import type { SwarmApi } from '../../cli/core/swarm-api.js';
import { NodeSession } from '../../cli/services/swarm/node-session.js';

/**
 * A node session whose engine is `api` (a fake, only the calls a test needs) and whose shell
 * refuses everything unless `exec` is given: what a service does to Docker must go through the engine.
 */
export function sessionOver(api: Partial<SwarmApi>, hostname = 'pi-01', ip = '10.0.0.11', exec?: SshConnection['exec']): NodeSession {
  const refuse = async () => {
    throw new Error('not used: Docker is reached through the engine API');
  };
  const connection: SshConnection = {
    hostKey: 'ssh-ed25519 AAAA',
    authMethod: 'publickey',
    exec: exec ?? (async () => ({ code: 1, stdout: '', stderr: 'no shell here: everything goes through the engine' })),
    openSocket: refuse,
    openCommandStream: refuse,
    readFile: refuse,
    close: () => undefined,
  };
  return new NodeSession({ mac: `b8:27:eb:00:00:${ip.split('.')[3]}`, hostname, ip }, connection, 1000, async () => ({ close: () => undefined, ...api }) as SwarmApi);
}
