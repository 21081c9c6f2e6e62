import bcrypt from 'bcryptjs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REGISTRY_PORT } from '../core/registry-scripts.js';
import { configDir } from '../paths.js';
import type { RegistryAccess } from './registry-client.js';
import { ensureSecretFile } from './secret-files.js';

/** The registry's one user: piswarm's, whose password is generated and kept here. */
export const REGISTRY_USER = 'piswarm';

function registryDir(): string {
  return join(configDir(), 'registry');
}

export interface RegistryLogin {
  passwordFile: string;
  /** The htpasswd file the registry checks logins against (bcrypt, as the registry requires). */
  htpasswdFile: string;
  password: string;
  created: boolean;
}

/** The registry password (generated once, 0600) and its htpasswd file, remade when the password is new. */
export async function ensureRegistryLogin(): Promise<RegistryLogin> {
  const dir = registryDir();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const passwordFile = join(dir, 'password');
  const htpasswdFile = join(dir, 'htpasswd');
  const created = await ensureSecretFile(passwordFile);
  const password = (await readFile(passwordFile, 'utf8')).trim();
  const current = await readFile(htpasswdFile, 'utf8').catch(() => '');
  const hash = current.startsWith(`${REGISTRY_USER}:`) ? current.trim().slice(REGISTRY_USER.length + 1) : '';
  if (!hash || !(await bcrypt.compare(password, hash))) {
    await writeFile(htpasswdFile, `${REGISTRY_USER}:${await bcrypt.hash(password, 10)}\n`, { mode: 0o600 });
  }
  return { passwordFile, htpasswdFile, password, created };
}

/** Remembers the names the registry answers to, so piswarm's own registry reads use its CA and login. */
export async function saveRegistryNames(names: readonly string[]): Promise<void> {
  await writeFile(join(registryDir(), 'names'), `${names.join('\n')}\n`, { mode: 0o600 });
}

/** How piswarm reads the home registry (`registry` is HOST:PORT as in an image name); undefined for any other. */
export async function homeRegistryAccess(registry: string): Promise<RegistryAccess | undefined> {
  const dir = registryDir();
  const names = await readFile(join(dir, 'names'), 'utf8').catch(() => '');
  if (!names.split('\n').some((name) => name && `${name}:${REGISTRY_PORT}` === registry)) return undefined;
  const [ca, password] = await Promise.all([readFile(join(configDir(), 'ca', 'ca.crt'), 'utf8'), readFile(join(dir, 'password'), 'utf8')]);
  return { ca, username: REGISTRY_USER, password: password.trim() };
}
