import { parse } from 'yaml';
import { PiswarmError } from '../errors.js';
import { HOSTNAME_PATTERN } from './lab-plan.js';

/** A user name as useradd takes it: it becomes /home/NAME on the node. */
const USER_PATTERN = /^[a-z_][a-z0-9_-]{0,31}$/;
import type { BootConfig, BootUser } from './boot-config.js';

interface CloudUser {
  name?: string;
  passwd?: string;
  plain_text_passwd?: string;
  lock_passwd?: boolean;
  groups?: string | string[];
  sudo?: string | string[] | false;
  ssh_authorized_keys?: string[];
}

/**
 * What first boot would apply from a card's cloud-init `user-data`: hostname, users (password
 * hash or plain text, lock, groups, sudo, SSH keys) and SSH host keys. Used by `lab up --card`.
 */
export function bootConfigFromUserData(text: string, source: string, cardFiles: Record<string, string> = { 'user-data': text }): BootConfig {
  let data: { hostname?: string; users?: Array<CloudUser | string>; ssh_keys?: Record<string, string> };
  try {
    data = parse(text) ?? {};
  } catch (error) {
    throw new PiswarmError(`${source}: user-data is not valid YAML (${(error as Error).message.split('\n')[0]}).`, { cause: error });
  }
  if (!data.hostname) throw new PiswarmError(`${source}: user-data sets no hostname.`, { hint: 'Flash the card with piswarm flash --hostname NAME.' });
  if (typeof data.hostname !== 'string' || !HOSTNAME_PATTERN.test(data.hostname)) {
    throw new PiswarmError(`${source}: user-data's hostname ${JSON.stringify(data.hostname)} is not a hostname.`, { hint: 'Use letters, digits and "-" (e.g. worker-01): flash the card again with piswarm flash --hostname.' });
  }
  const users = (data.users ?? []).filter((u): u is CloudUser => typeof u === 'object' && Boolean(u.name)).map(toBootUser);
  const bad = users.find((u) => !USER_PATTERN.test(u.name));
  if (bad) throw new PiswarmError(`${source}: user-data's user ${JSON.stringify(bad.name)} is not a user name.`, { hint: 'Use lower-case letters, digits, "_" and "-", starting with a letter (e.g. pirate).' });
  const keys = data.ssh_keys ?? {};
  const sshHostKeys = ['ed25519', 'ecdsa', 'rsa']
    .filter((type) => keys[`${type}_private`] && keys[`${type}_public`])
    .map((type) => ({ type, privateKey: keys[`${type}_private`]!, publicKey: keys[`${type}_public`]! }));
  return { hostname: data.hostname, users, sshHostKeys: sshHostKeys.length > 0 ? sshHostKeys : undefined, cardFiles };
}

function toBootUser(user: CloudUser): BootUser {
  const groups = typeof user.groups === 'string' ? user.groups.split(',').map((g) => g.trim()) : (user.groups ?? []);
  const sudo = Array.isArray(user.sudo) ? user.sudo[0] : user.sudo || undefined;
  return {
    name: user.name!,
    passwordHash: user.passwd,
    plainPassword: user.passwd ? undefined : user.plain_text_passwd,
    lockPassword: user.lock_passwd === true,
    groups: groups.filter(Boolean),
    sshAuthorizedKeys: user.ssh_authorized_keys ?? [],
    sudo,
  };
}
