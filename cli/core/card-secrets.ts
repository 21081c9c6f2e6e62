import { isMap, isSeq, parseDocument, type Document, type YAMLMap } from 'yaml';

/**
 * The card's first-boot files stay on its FAT boot partition, readable by every user of the
 * running Pi. Once first boot has applied them (the host key is in /etc/ssh, the password in
 * /etc/shadow, the wifi settings in /etc), bootstrap removes the secrets from them. What is left
 * still passes cloud-init's schema, and would not undo anything if cloud-init ran it again: the
 * host keys on disk are kept (ssh_deletekeys: false) and no file it wrote is written over.
 */
export interface ScrubResult {
  text: string;
  /** What was taken out, for the node's change list; empty when there was nothing to take. */
  removed: string[];
}

export const CARD_SECRET_FILES = ['user-data', 'network-config'] as const;
export type CardSecretFile = (typeof CARD_SECRET_FILES)[number];

const NOTE = 'piswarm bootstrap removed the secrets from this file once the node had applied them';

/** `passwordLoginOff`: bootstrap turned SSH password login off, so the card must not turn it back on. */
export function scrubCardFile(name: CardSecretFile, text: string, passwordLoginOff: boolean): ScrubResult {
  // user-data is cloud-config only with this first line; kept apart so no edit can move it.
  const header = name === 'user-data' ? /^#cloud-config[^\n]*(\n|$)/.exec(text)?.[0] : '';
  if (header === undefined) return { text, removed: [] };
  const doc = parseDocument(text.slice(header.length));
  // Not YAML piswarm can read back faithfully: left as it is rather than damaged.
  if (doc.errors.length > 0 || !isMap(doc.contents)) return { text, removed: [] };
  const removed = name === 'user-data' ? scrubUserData(doc) : scrubNetworkConfig(doc);
  if (name === 'user-data' && passwordLoginOff && doc.has('ssh_pwauth') && doc.get('ssh_pwauth') !== false) {
    doc.set('ssh_pwauth', false);
    removed.push('password login');
  }
  if (removed.length === 0) return { text, removed };
  return { text: `${header.replace(/\n?$/, '\n')}# ${NOTE}.\n${doc.toString({ lineWidth: 0 })}`, removed };
}

function scrubUserData(doc: Document): string[] {
  const removed: string[] = [];
  if (doc.has('ssh_keys')) {
    doc.delete('ssh_keys');
    doc.set('ssh_deletekeys', false);
    removed.push('SSH host keys');
  }
  const users = doc.get('users', true);
  let passwords = 0;
  for (const user of isSeq(users) ? users.items : []) {
    if (!isMap(user)) continue;
    for (const key of ['passwd', 'hashed_passwd', 'plain_text_passwd']) if (user.delete(key)) passwords++;
  }
  if (doc.delete('password')) passwords++;
  const chpasswd = doc.get('chpasswd', true);
  if (isMap(chpasswd)) for (const key of ['list', 'users']) if (chpasswd.delete(key)) passwords++;
  if (passwords > 0) removed.push('passwords');
  if (dropWifiFiles(doc)) removed.push('wifi PSK');
  return removed;
}

/** write_files entries that hold a WPA key (HypriotOS's wpa_supplicant.conf): the file on disk stays. */
function dropWifiFiles(doc: Document): boolean {
  const files = doc.get('write_files', true);
  if (!isSeq(files)) return false;
  const before = files.items.length;
  files.items = files.items.filter((item) => !(isMap(item) && holdsWpaKey(item)));
  if (files.items.length === 0) doc.delete('write_files');
  return files.items.length !== before;
}

function holdsWpaKey(file: YAMLMap): boolean {
  const content = file.get('content');
  if (typeof content !== 'string') return false;
  const encoding = String(file.get('encoding') ?? '');
  const text = /^(b64|base64)$/.test(encoding) ? Buffer.from(content, 'base64').toString('utf8') : content;
  return /^\s*(psk|wpa-psk|sae_password|password)\s*[=\s]/m.test(text);
}

/** network-config v2 (Ubuntu, Raspberry Pi OS Trixie): wifi access points carry the key. */
function scrubNetworkConfig(doc: Document): string[] {
  const network = doc.has('network') ? doc.get('network', true) : doc.contents;
  if (!isMap(network)) return [];
  const wifis = network.get('wifis', true);
  if (!isMap(wifis)) return [];
  const keyed = wifis.items.some((wifi) => {
    const points = isMap(wifi.value) ? wifi.value.get('access-points', true) : undefined;
    return isMap(points) && points.items.some((point) => isMap(point.value) && (point.value.has('password') || isMap(point.value.get('auth', true))));
  });
  if (!keyed) return [];
  // An access point without its key would join as an open network if this were applied again.
  network.delete('wifis');
  return ['wifi PSK'];
}
