import { findUserKey } from '../adapters/user-key.js';

export interface SshCredentials {
  privateKey?: Buffer;
  password?: string;
  agent?: string;
}

/**
 * Credentials the way a user's own ssh client finds them: the agent, the key named in the
 * inventory (or ~/.ssh/id_ed25519 / id_rsa), and a password only when one is given explicitly
 * (PISWARM_SSH_PASSWORD or --password-stdin), never from the command line where `ps` shows it.
 */
export async function resolveSshCredentials(options: { privateKeyPath?: string; password?: string }): Promise<SshCredentials> {
  return {
    agent: process.env.SSH_AUTH_SOCK || undefined,
    password: options.password ?? (process.env.PISWARM_SSH_PASSWORD || undefined),
    privateKey: (await findUserKey(options.privateKeyPath))?.privateKey,
  };
}
