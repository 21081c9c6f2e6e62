import { createHash, randomBytes } from 'node:crypto';

/**
 * SHA-512 crypt ("$6$", Ulrich Drepper's specification), the password hash Linux's shadow file
 * and cloud-init's `passwd` use. Node has no crypt(3), and the card must never hold plain text.
 */
const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ROUNDS = 5000;

export function sha512Crypt(password: string, salt = randomSalt()): string {
  const p = Buffer.from(password, 'utf8');
  const s = Buffer.from(salt.slice(0, 16), 'utf8');
  const sha = () => createHash('sha512');

  const b = sha().update(p).update(s).update(p).digest();
  const a = sha().update(p).update(s).update(repeatTo(b, p.length));
  for (let n = p.length; n > 0; n >>= 1) a.update(n & 1 ? b : p);
  let c = a.digest();

  const dp = sha();
  for (let i = 0; i < p.length; i++) dp.update(p);
  const pBytes = repeatTo(dp.digest(), p.length);
  const ds = sha();
  for (let i = 0; i < 16 + c[0]!; i++) ds.update(s);
  const sBytes = repeatTo(ds.digest(), s.length);

  for (let i = 0; i < ROUNDS; i++) {
    const round = sha();
    round.update(i & 1 ? pBytes : c);
    if (i % 3) round.update(sBytes);
    if (i % 7) round.update(pBytes);
    round.update(i & 1 ? c : pBytes);
    c = round.digest();
  }
  return `$6$${s.toString('utf8')}$${encode(c)}`;
}

function randomSalt(): string {
  return [...randomBytes(16)].map((byte) => ITOA64[byte & 0x3f]).join('');
}

function repeatTo(block: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += block.length) block.copy(out, i, 0, Math.min(block.length, length - i));
  return out;
}

/** The specification's byte order: 21 groups of three bytes, then the last byte alone. */
const ORDER = [
  [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48],
  [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13],
  [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41],
] as const;

function encode(digest: Buffer): string {
  let out = '';
  const put = (value: number, chars: number) => {
    for (let i = 0; i < chars; i++, value >>= 6) out += ITOA64[value & 0x3f];
  };
  for (const [x, y, z] of ORDER) put((digest[x]! << 16) | (digest[y]! << 8) | digest[z]!, 4);
  put(digest[63]!, 2);
  return out;
}
