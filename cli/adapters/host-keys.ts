import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';

/**
 * A new ed25519 SSH host key pair in OpenSSH format, for a card to use from its first boot.
 * Written here from node:crypto's raw key: ssh2's generator drops a leading zero byte of the
 * public key (1 key in 256), giving a key that sshd refuses to load.
 */
export function generateHostKey(hostname: string): Ed25519KeyPair {
  return generateEd25519Key(`root@${hostname}`);
}

export interface Ed25519KeyPair {
  type: 'ed25519';
  privateKey: string;
  publicKey: string;
}

/** PKCS#8 DER of an ed25519 private key, up to its 32-byte seed (RFC 8410). */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * A new ed25519 key pair: OpenSSH private key text and a public key line ending in `comment`.
 * Made from a random seed rather than generateKeyPairSync: on Node 20, exporting a generated key
 * can deadlock when garbage collection frees its generation job during the export (seen here: a
 * test run hung for good; a loop of 300,000 keys hung in 3 runs of 4).
 */
export function generateEd25519Key(comment: string): Ed25519KeyPair {
  const seed = randomBytes(32);
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const pub = spki.subarray(spki.length - 32);
  const type = Buffer.from('ssh-ed25519');
  const publicBlob = Buffer.concat([sshString(type), sshString(pub)]);
  const check = randomBytes(4);
  let section = Buffer.concat([check, check, sshString(type), sshString(pub), sshString(Buffer.concat([seed, pub])), sshString(Buffer.from(comment))]);
  // Padded with 1, 2, 3… to the cipher block size (8 for "none").
  const padding = Array.from({ length: (8 - (section.length % 8)) % 8 }, (_, i) => i + 1);
  section = Buffer.concat([section, Buffer.from(padding)]);
  const none = sshString(Buffer.from('none'));
  const body = Buffer.concat([Buffer.from('openssh-key-v1\0'), none, none, sshString(Buffer.alloc(0)), uint32(1), sshString(publicBlob), sshString(section)]);
  const lines = body.toString('base64').match(/.{1,70}/g)!;
  return {
    type: 'ed25519',
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`,
    publicKey: `ssh-ed25519 ${publicBlob.toString('base64')} ${comment}`,
  };
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function sshString(data: Buffer): Buffer {
  return Buffer.concat([uint32(data.length), data]);
}
