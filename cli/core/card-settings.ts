import { pbkdf2Sync } from 'node:crypto';
import { UsageError } from '../errors.js';
import { HOSTNAME_PATTERN } from './inventory-schema.js';

/** What a user asks to be written onto a card, already validated; secrets already derived. */
export interface CardSettings {
  hostname: string;
  user: string;
  sshAuthorizedKeys: string[];
  /** A "$6$" hash, `{ lock: true }`, or absent to keep what the image sets. */
  password?: { hash: string } | { lock: true };
  wifi?: { ssid: string; psk: string; country: string };
  network?: { address: string; prefixLength: number; gateway: string; dns: string[] };
  hostKeys: Array<{ type: 'ed25519'; privateKey: string; publicKey: string }>;
  instanceId: string;
}

export function validateHostname(name: string): string {
  if (!HOSTNAME_PATTERN.test(name)) {
    throw new UsageError(`"${name}" is not a valid hostname.`, 'Use letters, digits and "-" (not first or last), at most 63, e.g. worker-01.');
  }
  return name.toLowerCase();
}

const USER_PATTERN = /^[a-z_][a-z0-9_-]{0,31}$/;

export function validateUsername(name: string): string {
  if (!USER_PATTERN.test(name)) {
    throw new UsageError(`"${name}" is not a valid user name.`, 'Use lower-case letters, digits, "_" and "-", starting with a letter, at most 32.');
  }
  return name;
}

const KEY_TYPES = ['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com'];

/** The public key lines of an authorized_keys-style file; each must be a well-formed OpenSSH key. */
export function parseAuthorizedKeys(text: string, source: string): string[] {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  if (lines.length === 0) throw new UsageError(`${source} holds no SSH public key.`, 'Give the .pub file, e.g. --ssh-key ~/.ssh/id_ed25519.pub.');
  for (const line of lines) {
    const [type, data] = line.split(/\s+/);
    const blob = Buffer.from(data ?? '', 'base64');
    const embedded = blob.length > 4 ? blob.subarray(4, 4 + blob.readUInt32BE(0)).toString('latin1') : '';
    if (!KEY_TYPES.includes(type!) || embedded !== type) {
      throw new UsageError(`${source} is not an OpenSSH public key ("${line.slice(0, 30)}…").`, 'Give the .pub file, e.g. --ssh-key ~/.ssh/id_ed25519.pub (not the private key).');
    }
  }
  return lines;
}

/**
 * WPA2 pre-shared key (PBKDF2-HMAC-SHA1, 4096 rounds, salted with the SSID), so the passphrase
 * itself is never written to the card. A 64-hex-digit key is taken as already derived.
 */
export function wifiPsk(ssid: string, passphrase: string): string {
  const ssidBytes = Buffer.byteLength(ssid, 'utf8');
  if (ssidBytes < 1 || ssidBytes > 32 || /[\x00-\x1f]/.test(ssid)) {
    throw new UsageError(`The wifi SSID must be 1 to 32 bytes without control characters (got ${ssidBytes} bytes).`);
  }
  if (/^[0-9a-fA-F]{64}$/.test(passphrase)) return passphrase.toLowerCase();
  if (!/^[\x20-\x7e]{8,63}$/.test(passphrase)) {
    throw new UsageError('The wifi password must be 8 to 63 printable ASCII characters (or a 64-hex-digit PSK).', 'WPA2 allows no other.');
  }
  return pbkdf2Sync(passphrase, ssid, 4096, 32, 'sha1').toString('hex');
}

export function validateCountry(code: string): string {
  if (!/^[A-Za-z]{2}$/.test(code)) throw new UsageError(`"${code}" is not a two-letter country code.`, 'Use the ISO 3166 code, e.g. --wifi-country GB.');
  return code.toUpperCase();
}

const IPV4 = /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$/;

export function parseStaticAddress(cidr: string, gateway: string | undefined, dns: string[]): NonNullable<CardSettings['network']> {
  const [address, prefix] = cidr.split('/');
  const prefixLength = Number(prefix);
  if (!IPV4.test(address ?? '') || !Number.isInteger(prefixLength) || prefixLength < 1 || prefixLength > 32) {
    throw new UsageError(`--ip "${cidr}" is not an IPv4 address with a prefix length.`, 'Write it like 192.168.1.20/24.');
  }
  if (!gateway || !IPV4.test(gateway)) throw new UsageError('--ip needs --gateway with an IPv4 address, e.g. --gateway 192.168.1.1.');
  for (const server of dns) if (!IPV4.test(server)) throw new UsageError(`--dns "${server}" is not an IPv4 address.`);
  return { address: address!, prefixLength, gateway, dns: dns.length > 0 ? dns : [gateway] };
}
