/**
 * What a node applies on first boot: the subset of cloud-init `user-data` the lab understands.
 * The lab boots default HypriotOS nodes from `hypriotDefaults`; a flashed card's user-data is
 * turned into the same shape (the extension point for `lab up --card`).
 */
export interface BootUser {
  name: string;
  /** A crypt(3) hash, as cloud-init's `passwd`; plain text never reaches a node's disk. */
  passwordHash?: string;
  plainPassword?: string;
  lockPassword?: boolean;
  groups: string[];
  sshAuthorizedKeys: string[];
  /** A sudoers rule, as cloud-init's `sudo` key, e.g. "ALL=(ALL) NOPASSWD:ALL". */
  sudo?: string;
}

export interface BootConfig {
  hostname: string;
  users: BootUser[];
  /** Host keys to install instead of generating new ones (flash pins them in the inventory). */
  sshHostKeys?: Array<{ type: string; privateKey: string; publicKey: string }>;
  /** The card's first-boot files (user-data, meta-data, network-config), as its boot partition holds them. */
  cardFiles: Record<string, string>;
}

/** HypriotOS's published default: what a freshly flashed card accepts for user `pirate`. */
export const HYPRIOT_DEFAULT_PASSWORD = 'hypriot';

/** A fresh HypriotOS card: user pirate / hypriot in group docker, passwordless sudo, password login on. */
export function hypriotDefaults(hostname: string): BootConfig {
  return {
    hostname,
    users: [{ name: 'pirate', plainPassword: HYPRIOT_DEFAULT_PASSWORD, groups: ['docker', 'sudo'], sshAuthorizedKeys: [], sudo: 'ALL=(ALL) NOPASSWD:ALL' }],
    cardFiles: { 'user-data': hypriotUserData(hostname), 'meta-data': `instance-id: ${hostname}\nlocal-hostname: ${hostname}\n` },
  };
}

/** The user-data a HypriotOS card ships with (its password in plain text, as the image has it). */
export function hypriotUserData(hostname: string): string {
  return [
    '#cloud-config',
    `hostname: ${hostname}`,
    'manage_etc_hosts: true',
    'users:',
    '  - name: pirate',
    '    gecos: "Hypriot Pirate"',
    '    sudo: ALL=(ALL) NOPASSWD:ALL',
    '    shell: /bin/bash',
    '    groups: users,docker,video',
    `    plain_text_passwd: ${HYPRIOT_DEFAULT_PASSWORD}`,
    '    lock_passwd: false',
    'ssh_pwauth: true',
    'package_upgrade: false',
    '',
  ].join('\n');
}

/** How a person logs in to a node as booted: its first user, and with what. */
export interface BootLogin {
  user: string;
  /** 'default-password': HypriotOS's published one, safe to print; 'password': the card's own (never printed). */
  auth: 'default-password' | 'password' | 'key';
}

export function bootLogin(boot: BootConfig): BootLogin | undefined {
  const user = boot.users[0];
  if (!user) return undefined;
  const usable = !user.lockPassword;
  if (usable && user.plainPassword === HYPRIOT_DEFAULT_PASSWORD) return { user: user.name, auth: 'default-password' };
  return { user: user.name, auth: usable && (user.passwordHash || user.plainPassword) ? 'password' : 'key' };
}
