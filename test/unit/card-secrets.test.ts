import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { hypriotDefaults } from '../../cli/core/boot-config.js';
import { wifiPsk, type CardSettings } from '../../cli/core/card-settings.js';
import { scrubCardFile } from '../../cli/core/card-secrets.js';
import { renderFirstBoot } from '../../cli/core/first-boot.js';
import { sha512Crypt } from '../../cli/core/sha512-crypt.js';

const HYPRIOT_USER_DATA = readFileSync(new URL('../fixtures/hypriot-user-data.yaml', import.meta.url), 'utf8');
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHq0sDbM1iD6pLr0L1dC8oVdHjgB2E8jVx6m7n1cI0Zr me@laptop';
const HOST_KEY = { type: 'ed25519' as const, privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n', publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOg' };
const PSK = wifiPsk('home', 'correct horse battery');
const HASH = sha512Crypt('n3w-Pa55word');

function card(format: 'hypriot' | 'nocloud', image: string): Record<string, string> {
  const settings: CardSettings = {
    hostname: 'worker-01',
    user: 'pirate',
    sshAuthorizedKeys: [KEY],
    hostKeys: [HOST_KEY],
    instanceId: 'piswarm-worker-01-1a2b3c4d',
    password: { hash: HASH },
    wifi: { ssid: 'home', psk: PSK, country: 'DE' },
  };
  const rendered = renderFirstBoot(format, settings, { names: ['user-data'], text: () => image });
  return Object.fromEntries(rendered.map((f) => [f.name, f.content]));
}

/** cloud-init's own schema check (Debian's cloud-init package): the scrubbed file is still valid. */
function cloudInitSchema(userData: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'piswarm-ud-')), 'user-data');
  writeFileSync(file, userData);
  return execFileSync('cloud-init', ['schema', '--config-file', file], { encoding: 'utf8' });
}

function expectNoSecrets(text: string): void {
  for (const secret of ['PRIVATE KEY', HASH, PSK, 'hypriot\n']) expect(text).not.toContain(secret);
}

describe('a card flashed by piswarm, cleared once the node has booted', () => {
  it('HypriotOS: host keys, password hash and wifi PSK leave user-data; the rest stays and passes cloud-init schema', () => {
    const before = card('hypriot', HYPRIOT_USER_DATA)['user-data']!;
    expect(before).toContain('PRIVATE KEY');
    expect(before).toContain(PSK);
    const { text, removed } = scrubCardFile('user-data', before, true);
    expect(removed).toEqual(['SSH host keys', 'passwords', 'wifi PSK', 'password login']);
    expectNoSecrets(text);
    expect(text.startsWith('#cloud-config\n# piswarm bootstrap removed the secrets')).toBe(true);
    expect(cloudInitSchema(text)).toContain('Valid cloud-config');
    const data = parse(text);
    // cloud-init run again would keep the host keys on disk, write no wifi file, turn on no password login.
    expect(data).toMatchObject({ hostname: 'worker-01', ssh_deletekeys: false, ssh_pwauth: false });
    expect(data.users[0]).toMatchObject({ name: 'pirate', ssh_authorized_keys: [KEY], lock_passwd: false });
    expect(data.users[0].passwd).toBeUndefined();
    expect(data.write_files.map((f: { path: string }) => f.path)).toEqual(['/etc/network/interfaces.d/wlan0']);
    // The image's own comments survive.
    expect(text).toContain('# These commands will be ran once on first boot only');
  });

  it('nocloud: the wifi access points leave network-config, the ethernet settings stay', () => {
    const files = card('nocloud', '#cloud-config\n');
    const { text, removed } = scrubCardFile('network-config', files['network-config']!, true);
    expect(removed).toEqual(['wifi PSK']);
    expect(text).not.toContain(PSK);
    expect(parse(text)).toEqual({ network: { version: 2, ethernets: { eth0: { dhcp4: true, optional: true } } } });
    expectNoSecrets(scrubCardFile('user-data', files['user-data']!, true).text);
  });

  it('keeps password login as the card has it when bootstrap kept the password (--keep-password)', () => {
    const { text, removed } = scrubCardFile('user-data', HYPRIOT_USER_DATA.replace('package_upgrade', 'ssh_pwauth: true\npackage_upgrade'), false);
    expect(removed).toEqual(['passwords']);
    expect(parse(text).ssh_pwauth).toBe(true);
  });
});

describe('user-data as people write it', () => {
  it.each([
    ['the lab default (HypriotOS as shipped)', hypriotDefaults('pi-01').cardFiles['user-data']!, ['passwords', 'password login']],
    ['a top-level password and chpasswd list', '#cloud-config\npassword: hypriot\nchpasswd:\n  expire: false\n  list: |\n    pirate:hypriot\n', ['passwords']],
    ['chpasswd users (cloud-init 22.2+)', '#cloud-config\nchpasswd:\n  users:\n    - {name: pirate, password: hypriot, type: text}\n', ['passwords']],
    ['hashed_passwd', '#cloud-config\nusers:\n  - default\n  - name: ops\n    hashed_passwd: "$6$abc$def"\n', ['passwords']],
    [
      'a base64 wpa_supplicant.conf',
      `#cloud-config\nwrite_files:\n  - path: /etc/wpa_supplicant/wpa_supplicant.conf\n    encoding: b64\n    content: ${Buffer.from(`network={\n  ssid="home"\n  psk=${PSK}\n}\n`).toString('base64')}\n  - path: /etc/motd\n    content: hello\n`,
      ['wifi PSK'],
    ],
  ])('%s: the secrets go, the file stays valid', (_name, userData, removed) => {
    const result = scrubCardFile('user-data', userData, true);
    expect(result.removed).toEqual(removed);
    expectNoSecrets(result.text);
    expect(result.text).not.toContain('$6$abc');
    expect(result.text).not.toContain(Buffer.from(`psk=${PSK}`).toString('base64').slice(0, 12));
    expect(cloudInitSchema(result.text)).toContain('Valid cloud-config');
    // A second clearing finds nothing: bootstrap run again changes nothing.
    expect(scrubCardFile('user-data', result.text, true)).toEqual({ text: result.text, removed: [] });
  });

  it.each([
    ['no secrets', '#cloud-config\nhostname: pi-01\nusers:\n  - name: pirate\n    ssh_authorized_keys: [ssh-ed25519 AAAA]\n'],
    ['not YAML piswarm can read', '#cloud-config\nhostname: [pi-01\n'],
    ['a shell script instead of cloud-config', '#!/bin/sh\necho hi\n'],
  ])('%s: left exactly as it is', (_name, userData) => {
    expect(scrubCardFile('user-data', userData, true)).toEqual({ text: userData, removed: [] });
  });
});
