import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hypriotDefaults } from '../../cli/core/boot-config.js';
import { renderBootScript, renderPowerScript } from '../../cli/core/lab-boot-script.js';
import { shq } from '../../cli/core/shell-quote.js';

const daemon = { insecureRegistry: '10.77.0.1:5000', cgroupParent: '/piswarm-pilab-pi-01' };

describe('shq', () => {
  it.each(['plain', "it's", 'a;rm -rf /', '$(reboot)', '`id`', 'back\\slash', '-leading', 'new\nline', ''])(
    'round-trips %j through sh unchanged',
    (value) => {
      expect(execFileSync('sh', ['-c', `printf '%s' ${shq(value)}`], { encoding: 'utf8' })).toBe(value);
    },
  );
});

describe('renderPowerScript', () => {
  it('boots the node as the init of its own PID namespace, again after a reboot, never after a power off', () => {
    const power = renderPowerScript("/tmp/odd dir/it's/boot.sh");
    expect(power).toContain("unshare --mount --uts --pid --fork --mount-proc --propagation private sh '/tmp/odd dir/it'\\''s/boot.sh'");
    execFileSync('sh', ['-n'], { input: power });
    // Run for real with a boot script that ends as a reboot(2) in the node would end it: first a restart, then a power off.
    const dir = mkdtempSync(join(tmpdir(), 'piswarm-power-'));
    const boot = join(dir, 'boot.sh');
    writeFileSync(boot, `echo boot >> ${shq(join(dir, 'boots'))}; [ "$(wc -l < ${shq(join(dir, 'boots'))})" -ge 2 ] && kill -INT $$; kill -HUP $$; sleep 5`);
    const fake = join(dir, 'bin');
    mkdirSync(fake);
    // unshare as a stand-in that runs the boot script as it is (the namespaces need root; the loop is what is tested).
    writeFileSync(join(fake, 'unshare'), '#!/bin/sh\nwhile [ "$1" != sh ]; do shift; done\nexec "$@"\n', { mode: 0o755 });
    const result = spawnSync('sh', ['-c', renderPowerScript(boot)], { env: { PATH: `${fake}:/usr/bin:/bin` }, timeout: 10_000 });
    expect(readFileSync(join(dir, 'boots'), 'utf8')).toBe('boot\nboot\n');
    expect(result.status).toBe(130);
  });
});

describe('renderBootScript', () => {
  it('boots a HypriotOS default node: own mounts, pirate/hypriot with sudo, dockerd trusting the lab registry', () => {
    const script = renderBootScript(hypriotDefaults('pi-01'), { nodeDir: '/var/lib/piswarm/labs/pilab/nodes/pi-01' }, daemon);
    expect(script).toContain('mount --bind /var/lib/piswarm/labs/pilab/nodes/pi-01/etc /etc');
    expect(script).toContain('mount --bind /var/lib/piswarm/labs/pilab/nodes/pi-01/run /run');
    expect(script).toContain('mount --bind /var/lib/piswarm/labs/pilab/nodes/pi-01/boot /boot');
    expect(script).toContain("printf '%s:%s\\n' pirate hypriot | chpasswd");
    expect(script).toContain('usermod -aG docker pirate');
    expect(script).toContain("'ALL=(ALL) NOPASSWD:ALL' >> /etc/sudoers.d/90-cloud-init-users");
    expect(script).toContain('dockerd --insecure-registry 10.77.0.1:5000 --cgroup-parent /piswarm-pilab-pi-01');
    expect(script).toContain('rm -f /etc/docker/key.json');
    // This machine's programs and package state read-only; /run empty at every boot; an init that a stop ends.
    expect(script).toContain('for d in /usr /var/lib/dpkg /var/lib/apt /var/cache/apt; do if [ -d "$d" ]; then mount --bind "$d" "$d" && mount -o remount,bind,ro "$d"; fi; done');
    expect(script.indexOf('find /run -mindepth 1')).toBeGreaterThan(script.indexOf('/run /run'));
    expect(script.trimEnd().split('\n').slice(-2)).toEqual(["trap 'exit 0' TERM", 'while :; do sleep 3600 & wait $!; done']);
    execFileSync('sh', ['-n'], { input: script });
  });

  it('keeps hostile values inert and the script valid', () => {
    const script = renderBootScript(
      {
        hostname: 'pi-01',
        users: [{ name: 'a;touch /tmp/pwned', passwordHash: "$6$salt$x'y", groups: ['docker'], sshAuthorizedKeys: ["ssh-ed25519 AAAA it's me"] }],
        sshHostKeys: [{ type: 'ed25519', privateKey: '-----BEGIN KEY-----\nabc\n-----END KEY-----', publicKey: 'ssh-ed25519 AAAA' }],
        cardFiles: {},
      },
      { nodeDir: "/tmp/odd dir/it's" },
      daemon,
    );
    expect(script).toContain("useradd -m -s /bin/bash 'a;touch /tmp/pwned'");
    expect(script).toContain("'$6$salt$x'\\''y' | chpasswd -e");
    expect(script).not.toContain('ssh-keygen -A');
    execFileSync('sh', ['-n'], { input: script });
  });
});
