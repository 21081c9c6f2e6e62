import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PiswarmError } from '../errors.js';

export interface SshCredentials {
  privateKey?: Buffer;
  password?: string;
  agent?: string;
}

export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

/**
 * Credentials the way a user's own ssh client finds them: the agent, the key named in the
 * inventory (or ~/.ssh/id_ed25519 / id_rsa), and a password only when one is given explicitly
 * (PISWARM_SSH_PASSWORD or --password-stdin), never from the command line where `ps` shows it.
 */
export async function resolveSshCredentials(options: { privateKeyPath?: string; password?: string }): Promise<SshCredentials> {
  const credentials: SshCredentials = {
    agent: process.env.SSH_AUTH_SOCK || undefined,
    password: options.password ?? (process.env.PISWARM_SSH_PASSWORD || undefined),
  };
  if (options.privateKeyPath) {
    const path = expandHome(options.privateKeyPath);
    try {
      credentials.privateKey = await readFile(path);
    } catch (error) {
      throw new PiswarmError(`Can't read the SSH private key ${path} (${(error as NodeJS.ErrnoException).code}).`, {
        hint: 'Fix ssh.privateKey in the inventory, or remove it to use ~/.ssh/id_ed25519.',
        cause: error,
      });
    }
    return credentials;
  }
  for (const name of ['id_ed25519', 'id_rsa']) {
    credentials.privateKey = await readFile(join(homedir(), '.ssh', name)).catch(() => undefined);
    if (credentials.privateKey) break;
  }
  return credentials;
}
