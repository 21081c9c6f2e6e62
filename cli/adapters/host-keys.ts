import ssh2 from 'ssh2';

/** A new ed25519 SSH host key pair in OpenSSH format, for a card to use from its first boot. */
export function generateHostKey(hostname: string): { type: 'ed25519'; privateKey: string; publicKey: string } {
  const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment: `root@${hostname}` });
  return { type: 'ed25519', privateKey: pair.private, publicKey: pair.public.trim() };
}
