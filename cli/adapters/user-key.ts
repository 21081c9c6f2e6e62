import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir, hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { PiswarmError } from '../errors.js';
import { generateEd25519Key } from './host-keys.js';

export interface UserKey {
  path: string;
  privateKey: Buffer;
  /** The OpenSSH public key line that goes into the nodes' authorized_keys. */
  publicKey: string;
  /** True when piswarm made this key because the user had none. */
  created: boolean;
}

const DEFAULT_KEYS = ['id_ed25519', 'id_rsa'];

export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

/**
 * The user's private key the way ssh finds it: the inventory's ssh.privateKey (which must be
 * readable), else ~/.ssh/id_ed25519 or id_rsa; undefined when there is none.
 */
export async function findUserKey(configuredPath?: string): Promise<{ path: string; privateKey: Buffer } | undefined> {
  const candidates = configuredPath ? [expandHome(configuredPath)] : DEFAULT_KEYS.map((name) => join(homedir(), '.ssh', name));
  for (const path of candidates) {
    const privateKey = await readFile(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' && !configuredPath) return undefined;
      throw new PiswarmError(`Can't read the SSH private key ${path} (${error.code}).`, { hint: 'Fix ssh.privateKey in the inventory, or remove it to use ~/.ssh/id_ed25519.', cause: error });
    });
    if (privateKey) return { path, privateKey };
  }
  return undefined;
}

/**
 * The user's key with its public half; when there is none, a new ~/.ssh/id_ed25519, as
 * ssh-keygen would make it, so that plain `ssh` works with the nodes afterwards too.
 */
export async function findOrCreateUserKey(configuredPath?: string): Promise<UserKey> {
  const found = await findUserKey(configuredPath);
  if (found) return { ...found, publicKey: await publicKeyOf(found.path, found.privateKey), created: false };
  const path = join(homedir(), '.ssh', 'id_ed25519');
  const key = generateEd25519Key(`${userInfo().username}@${hostname()}`);
  await mkdir(join(homedir(), '.ssh'), { recursive: true, mode: 0o700 });
  // 'wx': never overwrite a key that appeared meanwhile.
  await writeFile(path, key.privateKey, { mode: 0o600, flag: 'wx' });
  await writeFile(`${path}.pub`, `${key.publicKey}\n`, { mode: 0o644, flag: 'wx' });
  return { path, privateKey: Buffer.from(key.privateKey), publicKey: key.publicKey, created: true };
}

/** The .pub file beside the key, else the public half of the (unencrypted) private key. */
async function publicKeyOf(path: string, privateKey: Buffer): Promise<string> {
  const pub = await readFile(`${path}.pub`, 'utf8').catch(() => undefined);
  const line = pub?.split('\n').find((l) => /^(ssh-|ecdsa-)/.test(l.trim()));
  if (line) return line.trim();
  const parsed = ssh2.utils.parseKey(privateKey);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key instanceof Error) {
    throw new PiswarmError(`Can't read the public half of ${path}${key instanceof Error ? ` (${key.message})` : ''}, and there is no ${path}.pub.`, {
      hint: `Write it with: ssh-keygen -y -f ${path} > ${path}.pub`,
    });
  }
  return `${key.type} ${key.getPublicSSH().toString('base64')}`;
}
