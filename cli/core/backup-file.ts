import { createCipheriv, createDecipheriv, randomBytes, scrypt, type ScryptOptions } from 'node:crypto';
import { PiswarmError } from '../errors.js';
import type { BackupContent } from './backup-content.js';

/**
 * A backup file: a magic line, a JSON header line (how the key is derived, the IV, the length of
 * what follows), then the content encrypted with AES-256-GCM under a key derived from the
 * passphrase by scrypt. The header is authenticated too, so nothing in the file can be changed
 * unnoticed; the stored length tells a truncated file from a wrong passphrase.
 */

const MAGIC = 'piswarm-backup v1\n';
const TAG_BYTES = 16;
/** scrypt at 2^15 (about 0.1 s and 32 MiB): slow enough against guessing, quick enough on a Pi. */
const KDF = { N: 32768, r: 8, p: 1 } as const;
const MIN_PASSPHRASE = 8;

interface Header {
  kdf: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
  cipher: 'aes-256-gcm';
  iv: string;
  length: number;
}

/** A backup that cannot be read: which file, and what to do. */
export class BackupFileError extends PiswarmError {}

export async function sealBackup(content: BackupContent, passphrase: string): Promise<Buffer> {
  checkPassphrase(passphrase);
  const plain = Buffer.from(JSON.stringify(content), 'utf8');
  const header: Header = { kdf: 'scrypt', ...KDF, salt: randomBytes(16).toString('base64'), cipher: 'aes-256-gcm', iv: randomBytes(12).toString('base64'), length: plain.length };
  const headerLine = Buffer.from(`${MAGIC}${JSON.stringify(header)}\n`, 'utf8');
  const cipher = createCipheriv('aes-256-gcm', await deriveKey(passphrase, header), Buffer.from(header.iv, 'base64'));
  cipher.setAAD(headerLine);
  return Buffer.concat([headerLine, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}

/** The content of a backup file's bytes; `file` names it in errors. */
export async function openBackup(bytes: Buffer, passphrase: string, file: string): Promise<BackupContent> {
  const { header, headerLine, body } = readHeader(bytes, file);
  const expected = header.length + TAG_BYTES;
  if (body.length < expected) {
    throw new BackupFileError(`${file} is truncated: ${body.length} of its ${expected} encrypted bytes are there.`, { hint: 'Copy the whole file again from where the backup was made; nothing was restored.' });
  }
  if (body.length > expected) throw new BackupFileError(`${file} has ${body.length - expected} bytes more than its header says.`, { hint: 'It was changed or appended to after the backup; use an untouched copy.' });
  const decipher = createDecipheriv('aes-256-gcm', await deriveKey(passphrase, header), Buffer.from(header.iv, 'base64'));
  decipher.setAAD(headerLine);
  decipher.setAuthTag(body.subarray(header.length));
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(body.subarray(0, header.length)), decipher.final()]);
  } catch {
    throw new BackupFileError(`Can't decrypt ${file}: the passphrase is wrong, or the file was changed.`, { hint: 'Give the passphrase the backup was made with (prompted, --passphrase-stdin or PISWARM_BACKUP_PASSPHRASE).' });
  }
  const content = JSON.parse(plain.toString('utf8')) as BackupContent;
  if (content.format !== 'piswarm-backup' || content.version !== 1) throw new BackupFileError(`${file} holds a backup format this piswarm does not know (${content.format} ${content.version}).`, { hint: 'Restore it with the piswarm version that made it.' });
  return content;
}

export function checkPassphrase(passphrase: string): void {
  if (passphrase.length < MIN_PASSPHRASE) {
    throw new BackupFileError(`The backup passphrase is ${passphrase.length === 0 ? 'empty' : `shorter than ${MIN_PASSPHRASE} characters`}.`, { hint: 'Choose a longer one; without it the backup cannot be restored, so keep it somewhere safe.' });
  }
}

function readHeader(bytes: Buffer, file: string): { header: Header; headerLine: Buffer; body: Buffer } {
  const notOurs = () => new BackupFileError(`${file} is not a piswarm backup (it does not start with "${MAGIC.trim()}").`, { hint: 'Name a file written by `piswarm backup --output FILE`.' });
  if (!bytes.subarray(0, MAGIC.length).equals(Buffer.from(MAGIC))) {
    if (bytes.length < MAGIC.length && Buffer.from(MAGIC).subarray(0, bytes.length).equals(bytes)) throw truncatedHeader(file);
    throw notOurs();
  }
  const end = bytes.indexOf(0x0a, MAGIC.length);
  if (end < 0) throw truncatedHeader(file);
  const headerLine = bytes.subarray(0, end + 1);
  let header: Header;
  try {
    header = JSON.parse(bytes.subarray(MAGIC.length, end).toString('utf8')) as Header;
  } catch {
    throw notOurs();
  }
  if (header.kdf !== 'scrypt' || header.cipher !== 'aes-256-gcm' || !Number.isInteger(header.length) || header.N > 2 ** 20) throw notOurs();
  return { header, headerLine, body: bytes.subarray(end + 1) };
}

function truncatedHeader(file: string): BackupFileError {
  return new BackupFileError(`${file} is truncated: it ends inside its header.`, { hint: 'Copy the whole file again from where the backup was made; nothing was restored.' });
}

function deriveKey(passphrase: string, header: Header): Promise<Buffer> {
  const options: ScryptOptions = { N: header.N, r: header.r, p: header.p, maxmem: 256 * header.N * header.r };
  return new Promise((resolve, reject) => scrypt(passphrase.normalize('NFC'), Buffer.from(header.salt, 'base64'), 32, options, (error, key) => (error ? reject(error) : resolve(key))));
}
