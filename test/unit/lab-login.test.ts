import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatLabStatus } from '../../cli/commands/lab/status.js';
import { bootLogin, hypriotDefaults } from '../../cli/core/boot-config.js';
import { bootConfigFromUserData } from '../../cli/core/card-boot-config.js';
import type { LabNodeStatus, LabStatus } from '../../cli/services/lab/lab-status.js';

const HYPRIOT_USER_DATA = readFileSync(new URL('../fixtures/hypriot-user-data.yaml', import.meta.url), 'utf8');

describe('how a lab node is logged in to', () => {
  it.each([
    ['the lab default', hypriotDefaults('pi-01'), { user: 'pirate', auth: 'default-password' }],
    ["HypriotOS's own user-data", bootConfigFromUserData(HYPRIOT_USER_DATA, 'card'), { user: 'pirate', auth: 'default-password' }],
    ['a card user with a hashed password', bootConfigFromUserData('hostname: a\nusers:\n  - name: lab\n    passwd: $6$x$y\n', 'card'), { user: 'lab', auth: 'password' }],
    ['a card user with plain_text_passwd', bootConfigFromUserData('hostname: a\nusers:\n  - name: lab\n    plain_text_passwd: s3cret\n', 'card'), { user: 'lab', auth: 'password' }],
    ['a locked password', bootConfigFromUserData('hostname: a\nusers:\n  - name: lab\n    plain_text_passwd: hypriot\n    lock_passwd: true\n', 'card'), { user: 'lab', auth: 'key' }],
    ['keys only', bootConfigFromUserData('hostname: a\nusers:\n  - default\n  - name: ops\n    ssh_authorized_keys: [ssh-ed25519 AAAA k]\n', 'card'), { user: 'ops', auth: 'key' }],
  ])('%s', (_what, boot, login) => {
    expect(bootLogin(boot)).toEqual(login);
  });

  const node = (name: string, ip: string, login: LabNodeStatus['login']): LabNodeStatus => ({ name, ip, mac: 'b8:27:eb:00:00:01', netns: name, sshd: 'running', dockerd: 'running', login });
  const status = (nodes: LabNodeStatus[]): LabStatus => ({ name: 'cards', subnet: '10.81.0.0/24', bridge: 'cardsbr0', gateway: '10.81.0.1', registry: { address: '10.81.0.1:5000', state: 'running' }, armEmulation: true, nodes });

  it("names each card's user in the login lines, and prints no password but HypriotOS's published one", () => {
    const text = formatLabStatus(
      status([
        node('manager-01', '10.81.0.11', { user: 'lab', auth: 'password' }),
        node('worker-01', '10.81.0.12', { user: 'lab', auth: 'password' }),
        node('worker-02', '10.81.0.13', { user: 'ops', auth: 'key' }),
      ]),
    );
    expect(text).toContain("Log in with: ssh lab@10.81.0.11  (the card's password)");
    expect(text).toContain('Log in with: ssh ops@10.81.0.13  (an SSH key the card authorises)');
    expect(text).not.toContain('pirate');
    expect(text).not.toContain('hypriot');
    expect(formatLabStatus(status([node('pi-01', '10.77.0.11', { user: 'pirate', auth: 'default-password' })]))).toContain(
      'Log in with: ssh pirate@10.77.0.11  (password hypriot, until piswarm bootstrap puts your SSH key in and the password out)',
    );
  });
});
