import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { homeCa } from '../adapters/home-ca.js';
import { ensureSecretFile } from '../adapters/secret-files.js';
import type { Context } from '../context.js';
import { ExitCode, UsageError } from '../errors.js';
import { configDir, PACKAGE_ROOT } from '../paths.js';
import { parseIntegerFlag } from './parse.js';
import { deployComposeFiles } from './stack/deploy.js';

export interface DeployPortainerFlags {
  adminPasswordFile?: string;
  timeout: string;
}

/**
 * Portainer with its secrets taken care of: the admin password (given, or generated once and kept
 * in piswarm's config folder, mode 600) reaches Portainer as a Docker secret through
 * --admin-password-file, so it never waits for an admin and never locks itself; the agent secret
 * is generated once and kept there too, so re-deploys keep agents and server in step. Portainer
 * serves HTTPS only, with a certificate from the home CA for every manager.
 */
export async function deployPortainerAction(context: Context, flags: DeployPortainerFlags): Promise<number> {
  const timeoutMs = parseIntegerFlag('--timeout', flags.timeout, 1, 86_400) * 1000;
  const dir = join(configDir(), 'portainer');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const adminFile = flags.adminPasswordFile ? resolve(flags.adminPasswordFile) : join(dir, 'admin-password');
  if (flags.adminPasswordFile) {
    const given = await readFile(adminFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`Can't read the admin password file ${adminFile} (${error.code}).`, 'Give a readable file holding the password, or leave out --admin-password-file to have one generated.');
    });
    if (given.trim().length < 12) throw new UsageError(`The password in ${adminFile} is shorter than 12 characters, which Portainer refuses.`, 'Use a longer password.');
  } else if (await ensureSecretFile(adminFile)) {
    context.reporter.step(`Portainer admin password generated in ${adminFile} (user admin)`);
  }
  const agentFile = join(dir, 'agent-secret');
  await ensureSecretFile(agentFile);
  // Portainer may run on any manager: its certificate names them all.
  const inventory = await context.loadInventory();
  const managers = inventory.nodes().filter((n) => n.role === 'manager' && n.ip);
  if (managers.length === 0) throw new UsageError(`${inventory.file} names no manager with an IP address.`, 'Run `piswarm bootstrap` first.');
  const ca = homeCa(context.runner);
  if (await ca.ensure()) context.reporter.step(`Home CA created: ${ca.certFile} (import it in your browser to trust Portainer)`);
  const { certificate } = await ca.issue('portainer', managers.flatMap((n) => [n.ip!, n.hostname, `${n.hostname}.local`]));
  const env = {
    ...process.env,
    PORTAINER_ADMIN_PASSWORD_FILE: adminFile,
    PORTAINER_AGENT_SECRET: (await readFile(agentFile, 'utf8')).trim(),
    PORTAINER_TLS_CERT_FILE: certificate.certFile,
    PORTAINER_TLS_KEY_FILE: certificate.keyFile,
  };
  const code = await deployComposeFiles(context, { paths: [join(PACKAGE_ROOT, 'stacks', 'portainer.yml')], name: 'portainer', timeoutMs, windowMs: 3000, skipArchCheck: false, env, finish: ['deploy', 'portainer'] });
  if (code === ExitCode.ok && !context.io.json) {
    context.reporter.step(`Portainer: https://${managers[0]?.ip ?? 'MANAGER'}:9443 — user admin, password in ${adminFile}, certificate from ${ca.certFile}`);
  }
  return code;
}
