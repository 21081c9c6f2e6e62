import { describe, expect, it } from 'vitest';
import { planLab, subnetsOverlap } from '../../cli/core/lab-plan.js';
import { UsageError } from '../../cli/errors.js';

describe('planLab', () => {
  it('gives each node a hostname, namespace, IP and a Raspberry Pi MAC', () => {
    const plan = planLab({ name: 'pilab', subnet: '10.77.0.0/24', nodes: 3 });
    expect(plan).toMatchObject({ bridge: 'pilabbr0', gateway: '10.77.0.1', registry: '10.77.0.1:5000', prefixLength: 24 });
    expect(plan.nodes.map((n) => [n.hostname, n.netns, n.hostVeth, n.ip, n.mac])).toEqual([
      ['pi-01', 'pilab-pi-01', 'pilab-v1', '10.77.0.11', 'b8:27:eb:4d:00:0b'],
      ['pi-02', 'pilab-pi-02', 'pilab-v2', '10.77.0.12', 'b8:27:eb:4d:00:0c'],
      ['pi-03', 'pilab-pi-03', 'pilab-v3', '10.77.0.13', 'b8:27:eb:4d:00:0d'],
    ]);
  });

  it('normalises the subnet and keeps interface names within the 15-character limit', () => {
    const plan = planLab({ name: 'abcdefgh', subnet: '10.78.3.77/24', nodes: 64 });
    expect(plan.subnet).toBe('10.78.3.0/24');
    for (const name of [plan.bridge, ...plan.nodes.map((n) => n.hostVeth)]) expect(name.length).toBeLessThanOrEqual(15);
    expect(new Set(plan.nodes.map((n) => n.mac)).size).toBe(64);
  });

  it('gives labs on different subnets different MACs', () => {
    const a = planLab({ name: 'a', subnet: '10.77.0.0/24', nodes: 1 });
    const b = planLab({ name: 'b', subnet: '10.78.0.0/24', nodes: 1 });
    expect(a.nodes[0]!.mac).not.toBe(b.nodes[0]!.mac);
  });

  it.each([
    [{ nodes: 0 }, '--nodes must be a whole number from 1 to 64'],
    [{ nodes: 300 }, '--nodes must be a whole number from 1 to 64'],
    [{ nodes: 2.5 }, '--nodes must be a whole number'],
    [{ name: 'Pi_Lab' }, 'Lab name "Pi_Lab" is not allowed'],
    [{ name: 'muchtoolong' }, 'not allowed'],
    [{ subnet: '10.77.0.0' }, 'is not an IPv4 subnet'],
    [{ subnet: '300.1.1.0/24' }, 'is not an IPv4 subnet'],
    [{ subnet: '10.77.0.0/30' }, 'is not an IPv4 subnet'],
    [{ subnet: '10.77.0.0/28', nodes: 5 }, 'too small for 5 nodes'],
  ])('rejects %o', (override, message) => {
    const run = () => planLab({ name: 'pilab', subnet: '10.77.0.0/24', nodes: 3, ...override });
    expect(run).toThrow(UsageError);
    expect(run).toThrow(message);
  });
});

describe('subnetsOverlap', () => {
  it.each([
    ['10.77.0.0/24', '10.77.0.5/24', true],
    ['10.77.0.0/24', '10.0.0.0/8', true],
    ['10.77.0.0/24', '10.78.0.0/24', false],
    ['192.168.1.0/24', '192.168.1.77', true],
    ['192.168.1.0/25', '192.168.1.200/32', false],
  ])('%s and %s → %s', (a, b, expected) => {
    expect(subnetsOverlap(a, b)).toBe(expected);
  });
});
