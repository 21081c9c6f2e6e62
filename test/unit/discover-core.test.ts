import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeDiscovered } from '../../cli/core/discovery-merge.js';
import type { SshConnection, SshTarget } from '../../cli/adapters/ssh.js';
import { identifyByHostKey, identifyPis, type DiscoveredHost } from '../../cli/services/discover.js';
import { Inventory } from '../../cli/core/inventory.js';
import { contains, formatCidr, hostAddresses, parseCidr, parseIpv4 } from '../../cli/core/ipv4.js';
import { normaliseMac, raspberryPiVendor } from '../../cli/core/mac-address.js';
import { describeSwarm, NODE_FACTS_SCRIPT, parseNodeFacts, withEngine } from '../../cli/core/node-facts.js';
import { membershipOf } from '../../cli/core/swarm-api.js';
import { RASPBERRY_PI_OUIS } from '../../cli/core/raspberry-pi-ouis.js';
import { parseSshBanner } from '../../cli/core/ssh-banner.js';
import { planSweep } from '../../cli/core/sweep-plan.js';
import { UsageError } from '../../cli/errors.js';

describe('Raspberry Pi MAC recognition', () => {
  it.each([
    ['b8:27:eb:12:34:56', 'Raspberry Pi Foundation'],
    ['DC-A6-32-01-02-03', 'Raspberry Pi Trading Ltd'],
    ['2ccf.6712.3456', 'Raspberry Pi (Trading) Ltd'],
    ['f0:40:af:9a:bc:de', 'Raspberry Pi (Trading) Ltd'], // inside the 28-bit block F0:40:AF:9
    ['8c:1f:64:34:a1:23', 'Raspberry Pi (Trading) Ltd'], // inside the 36-bit block 8C:1F:64:34:A
  ])('recognises %s', (mac, vendor) => {
    expect(raspberryPiVendor(mac)).toBe(vendor);
  });

  it.each([
    ['f0:40:af:8a:bc:de', 'same 24 bits as a 28-bit Pi block, other owner'],
    ['8c:1f:64:34:b1:23', 'same 32 bits as a 36-bit Pi block, other owner'],
    ['02:42:ac:11:00:02', 'a Docker container'],
    ['b8:27:e', 'not a MAC'],
  ])('does not take %s for a Pi (%s)', (mac) => {
    expect(raspberryPiVendor(mac)).toBeUndefined();
  });

  it('keeps every block well-formed for its length', () => {
    for (const block of RASPBERRY_PI_OUIS) expect(block.prefix.replace(/:/g, '')).toHaveLength(block.bits / 4);
  });

  it('normalises the ways MACs are written', () => {
    expect(normaliseMac('B8-27-EB-AA-BB-CC')).toBe('b8:27:eb:aa:bb:cc');
    expect(normaliseMac('b827.ebaa.bbcc')).toBe('b8:27:eb:aa:bb:cc');
    expect(normaliseMac('zz:27:eb:aa:bb:cc')).toBeUndefined();
  });
});

describe('SSH banners', () => {
  it.each([
    ['SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3', { software: 'OpenSSH 9.2p1', distro: 'Debian 12' }],
    ['SSH-2.0-OpenSSH_8.4p1 Raspbian-5+deb11u3\r', { software: 'OpenSSH 8.4p1', distro: 'Raspbian 11' }],
    ['SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10', { software: 'OpenSSH 8.9p1', distro: 'Ubuntu' }],
    ['SSH-2.0-dropbear_2022.83', { software: 'dropbear 2022.83' }],
  ])('reads %s', (line, expected) => {
    expect(parseSshBanner(line)).toEqual(expected);
  });

  it('rejects lines that are not SSH identification', () => {
    expect(parseSshBanner('HTTP/1.1 400 Bad Request')).toBeUndefined();
    expect(parseSshBanner('SSH-9.9-x')).toBeUndefined();
  });
});

describe('IPv4 networks', () => {
  it('parses, masks and enumerates', () => {
    const network = parseCidr('192.168.1.77/24')!;
    expect(formatCidr(network)).toBe('192.168.1.0/24');
    expect(hostAddresses(network)).toHaveLength(254);
    expect(hostAddresses(parseCidr('10.0.0.4/31')!)).toHaveLength(2);
    expect(contains(network, parseIpv4('192.168.1.254')!)).toBe(true);
    expect(contains(network, parseIpv4('192.168.2.1')!)).toBe(false);
    expect(parseCidr('192.168.1/24')).toBeUndefined();
    expect(parseCidr('192.168.1.0/33')).toBeUndefined();
    expect(parseCidr('256.1.1.1/24')).toBeUndefined();
  });
});

describe('what discover sweeps', () => {
  const local = [
    { interface: 'lo', cidr: '127.0.0.1/8', internal: true },
    { interface: 'eth0', cidr: '192.168.1.23/24' },
    { interface: 'docker0', cidr: '172.17.0.1/16' },
    { interface: 'br-0123456789ab', cidr: '172.18.0.1/16' },
    { interface: 'wlan0', cidr: '10.0.0.5/8' },
    { interface: 'tailscale0', cidr: '100.101.1.2/32' },
  ];

  it('takes the LAN interfaces, says why it skips the others', () => {
    const plan = planSweep({ cidrs: [], local });
    expect(plan.networks.map((n) => [n.cidr, n.interface])).toEqual([['192.168.1.0/24', 'eth0']]);
    expect(plan.skipped.map((s) => [s.interface, s.reason.split(';')[0]])).toEqual([
      ['docker0', 'a container bridge or tunnel'],
      ['br-0123456789ab', 'a container bridge or tunnel'],
      ['wlan0', 'too large to sweep (16777216 addresses)'],
      ['tailscale0', 'a container bridge or tunnel'],
    ]);
  });

  it('sweeps a container bridge when it is named, and only what is asked', () => {
    expect(planSweep({ cidrs: [], interface: 'docker0', local: [{ interface: 'docker0', cidr: '172.17.0.1/24' }] }).networks.map((n) => n.cidr)).toEqual(['172.17.0.0/24']);
    expect(planSweep({ cidrs: ['10.1.2.0/24', '10.1.2.9/24'], local }).networks.map((n) => n.cidr)).toEqual(['10.1.2.0/24']);
  });

  it('refuses absurd or malformed ranges with a hint', () => {
    expect(() => planSweep({ cidrs: ['10.0.0.0/8'], local })).toThrowError(/has 16777216 addresses; piswarm sweeps at most 4096/);
    expect(() => planSweep({ cidrs: ['10.0.0.0/19'], local })).toThrowError(UsageError);
    expect(planSweep({ cidrs: ['10.0.0.0/20'], local }).networks).toHaveLength(1);
    expect(() => planSweep({ cidrs: ['10.0.0.1'], local })).toThrowError('--cidr 10.0.0.1 is not an IPv4 network.');
    expect(() => planSweep({ cidrs: [], interface: 'eth9', local })).toThrowError('Interface eth9 has no IPv4 address.');
  });
});

describe('node facts from --login', () => {
  it("reads the operating system's facts, and the engine's swarm membership of a manager, a worker and a Pi without Docker", () => {
    const os = parseNodeFacts('hostname=manager-01\nmodel=Raspberry Pi 4 Model B Rev 1.4\narch=aarch64\nos=Debian GNU/Linux 12 (bookworm)\ndhcp=yes\nmac=DC:A6:32:01:02:03\n');
    const manager = withEngine(os, { hostname: 'manager-01', arch: 'aarch64', serverVersion: '24.0.5', apiVersion: '1.43', swarm: membershipOf({ LocalNodeState: 'active', ControlAvailable: true, NodeID: 'nodeid1', Cluster: { ID: 'clusterid123456789' } }) });
    expect(manager).toEqual({
      hostname: 'manager-01',
      model: 'Raspberry Pi 4 Model B Rev 1.4',
      arch: 'aarch64',
      os: 'Debian GNU/Linux 12 (bookworm)',
      mac: 'dc:a6:32:01:02:03',
      dhcp: true,
      docker: '24.0.5',
      swarm: { state: 'manager', clusterId: 'clusterid123456789', nodeId: 'nodeid1' },
    });
    expect(describeSwarm(manager.swarm)).toBe('manager (clusterid123)');
    const worker = membershipOf({ LocalNodeState: 'active', ControlAvailable: false, NodeID: 'nodeid2', RemoteManagers: [{ Addr: '10.0.0.11:2377' }, { Addr: '10.0.0.12:2377' }] });
    expect(worker).toEqual({ state: 'worker', nodeId: 'nodeid2', managers: ['10.0.0.11:2377', '10.0.0.12:2377'] });
    const bare = withEngine(parseNodeFacts('hostname=p\nmodel=\narch=armv6l\nos=\ndhcp=no\nmac=\n'), undefined);
    expect(bare).toEqual({ hostname: 'p', model: undefined, arch: 'armv6l', os: undefined, mac: undefined, dhcp: false, docker: undefined, swarm: { state: 'none' } });
  });

  it('runs in sh: the MAC and DHCP flag of the interface the session came in on, and never the docker CLI', () => {
    // Stand-ins for ip and docker, printing what they print on a Pi with wlan0 and eth0.
    const bin = mkdtempSync(join(tmpdir(), 'piswarm-facts-'));
    const stub = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    stub('ip', [
      'case "$*" in',
      '  "-o -4 addr show") printf "1: lo    inet 127.0.0.1/8 scope host lo\\n3: wlan0    inet 192.168.1.30/24 brd 192.168.1.255 scope global dynamic noprefixroute wlan0\\n2: eth0    inet 192.168.1.21/24 brd 192.168.1.255 scope global dynamic noprefixroute eth0\\n" ;;',
      '  "-o link show eth0") printf "2: eth0: <BROADCAST,MULTICAST,UP> mtu 1500 qdisc mq state UP mode DEFAULT group default qlen 1000\\\\    link/ether dc:a6:32:aa:bb:cc brd ff:ff:ff:ff:ff:ff\\n" ;;',
      'esac',
    ].join('\n'));
    stub('docker', 'echo "$*" >> "$(dirname "$0")/calls"');
    const out = execFileSync('sh', ['-c', NODE_FACTS_SCRIPT], {
      env: { PATH: `${bin}:/usr/bin:/bin`, SSH_CONNECTION: '192.168.1.5 50000 192.168.1.21 22' },
      encoding: 'utf8',
    });
    const facts = parseNodeFacts(out);
    expect([facts.mac, facts.dhcp]).toEqual(['dc:a6:32:aa:bb:cc', true]);
    expect(existsSync(join(bin, 'calls'))).toBe(false);
  });
});

describe('saving what discover found', () => {
  const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';

  it('adds new Pis, moves known ones by MAC, keeps names, removes nothing', () => {
    const inventory = Inventory.parse('piswarm.yaml', 'nodes:\n  b8:27:eb:00:00:01:\n    hostname: manager-01 # the boss\n    ip: 10.0.0.11\n  b8:27:eb:00:00:09:\n    hostname: gone\n');
    const report = mergeDiscovered(inventory, [
      { ip: '10.0.0.41', mac: 'b8:27:eb:00:00:01', hostname: 'renamed' },
      { ip: '10.0.0.12', mac: 'dc:a6:32:00:00:02', hostname: 'worker-01', hostKey: key },
      { ip: '10.0.0.13', mac: 'dc:a6:32:00:00:03' },
    ]);
    expect(report.moved).toEqual([{ hostname: 'manager-01', mac: 'b8:27:eb:00:00:01', from: '10.0.0.11', to: '10.0.0.41' }]);
    expect(report.added.map((a) => a.hostname)).toEqual(['worker-01', 'pi-000003']);
    expect(inventory.nodes().map((n) => [n.mac, n.hostname, n.ip])).toEqual([
      ['b8:27:eb:00:00:01', 'manager-01', '10.0.0.41'],
      ['b8:27:eb:00:00:09', 'gone', undefined],
      ['dc:a6:32:00:00:02', 'worker-01', '10.0.0.12'],
      ['dc:a6:32:00:00:03', 'pi-000003', '10.0.0.13'],
    ]);
    expect(inventory.findNode('worker-01')!.hostKey).toBe(key);
    expect(inventory.toString()).toContain('# the boss');
  });

  it('does not give two nodes one name, and says so', () => {
    const inventory = Inventory.parse('piswarm.yaml', 'nodes:\n  b8:27:eb:00:00:01:\n    hostname: black-pearl\n');
    const report = mergeDiscovered(inventory, [{ ip: '10.0.0.12', mac: 'b8:27:eb:00:00:02', hostname: 'black-pearl' }]);
    expect(report.duplicates).toEqual([{ hostname: 'black-pearl', mac: 'b8:27:eb:00:00:02', savedAs: 'black-pearl-000002' }]);
    expect(inventory.nodes().map((n) => n.hostname)).toEqual(['black-pearl', 'black-pearl-000002']);
  });

  it('never replaces a pinned host key', () => {
    const inventory = Inventory.parse('piswarm.yaml', `nodes:\n  b8:27:eb:00:00:01:\n    hostname: a\n    ip: 10.0.0.11\n    hostKey: ${key}\n`);
    mergeDiscovered(inventory, [{ ip: '10.0.0.11', mac: 'b8:27:eb:00:00:01', hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBBBB' }]);
    expect(inventory.findNode('a')!.hostKey).toBe(key);
  });
});

describe('who a discovered Pi is, before and at login', () => {
  const cardKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
  const otherKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBBBBnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
  const inventory = () => Inventory.parse('piswarm.yaml', `cards:\n  worker-01:\n    hostKey: ${cardKey}\n    user: lab\n`);
  const pi = (ip: string): DiscoveredHost => ({ ip, mac: `b8:27:eb:00:00:${ip.split('.')[3]}`, isPi: true, ssh: 'ssh' });
  /** SSH that records who it was asked to log in as, and with which pinned key. */
  const connector = () => {
    const asked: string[] = [];
    const connect = async (target: SshTarget): Promise<SshConnection> => {
      asked.push(`${target.username}@${target.host} pinned ${target.pinnedHostKey === cardKey ? 'card' : String(target.pinnedHostKey)}`);
      const connection = { hostKey: cardKey, authMethod: 'publickey', exec: async () => ({ code: 0, stdout: 'hostname=worker-01\narch=aarch64\n', stderr: '' }), openSocket: async () => Promise.reject(new Error('no')), openCommandStream: async () => Promise.reject(new Error('no')), readFile: async () => undefined, close: () => undefined };
      return connection as SshConnection;
    };
    return { asked, connector: { connect } };
  };

  it("names a host by the card whose key it presents, and logs in as the card's user with that key pinned", async () => {
    const inv = inventory();
    const hosts = [pi('10.0.0.21')];
    await identifyByHostKey(hosts, inv, async () => cardKey);
    expect(hosts[0]!.card).toBe('worker-01');
    const { asked, connector: ssh } = connector();
    await identifyPis(ssh, inv, hosts, { credentials: {}, concurrency: 4, timeoutMs: 1000 });
    expect(asked).toEqual(['lab@10.0.0.21 pinned card']);
    expect(hosts[0]!.facts?.hostname).toBe('worker-01');
  });

  it('sends nothing to a new host with none of the keys of cards still to be found, unless told to trust it', async () => {
    const inv = inventory();
    const hosts = [pi('10.0.0.22')];
    await identifyByHostKey(hosts, inv, async () => otherKey);
    const { asked, connector: ssh } = connector();
    await identifyPis(ssh, inv, hosts, { credentials: { password: 'hypriot' }, concurrency: 4, timeoutMs: 1000 });
    expect(asked).toEqual([]);
    expect(hosts[0]!.untrusted).toBe(true);
    expect(hosts[0]!.loginError).toContain('presents none of the host keys of the cards still to be found (worker-01)');
    const trusted = [pi('10.0.0.22')];
    await identifyPis(ssh, inv, trusted, { credentials: { password: 'hypriot' }, concurrency: 4, timeoutMs: 1000, trustNewHosts: true, user: 'ubuntu' });
    expect(asked).toEqual(['ubuntu@10.0.0.22 pinned undefined']);
  });
});
