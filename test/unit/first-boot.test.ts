import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { bootConfigFromUserData } from '../../cli/core/card-boot-config.js';
import type { CardSettings } from '../../cli/core/card-settings.js';
import { wifiPsk } from '../../cli/core/card-settings.js';
import { detectFirstBootFormat, renderFirstBoot, type BootFiles } from '../../cli/core/first-boot.js';
import { sha512Crypt } from '../../cli/core/sha512-crypt.js';

const HYPRIOT_USER_DATA = readFileSync(new URL('../fixtures/hypriot-user-data.yaml', import.meta.url), 'utf8');
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHq0sDbM1iD6pLr0L1dC8oVdHjgB2E8jVx6m7n1cI0Zr me@laptop';
const HOST_KEY = { type: 'ed25519' as const, privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n', publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOg' };

function boot(files: Record<string, string>): BootFiles {
  return { names: Object.keys(files), text: (name) => files[name] };
}

function settings(extra: Partial<CardSettings> = {}): CardSettings {
  return { hostname: 'manager-01', user: 'pirate', sshAuthorizedKeys: [KEY], hostKeys: [HOST_KEY], instanceId: 'piswarm-manager-01-1a2b3c4d', ...extra };
}

/** cloud-init's own schema check (Debian's cloud-init package). */
function cloudInitSchema(userData: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'piswarm-ud-')), 'user-data');
  writeFileSync(file, userData);
  return execFileSync('cloud-init', ['schema', '--config-file', file], { encoding: 'utf8' });
}

const files = (rendered: Array<{ name: string; content: string }>) => Object.fromEntries(rendered.map((f) => [f.name, f.content]));

describe('detectFirstBootFormat', () => {
  it.each([
    [{ 'config.txt': '', 'user-data': HYPRIOT_USER_DATA, 'meta-data': '' }, 'hypriot'],
    [{ 'config.txt': '', 'user-data': '#cloud-config\n', 'meta-data': '', 'network-config': '' }, 'nocloud'],
    [{ 'cmdline.txt': 'console=tty1 root=PARTUUID=1-02', 'issue.txt': 'Raspberry Pi reference 2024-11-19' }, 'firstrun'],
  ])('recognises %o as %s', (files, format) => {
    expect(detectFirstBootFormat(boot(files))).toBe(format);
  });

  it('refuses an image it does not know, naming what it found', () => {
    expect(() => detectFirstBootFormat(boot({ 'config.txt': '', 'kernel8.img': '' }))).toThrow('boot partition holds: config.txt, kernel8.img');
  });
});

describe('HypriotOS cards', () => {
  it('personalises the image user-data in place, keeping its comments and settings, and passes cloud-init schema', () => {
    const out = files(renderFirstBoot('hypriot', settings(), boot({ 'user-data': HYPRIOT_USER_DATA })));
    const userData = out['user-data']!;
    expect(userData.startsWith('#cloud-config\n')).toBe(true);
    expect(userData).toContain('# Set your hostname here');
    expect(cloudInitSchema(userData)).toContain('Valid cloud-config');
    const data = parse(userData);
    expect(data.hostname).toBe('manager-01');
    expect(data.manage_etc_hosts).toBe(true);
    expect(data.package_upgrade).toBe(false);
    expect(data.runcmd).toEqual(['systemctl restart avahi-daemon']);
    // Moved out of the user entry, where cloud-init's schema rejects them.
    expect(data.ssh_pwauth).toBe(true);
    expect(data.chpasswd).toEqual({ expire: false });
    expect(data.users).toHaveLength(1);
    expect(data.users[0]).toMatchObject({ name: 'pirate', gecos: 'Hypriot Pirate', groups: 'users,docker,video', ssh_authorized_keys: [KEY] });
    expect(data.ssh_keys).toEqual({ ed25519_private: HOST_KEY.privateKey, ed25519_public: HOST_KEY.publicKey });
    expect(out['meta-data']).toBe('instance-id: piswarm-manager-01-1a2b3c4d\nlocal-hostname: manager-01\n');
    expect(out['network-config']).toBeUndefined();
  });

  it("makes the image's own user the card's user: no pirate with the published password is left beside it", () => {
    const userData = files(renderFirstBoot('hypriot', settings({ user: 'lab' }), boot({ 'user-data': HYPRIOT_USER_DATA })))['user-data']!;
    expect(cloudInitSchema(userData)).toContain('Valid cloud-config');
    const data = parse(userData);
    expect(data.users).toHaveLength(1);
    expect(data.users[0]).toMatchObject({ name: 'lab', groups: 'users,docker,video', sudo: 'ALL=(ALL) NOPASSWD:ALL', ssh_authorized_keys: [KEY] });
    expect(data.users[0].gecos).toBeUndefined();
  });

  it('stores a new password only as a hash, and can lock it instead', () => {
    const hash = sha512Crypt('s3cret-pass');
    const hashed = parse(files(renderFirstBoot('hypriot', settings({ password: { hash } }), boot({ 'user-data': HYPRIOT_USER_DATA })))['user-data']!);
    expect(hashed.users[0]).toMatchObject({ passwd: hash, lock_passwd: false });
    expect(hashed.users[0].plain_text_passwd).toBeUndefined();
    const locked = files(renderFirstBoot('hypriot', settings({ password: { lock: true } }), boot({ 'user-data': HYPRIOT_USER_DATA })))['user-data']!;
    expect(parse(locked).users[0]).toMatchObject({ lock_passwd: true });
    expect(parse(locked).ssh_pwauth).toBe(false);
    expect(locked).not.toContain('hypriot\n');
    expect(cloudInitSchema(locked)).toContain('Valid cloud-config');
  });

  it('writes wifi as the derived PSK and a static address as network-config v1', () => {
    const psk = wifiPsk('Home "Net"', 'correct horse battery');
    const out = files(
      renderFirstBoot(
        'hypriot',
        settings({ wifi: { ssid: 'Home "Net"', psk, country: 'GB' }, network: { address: '192.168.1.20', prefixLength: 24, gateway: '192.168.1.1', dns: ['1.1.1.1'] } }),
        boot({ 'user-data': HYPRIOT_USER_DATA }),
      ),
    );
    expect(Object.values(out).join('\n')).not.toContain('correct horse battery');
    const data = parse(out['user-data']!);
    const wpa = data.write_files.find((f: { path: string }) => f.path === '/etc/wpa_supplicant/wpa_supplicant.conf');
    expect(wpa.content).toContain(`psk=${psk}`);
    expect(wpa.content).toContain(`ssid=${Buffer.from('Home "Net"').toString('hex')}`);
    expect(wpa.content).toContain('country=GB');
    expect(data.runcmd).toContain('ifup wlan0');
    expect(cloudInitSchema(out['user-data']!)).toContain('Valid cloud-config');
    expect(parse(out['network-config']!)).toEqual({
      version: 1,
      config: [{ type: 'physical', name: 'eth0', subnets: [{ type: 'static', address: '192.168.1.20/24', gateway: '192.168.1.1', dns_nameservers: ['1.1.1.1'] }] }],
    });
  });

  it('gives the lab what first boot would apply', () => {
    const hash = sha512Crypt('pw');
    const userData = files(renderFirstBoot('hypriot', settings({ password: { hash } }), boot({ 'user-data': HYPRIOT_USER_DATA })))['user-data']!;
    expect(bootConfigFromUserData(userData, 'card')).toEqual({
      hostname: 'manager-01',
      users: [{ name: 'pirate', passwordHash: hash, plainPassword: undefined, lockPassword: false, groups: ['users', 'docker', 'video'], sshAuthorizedKeys: [KEY], sudo: 'ALL=(ALL) NOPASSWD:ALL' }],
      sshHostKeys: [{ type: 'ed25519', privateKey: HOST_KEY.privateKey, publicKey: HOST_KEY.publicKey }],
      cardFiles: { 'user-data': userData },
    });
    expect(() => bootConfigFromUserData('#cloud-config\nusers: []\n', 'card.img')).toThrow('card.img: user-data sets no hostname');
  });
});

describe('cloud-init NoCloud cards (Ubuntu, Raspberry Pi OS Trixie)', () => {
  it('adds a user when the image has none and writes network-config v2 with the PSK', () => {
    const psk = wifiPsk('home', 'password123');
    const out = files(
      renderFirstBoot('nocloud', settings({ user: 'ops', wifi: { ssid: 'home', psk, country: 'DE' } }), boot({ 'user-data': '#cloud-config\n', 'meta-data': 'instance-id: fixed\n' })),
    );
    expect(cloudInitSchema(out['user-data']!)).toContain('Valid cloud-config');
    expect(parse(out['user-data']!).users[0]).toMatchObject({ name: 'ops', ssh_authorized_keys: [KEY] });
    expect(parse(out['network-config']!)).toEqual({
      network: {
        version: 2,
        ethernets: { eth0: { dhcp4: true, optional: true } },
        wifis: { wlan0: { dhcp4: true, optional: true, 'regulatory-domain': 'DE', 'access-points': { home: { password: psk } } } },
      },
    });
  });
});

describe('Raspberry Pi OS Bookworm cards (firstrun.sh)', () => {
  const bookworm = { 'cmdline.txt': 'console=serial0,115200 root=PARTUUID=abc-02 rootwait\n', 'issue.txt': 'Raspberry Pi reference 2024-11-19\n' };

  it('writes a valid firstrun.sh and starts it once from cmdline.txt', () => {
    const out = files(renderFirstBoot('firstrun', settings({ password: { hash: sha512Crypt('x') } }), boot(bookworm)));
    execFileSync('bash', ['-n'], { input: out['firstrun.sh'] });
    expect(out['firstrun.sh']).toContain("/usr/lib/userconf-pi/userconf pirate '$6$");
    expect(out['cmdline.txt']).toBe('console=serial0,115200 root=PARTUUID=abc-02 rootwait systemd.run=/boot/firmware/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target\n');
    const again = files(renderFirstBoot('firstrun', settings(), boot({ ...bookworm, 'cmdline.txt': out['cmdline.txt']! })));
    expect(again['cmdline.txt']!.match(/systemd\.run=/g)).toHaveLength(1);
  });

  it('refuses settings Bookworm cannot apply', () => {
    expect(() => renderFirstBoot('firstrun', settings({ sshAuthorizedKeys: [] }), boot(bookworm))).toThrow('no default user');
    expect(() => renderFirstBoot('firstrun', settings({ network: { address: '10.0.0.2', prefixLength: 24, gateway: '10.0.0.1', dns: [] } }), boot(bookworm))).toThrow('no static address');
  });
});
