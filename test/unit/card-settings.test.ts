import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseAuthorizedKeys, parseStaticAddress, validateHostname, validateUsername, wifiPsk } from '../../cli/core/card-settings.js';
import { sha512Crypt } from '../../cli/core/sha512-crypt.js';
import { UsageError } from '../../cli/errors.js';

describe('sha512Crypt', () => {
  it.each([
    ['hypriot', 'saltsalt'],
    ['a', 'x'],
    ['a much longer password with spaces and ünïcödé', 'abcdefghijklmnop'],
    ['p'.repeat(100), 'Zz09./'],
  ])('matches openssl passwd -6 for %j', (password, salt) => {
    const expected = execFileSync('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], { input: password, encoding: 'utf8' }).trim();
    expect(sha512Crypt(password, salt)).toBe(expected);
  });

  it('uses a fresh random salt each time', () => {
    expect(sha512Crypt('x')).not.toBe(sha512Crypt('x'));
    expect(sha512Crypt('x')).toMatch(/^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
  });
});

describe('wifiPsk', () => {
  it('derives the WPA2 PSK (IEEE 802.11i test vector)', () => {
    expect(wifiPsk('IEEE', 'password')).toBe('f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e');
  });

  it('keeps a 64-hex-digit key as it is', () => {
    expect(wifiPsk('home', 'A'.repeat(64))).toBe('a'.repeat(64));
  });

  it.each([
    ['home', 'short', 'must be 8 to 63'],
    ['home', 'x'.repeat(64), 'must be 8 to 63'],
    ['home', 'pässwörd123', 'printable ASCII'],
    ['x'.repeat(33), 'password', '1 to 32 bytes'],
    ['', 'password', '1 to 32 bytes'],
  ])('rejects ssid %j / password %j', (ssid, pass, message) => {
    expect(() => wifiPsk(ssid, pass)).toThrow(message);
  });

  it('accepts quotes, backslashes and a leading dash, which the YAML writer escapes', () => {
    expect(wifiPsk(`-my "home" \\ net`, `-pa"ss\\word'`)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('validation', () => {
  it.each(['worker-01', 'A1', 'x'.repeat(63)])('accepts hostname %s', (name) => expect(validateHostname(name)).toBe(name.toLowerCase()));
  it.each(['-bad', 'bad-', 'has_underscore', 'a.b', 'x'.repeat(64), ''])('rejects hostname %j', (name) => expect(() => validateHostname(name)).toThrow(UsageError));
  it.each(['a;rm -rf /', '$(id)', 'Root', '1abc', 'x'.repeat(33)])('rejects user name %j', (name) => expect(() => validateUsername(name)).toThrow(UsageError));

  it('accepts OpenSSH public keys and rejects anything else', () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHq0sDbM1iD6pLr0L1dC8oVdHjgB2E8jVx6m7n1cI0Zr me@laptop';
    expect(parseAuthorizedKeys(`# mine\n${key}\n`, 'k.pub')).toEqual([key]);
    expect(() => parseAuthorizedKeys('-----BEGIN OPENSSH PRIVATE KEY-----\nabc', 'id_ed25519')).toThrow('not an OpenSSH public key');
    expect(() => parseAuthorizedKeys('ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIHq0', 'k.pub')).toThrow('not an OpenSSH public key');
    expect(() => parseAuthorizedKeys('\n', 'empty.pub')).toThrow('holds no SSH public key');
  });

  it('parses a static address with gateway and DNS', () => {
    expect(parseStaticAddress('192.168.1.20/24', '192.168.1.1', [])).toEqual({ address: '192.168.1.20', prefixLength: 24, gateway: '192.168.1.1', dns: ['192.168.1.1'] });
    expect(() => parseStaticAddress('192.168.1.20', '192.168.1.1', [])).toThrow('prefix length');
    expect(() => parseStaticAddress('192.168.1.20/24', undefined, [])).toThrow('needs --gateway');
    expect(() => parseStaticAddress('192.168.1.20/24', '192.168.1.1', ['dns.example'])).toThrow('not an IPv4');
  });
});
