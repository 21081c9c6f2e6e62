import { remoteScript, rootScript } from './remote-shell.js';
import { shq } from './shell-quote.js';

/**
 * The operating-system work bootstrap does on nodes (keys, passwords, sshd, hostname, the card's
 * files); Docker is reached through the Engine API instead (core/swarm-api). Each prints
 * "changed" or "unchanged" as its last line, so a re-run can say it changed nothing. Secrets
 * (passwords) never appear in a script: they arrive on standard input.
 */

/** Appends the key to the login user's authorized_keys unless a line already holds that key. */
export function installKeyScript(publicKey: string): string {
  const [type, blob] = publicKey.trim().split(/\s+/);
  return remoteScript(
    'umask 077',
    'mkdir -p ~/.ssh && touch ~/.ssh/authorized_keys',
    'chmod 700 ~/.ssh && chmod 600 ~/.ssh/authorized_keys',
    `if grep -qF ${shq(`${type} ${blob}`)} ~/.ssh/authorized_keys; then echo unchanged; exit 0; fi`,
    // A file without a final newline would glue the key onto its last line.
    '[ ! -s ~/.ssh/authorized_keys ] || [ -z "$(tail -c1 ~/.ssh/authorized_keys)" ] || echo >> ~/.ssh/authorized_keys',
    `printf '%s\\n' ${shq(publicKey.trim())} >> ~/.ssh/authorized_keys`,
    'echo changed',
  );
}

/** Sets the user's password from the first line of stdin ("user:password"), or locks it. */
export function replacePasswordScript(user: string, mode: 'random' | 'lock'): string {
  if (mode === 'lock') {
    return rootScript(`if passwd -S ${shq(user)} | awk '{ exit $2 != "L" }'; then echo unchanged; exit 0; fi`, `passwd -l ${shq(user)} >/dev/null`, 'echo changed');
  }
  return remoteScript('as_root chpasswd', 'echo changed');
}

/**
 * Turns off SSH password logins for `user` connecting from where piswarm connects: three lines at
 * the very top of sshd_config (sshd keeps the first value it reads, so they win over later lines
 * and included files; ChallengeResponseAuthentication for OpenSSH before 8.7). The new file is
 * written beside the old one, tested with `sshd -t -f`, and only then moved into place, so a failed
 * write leaves the old file as it was. The result is checked as sshd applies it to this very user
 * and address (`sshd -T -C`), so a `Match` block that turns passwords back on is caught and named.
 */
export function disablePasswordLoginScript(user: string): string {
  const body = [
    'set -e',
    'f=/etc/ssh/sshd_config',
    `u=${shq(user)}`,
    'a=$1',
    `effective() { sshd -T -C "user=$u,host=piswarm,addr=$a" 2>/dev/null | awk -v k="$1" '$1 == k { print $2 }'; }`,
    // Older sshd may not print every keyboard-interactive name: absent counts as off.
    'off() { [ "$(effective passwordauthentication)" = no ] && [ "$(effective kbdinteractiveauthentication)" != yes ] && [ "$(effective challengeresponseauthentication)" != yes ]; }',
    'if off; then echo unchanged; exit 0; fi',
    'new="$f.piswarm-new"',
    'trap \'rm -f "$new"\' EXIT',
    `{ printf '%s\\n' '# piswarm bootstrap: SSH keys only (the old file is sshd_config.piswarm-backup)' 'PasswordAuthentication no' 'KbdInteractiveAuthentication no' 'ChallengeResponseAuthentication no'; cat "$f"; } > "$new"`,
    'chmod --reference="$f" "$new"',
    'if ! sshd -t -f "$new"; then echo "sshd rejected the new configuration; the old one is untouched" >&2; exit 1; fi',
    'cp -p "$f" "$f.piswarm-backup"',
    'mv "$new" "$f"',
    'if [ -f /run/sshd.pid ]; then kill -HUP "$(cat /run/sshd.pid)"; else systemctl reload ssh; fi',
    'if ! off; then echo "a Match block in $f (or a file it includes) turns password login back on for $u from $a: remove it, then run bootstrap again" >&2; exit 1; fi',
    'echo changed',
  ].join('\n');
  return remoteScript(
    // The address piswarm connects from, as sshd sees it (Match Address); sudo would drop SSH_CLIENT.
    'a=${SSH_CLIENT%% *}; [ -n "$a" ] || a=192.168.1.2',
    `as_root sh -c ${shq(body)} sh "$a"`,
  );
}

export function setHostnameScript(hostname: string): string {
  const name = shq(hostname);
  return rootScript(
    `if [ "$(hostname)" = ${name} ]; then echo unchanged; exit 0; fi`,
    `if hostnamectl status >/dev/null 2>&1; then hostnamectl set-hostname ${name}; else hostname ${name}; echo ${name} > /etc/hostname; fi`,
    // Keep sudo and local tools resolving the new name.
    `if grep -q '^127\\.0\\.1\\.1' /etc/hosts; then sed -i "s/^127\\.0\\.1\\.1.*/127.0.1.1\\t"${name}"/" /etc/hosts; else printf '127.0.1.1\\t%s\\n' ${name} >> /etc/hosts; fi`,
    'echo changed',
  );
}

/** Where the running Pi mounts its card's boot partition: /boot/firmware (Ubuntu, Raspberry Pi OS) or /boot (HypriotOS). */
export const CARD_BOOT_DIRS = ['/boot/firmware', '/boot'] as const;

/** Prints the first boot folder that holds cloud-init user-data; nothing when none does. */
export const FIND_CARD_BOOT_DIR_SCRIPT = remoteScript(`for d in ${CARD_BOOT_DIRS.join(' ')}; do if as_root test -f "$d/user-data"; then echo "$d"; break; fi; done`);

/** Prints a boot partition file (root may be needed to read /boot/firmware); nothing when it is absent. */
export function readCardFileScript(path: string): string {
  return rootScript(`if [ -f ${shq(path)} ]; then cat ${shq(path)}; fi`);
}

/**
 * Replaces a boot partition file with stdin, unless it changed since piswarm read it (its
 * SHA-256 no longer `expectedSha256`). Written beside it and renamed, then synced: a Pi losing
 * power half-way keeps either file whole.
 */
export function replaceCardFileScript(path: string, expectedSha256: string): string {
  const file = shq(path);
  return rootScript(
    `if [ "$(sha256sum < ${file} | cut -d' ' -f1)" != ${shq(expectedSha256)} ]; then echo "${path} changed while piswarm read it; run bootstrap again" >&2; exit 1; fi`,
    `cat > ${shq(`${path}.piswarm-new`)}`,
    `mv ${shq(`${path}.piswarm-new`)} ${file}`,
    'sync',
    'echo changed',
  );
}
