import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { hypriotDefaults } from '../../cli/core/boot-config.js';
import { renderBootScript } from '../../cli/core/lab-boot-script.js';
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
    expect(script.trimEnd().endsWith('exec sleep infinity')).toBe(true);
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
