import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { configDir } from '../paths.js';
import type { CommandRunner } from './process.js';

/**
 * The home lab's own certificate authority, kept in piswarm's config folder (the folder 0700,
 * keys 0600): it signs the certificates of the services piswarm deploys (registry, Portainer),
 * and nodes and browsers that trust its certificate trust them. Made with openssl, whose command
 * lines name only files, never a key.
 */
export interface Certificate {
  certFile: string;
  keyFile: string;
  /** The names the certificate is valid for (IP addresses and DNS names). */
  names: string[];
}

export class HomeCa {
  constructor(
    private readonly runner: CommandRunner,
    readonly dir: string,
  ) {}

  get certFile(): string {
    return join(this.dir, 'ca.crt');
  }

  /** Makes the CA the first time (ten years, P-256); true when it did. */
  async ensure(): Promise<boolean> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    if (await readable(this.certFile)) return false;
    const key = join(this.dir, 'ca.key');
    await privateFile(key);
    await this.openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', this.certFile, '-days', '3650', '-subj', '/CN=piswarm home lab CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    return true;
  }

  /**
   * A server certificate `name` for exactly these names (two years), kept and reused while the
   * names stay the same, so a re-deploy does not change the service's secrets.
   */
  async issue(name: string, names: readonly string[]): Promise<{ certificate: Certificate; issued: boolean }> {
    const certificate = { certFile: join(this.dir, `${name}.crt`), keyFile: join(this.dir, `${name}.key`), names: [...names] };
    const namesFile = join(this.dir, `${name}.names`);
    const wanted = `${names.join('\n')}\n`;
    if ((await readable(certificate.certFile)) && (await readFile(namesFile, 'utf8').catch(() => '')) === wanted) return { certificate, issued: false };
    const request = join(this.dir, `${name}.csr`);
    const extensions = join(this.dir, `${name}.ext`);
    const san = names.map((n) => (/^\d+\.\d+\.\d+\.\d+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
    await writeFile(extensions, `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n`);
    await privateFile(certificate.keyFile);
    await this.openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', certificate.keyFile, '-out', request, '-subj', `/CN=${names[0]}`);
    await this.openssl('x509', '-req', '-in', request, '-CA', this.certFile, '-CAkey', join(this.dir, 'ca.key'), '-CAcreateserial', '-out', certificate.certFile, '-days', '730', '-extfile', extensions);
    await writeFile(namesFile, wanted);
    return { certificate, issued: true };
  }

  private async openssl(...args: string[]): Promise<void> {
    await this.runner.run('openssl', args);
  }
}

/** The CA in piswarm's config folder. */
export function homeCa(runner: CommandRunner): HomeCa {
  return new HomeCa(runner, join(configDir(), 'ca'));
}

/** Created empty with mode 0600 first: openssl then writes the key into it without widening it. */
async function privateFile(path: string): Promise<void> {
  await writeFile(path, '', { mode: 0o600 });
  await chmod(path, 0o600);
}

async function readable(path: string): Promise<boolean> {
  return readFile(path).then(
    () => true,
    () => false,
  );
}
