import { isMap, isSeq, parseDocument, type Document, type YAMLMap } from 'yaml';
import { PiswarmError } from '../errors.js';
import type { CardSettings } from './card-settings.js';
import { DEFAULT_SSH_USER } from './inventory.js';
import { shq } from './shell-quote.js';

/**
 * How an OS configures itself on first boot, read from its boot partition:
 * - hypriot: HypriotOS, cloud-init 0.7.9 NoCloud (`user-data`, `meta-data`, `network-config` v1)
 * - nocloud: Ubuntu Server and Raspberry Pi OS Trixie, cloud-init NoCloud with `network-config` v2
 * - firstrun: Raspberry Pi OS Bookworm, `firstrun.sh` started from `cmdline.txt` (as Raspberry Pi Imager does)
 */
export type FirstBootFormat = 'hypriot' | 'nocloud' | 'firstrun';

export interface BootFiles {
  names: string[];
  text(name: string): string | undefined;
}

export function detectFirstBootFormat(boot: BootFiles): FirstBootFormat {
  const has = (name: string) => boot.names.some((n) => n.toLowerCase() === name);
  if (has('user-data') && /hypriot/i.test(boot.text('user-data') ?? '')) return 'hypriot';
  if (has('user-data') || has('meta-data') || has('network-config')) return 'nocloud';
  if (has('cmdline.txt') && /Raspberry Pi reference/i.test(boot.text('issue.txt') ?? '')) return 'firstrun';
  throw new PiswarmError(`piswarm does not know how this image configures itself on first boot (boot partition holds: ${boot.names.join(', ') || 'nothing'}).`, {
    hint: 'Supported: HypriotOS, Ubuntu Server and Raspberry Pi OS Trixie (cloud-init), Raspberry Pi OS Bookworm (firstrun.sh). Nothing was written to the card.',
  });
}

export interface RenderedFile {
  name: string;
  content: string;
}

/** The files to write onto the boot partition so the OS applies `settings` on first boot. */
export function renderFirstBoot(format: FirstBootFormat, settings: CardSettings, boot: BootFiles): RenderedFile[] {
  if (format === 'firstrun') return renderFirstRun(settings, boot);
  const files = [
    { name: 'user-data', content: renderUserData(format, settings, boot.text('user-data')) },
    { name: 'meta-data', content: `instance-id: ${settings.instanceId}\nlocal-hostname: ${settings.hostname}\n` },
  ];
  const network = format === 'hypriot' ? networkConfigV1(settings) : networkConfigV2(settings);
  if (network) files.push({ name: 'network-config', content: network });
  return files;
}

/** Edits the image's own user-data in place: what it sets survives unless an option overrides it. */
function renderUserData(format: FirstBootFormat, settings: CardSettings, existing: string | undefined): string {
  let doc = parseDocument(existing?.trim() ? existing : '{}');
  // A user-data that is not a mapping (empty, or only comments) is started afresh.
  if (!isMap(doc.contents)) doc = parseDocument('{}');
  doc.set('hostname', settings.hostname);
  doc.set('manage_etc_hosts', true);
  setUser(doc, settings);
  if (settings.hostKeys.length > 0) {
    doc.set('ssh_keys', Object.fromEntries(settings.hostKeys.flatMap((k) => [[`${k.type}_private`, k.privateKey], [`${k.type}_public`, k.publicKey]])));
  }
  // cloud-init 0.7.9's network-config v1 has no wifi; newer images take it in network-config v2.
  if (settings.wifi && format === 'hypriot') addHypriotWifi(doc, settings.wifi);
  const body = doc.toString({ lineWidth: 0 });
  return body.startsWith('#cloud-config') ? body : `#cloud-config\n${body}`;
}

function setUser(doc: Document, settings: CardSettings): void {
  let users = doc.get('users', true);
  if (!isSeq(users)) {
    users = doc.createNode([]);
    doc.set('users', users);
  }
  const list = users as unknown as { items: unknown[] };
  const named = (name: string) => list.items.find((item) => isMap(item) && item.get('name') === name) as YAMLMap | undefined;
  let user = named(settings.user);
  // The image's own user (HypriotOS: pirate, password hypriot) becomes the card's: left beside it,
  // it would be a second login with the image's published password.
  const shipped = user ? undefined : named(DEFAULT_SSH_USER);
  if (shipped) {
    shipped.set('name', settings.user);
    shipped.delete('gecos');
    user = shipped;
  }
  if (!user) {
    user = doc.createNode({ name: settings.user, shell: '/bin/bash', groups: 'users,docker,video', sudo: 'ALL=(ALL) NOPASSWD:ALL' }) as YAMLMap;
    list.items.unshift(user);
  }
  // HypriotOS puts these under its user, where cloud-init ignores them and its schema rejects
  // them; they are top-level settings, which is what the image meant.
  for (const key of ['ssh_pwauth', 'chpasswd']) {
    if (user.has(key) && !doc.has(key)) doc.set(key, user.get(key));
    user.delete(key);
  }
  if (settings.password) {
    user.delete('plain_text_passwd');
    if ('hash' in settings.password) {
      user.set('passwd', settings.password.hash);
      user.set('lock_passwd', false);
    } else {
      user.delete('passwd');
      user.set('lock_passwd', true);
      doc.set('ssh_pwauth', false);
    }
  }
  if (settings.sshAuthorizedKeys.length > 0) {
    const current = (user.toJSON() as { ssh_authorized_keys?: string[] }).ssh_authorized_keys ?? [];
    user.set('ssh_authorized_keys', [...new Set([...current, ...settings.sshAuthorizedKeys])]);
  }
}

/** HypriotOS brings wlan0 up through ifupdown and wpa_supplicant, as its own user-data shows. */
function addHypriotWifi(doc: Document, wifi: NonNullable<CardSettings['wifi']>): void {
  const files = (doc.toJS() as { write_files?: unknown[] }).write_files ?? [];
  const runcmd = (doc.toJS() as { runcmd?: unknown[] }).runcmd ?? [];
  doc.set('write_files', [
    ...files,
    { path: '/etc/network/interfaces.d/wlan0', content: 'allow-hotplug wlan0\niface wlan0 inet dhcp\nwpa-conf /etc/wpa_supplicant/wpa_supplicant.conf\niface default inet dhcp\n' },
    { path: '/etc/wpa_supplicant/wpa_supplicant.conf', permissions: '0600', content: wpaSupplicantConf(wifi) },
  ]);
  doc.set('runcmd', [...runcmd, 'ifup wlan0']);
}

function wpaSupplicantConf(wifi: NonNullable<CardSettings['wifi']>): string {
  // ssid as hex (P"..." is not in old wpa_supplicant): any byte, quote or backslash is safe.
  return [
    `country=${wifi.country}`,
    'ctrl_interface=DIR=/var/run/wpa_supplicant GROUP=netdev',
    'update_config=1',
    'network={',
    `  ssid=${Buffer.from(wifi.ssid, 'utf8').toString('hex')}`,
    `  psk=${wifi.psk}`,
    '  key_mgmt=WPA-PSK',
    '}',
    '',
  ].join('\n');
}

function networkConfigV1(settings: CardSettings): string | undefined {
  const net = settings.network;
  if (!net) return undefined;
  const doc = {
    version: 1,
    config: [
      {
        type: 'physical',
        name: 'eth0',
        subnets: [{ type: 'static', address: `${net.address}/${net.prefixLength}`, gateway: net.gateway, dns_nameservers: net.dns }],
      },
    ],
  };
  return parseDocument(JSON.stringify(doc)).toString();
}

function networkConfigV2(settings: CardSettings): string | undefined {
  const { network: net, wifi } = settings;
  if (!net && !wifi) return undefined;
  const addressing = net
    ? { dhcp4: false, addresses: [`${net.address}/${net.prefixLength}`], routes: [{ to: 'default', via: net.gateway }], nameservers: { addresses: net.dns } }
    : { dhcp4: true };
  const doc: Record<string, unknown> = { version: 2, ethernets: { eth0: { ...addressing, optional: true } } };
  if (wifi) {
    doc.wifis = { wlan0: { dhcp4: true, optional: true, 'regulatory-domain': wifi.country, 'access-points': { [wifi.ssid]: { password: wifi.psk } } } };
  }
  return parseDocument(JSON.stringify({ network: doc })).toString();
}

const FIRSTRUN_CMDLINE = ' systemd.run=/boot/firmware/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target';

/** Raspberry Pi OS Bookworm: the script Raspberry Pi Imager writes, run once by systemd from cmdline.txt. */
function renderFirstRun(settings: CardSettings, boot: BootFiles): RenderedFile[] {
  const cmdline = (boot.text('cmdline.txt') ?? '').trim().replace(/ systemd\.run.*$/, '');
  if (settings.network) {
    throw new PiswarmError('Raspberry Pi OS Bookworm images take no static address at first boot (NetworkManager).', {
      hint: 'Leave out --ip and reserve the address on your router, or use a cloud-init image (Trixie, Ubuntu, HypriotOS).',
    });
  }
  if (!settings.password && settings.sshAuthorizedKeys.length === 0) {
    throw new PiswarmError('Raspberry Pi OS Bookworm has no default user: give --ssh-key or --password, or nobody can log in.');
  }
  const hash = settings.password && 'hash' in settings.password ? settings.password.hash : '!';
  const host = shq(settings.hostname);
  const lines = [
    '#!/bin/bash',
    'set +e',
    `CURRENT_HOSTNAME=$(tr -d ' \\t\\n\\r' < /etc/hostname)`,
    `echo ${host} > /etc/hostname`,
    `sed -i "s/127.0.1.1.*$CURRENT_HOSTNAME/127.0.1.1\\t"${host}"/g" /etc/hosts`,
    `/usr/lib/userconf-pi/userconf ${shq(settings.user)} ${shq(hash)}`,
    `HOME_DIR=$(getent passwd ${shq(settings.user)} | cut -d: -f6)`,
  ];
  if (settings.sshAuthorizedKeys.length > 0) {
    lines.push(
      `install -o ${shq(settings.user)} -m 700 -d "$HOME_DIR/.ssh"`,
      `printf '%s\\n' ${settings.sshAuthorizedKeys.map(shq).join(' ')} > "$HOME_DIR/.ssh/authorized_keys"`,
      `chown ${shq(settings.user)}: "$HOME_DIR/.ssh/authorized_keys" && chmod 600 "$HOME_DIR/.ssh/authorized_keys"`,
    );
  }
  for (const key of settings.hostKeys) {
    const file = `/etc/ssh/ssh_host_${key.type}_key`;
    lines.push(`printf '%s\\n' ${shq(key.privateKey.trim())} > ${file}`, `chmod 600 ${file}`, `printf '%s\\n' ${shq(key.publicKey)} > ${file}.pub`);
  }
  if (settings.password && 'lock' in settings.password) lines.push(`passwd -l ${shq(settings.user)}`);
  lines.push('systemctl enable ssh');
  if (settings.wifi) {
    lines.push(`/usr/lib/raspberrypi-sys-mods/imager_custom set_wlan -h ${shq(settings.wifi.ssid)} ${shq(settings.wifi.psk)} ${shq(settings.wifi.country)}`);
  }
  lines.push('rm -f /boot/firmware/firstrun.sh', "sed -i 's| systemd.run.*||g' /boot/firmware/cmdline.txt", 'exit 0', '');
  return [
    { name: 'firstrun.sh', content: lines.join('\n') },
    { name: 'cmdline.txt', content: `${cmdline}${FIRSTRUN_CMDLINE}\n` },
  ];
}
