import { randomBytes } from 'node:crypto';
import type { SshConnector, SshTarget } from '../../adapters/ssh.js';
import { disablePasswordLoginScript, installKeyScript, replacePasswordScript, setHostnameScript } from '../../core/swarm-scripts.js';
import { PiswarmError } from '../../errors.js';
import { clearCardSecrets } from './card-secrets.js';
import type { NodeSession } from './node-session.js';

export interface SecureOptions {
  publicKey: string;
  /** Key-only credentials, to prove key login works before password login is turned off. */
  keyLogin: SshTarget;
  /** The password piswarm logged in with (the HypriotOS default unless given); undefined: none. */
  loginPassword?: SshTarget;
  keepPassword: boolean;
  lockPassword: boolean;
  /** Oldest Docker Engine with the swarm features piswarm uses (configs, secrets, node labels). */
  minDockerMajor: number;
}

/**
 * Makes one node safe to leave on the LAN, in an order that never locks anyone out: Docker
 * checked; the user's key installed and a fresh key-only login proven; only then the known
 * password replaced and password logins turned off; the secrets taken off the card's boot files;
 * the hostname set. Each change is added to `changes` as soon as it is made, so a run cut short
 * still says what it did.
 */
export async function secureNode(session: NodeSession, connector: SshConnector, options: SecureOptions, onStep: (step: string) => void, changes: string[]): Promise<void> {
  const { node, facts } = session;
  const major = Number(facts.docker?.split('.')[0]);
  if (!facts.docker) {
    throw new PiswarmError(`${node.hostname}: Docker is not installed or not running.`, {
      hint: 'HypriotOS ships it; elsewhere install it (curl -fsSL https://get.docker.com | sh), then run bootstrap again.',
    });
  }
  if (major < options.minDockerMajor) {
    throw new PiswarmError(`${node.hostname}: Docker ${facts.docker} is too old for piswarm (${options.minDockerMajor}.x or newer).`, { hint: 'Upgrade Docker on the node, then run bootstrap again.' });
  }

  onStep('installing your SSH key');
  if (await session.change('install the SSH key', installKeyScript(options.publicKey))) changes.push('key installed');
  onStep('checking key login');
  await loginWorks(connector, options.keyLogin).then((works) => {
    if (!works) {
      throw new PiswarmError(`${node.hostname}: logging in with the key failed after installing it; the password login was left as it was.`, {
        hint: 'Check that sshd allows public keys (PubkeyAuthentication yes) and that ~/.ssh on the node belongs to the user.',
      });
    }
  });

  if (!options.keepPassword) {
    // Skip the extra login when the password is what let this session in.
    if (options.loginPassword && (session.authMethod === 'password' || (await loginWorks(connector, options.loginPassword)))) {
      onStep(options.lockPassword ? 'locking the password' : 'replacing the password');
      // The new password is never shown or stored: logins are by key from now on.
      const input = options.lockPassword ? undefined : `${options.keyLogin.username}:${randomBytes(24).toString('base64url')}\n`;
      if (await session.change('replace the password', replacePasswordScript(options.keyLogin.username, options.lockPassword ? 'lock' : 'random'), input)) {
        changes.push(options.lockPassword ? 'password locked' : 'password replaced');
      }
    }
    onStep('turning off password logins');
    if (await session.change('turn off SSH password logins', disablePasswordLoginScript(options.keyLogin.username))) changes.push('password login off');
  }

  // Only now, with key login proven and the password replaced, are the card's copies of no more use.
  onStep("removing secrets from the card's boot files");
  changes.push(...(await clearCardSecrets(session, !options.keepPassword)));

  if (facts.hostname !== node.hostname) {
    onStep(`renaming ${facts.hostname} to ${node.hostname}`);
    if (await session.change('set the hostname', setHostnameScript(node.hostname))) changes.push(`hostname ${facts.hostname} → ${node.hostname}`);
  }
}

/** Whether a fresh connection with just these credentials logs in (host key checked as always). */
async function loginWorks(connector: SshConnector, target: SshTarget): Promise<boolean> {
  try {
    (await connector.connect(target)).close();
    return true;
  } catch (error) {
    if ((error as { cause?: { level?: string } }).cause?.level === 'client-authentication') return false;
    throw error;
  }
}
