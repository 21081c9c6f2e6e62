import { mkdtemp, readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventory, saveInventory, writeFileAtomic } from '../../cli/adapters/inventory-file.js';
import { Inventory } from '../../cli/core/inventory.js';
import { InventoryError } from '../../cli/errors.js';

const GOOD = `# my home lab
cluster:
  name: home
ssh:
  user: pirate
  privateKey: ~/.ssh/id_ed25519
nodes:
  # the one on the shelf
  B8:27:EB:00:00:01:
    hostname: manager-01
    ip: 192.168.1.20
    role: manager
    labels: {rabbitmq: "true"}
  dc:a6:32:00:00:02:
    hostname: worker-01
    ip: 192.168.1.21
    role: worker
`;

function problems(text: string): InventoryError {
  try {
    Inventory.parse('piswarm.yaml', text);
  } catch (error) {
    if (error instanceof InventoryError) return error;
    throw error;
  }
  throw new Error('expected an InventoryError');
}

describe('Inventory.parse', () => {
  it('reads nodes keyed by MAC, normalised to lower case', () => {
    const inv = Inventory.parse('piswarm.yaml', GOOD);
    expect(inv.clusterName).toBe('home');
    expect(inv.nodes().map((n) => [n.mac, n.hostname, n.role])).toEqual([
      ['b8:27:eb:00:00:01', 'manager-01', 'manager'],
      ['dc:a6:32:00:00:02', 'worker-01', 'worker'],
    ]);
    expect(inv.sshDefaults).toEqual({ user: 'pirate', privateKey: '~/.ssh/id_ed25519', port: 22 });
  });

  it('finds a node by hostname, MAC or IP', () => {
    const inv = Inventory.parse('piswarm.yaml', GOOD);
    expect(inv.findNode('WORKER-01')?.mac).toBe('dc:a6:32:00:00:02');
    expect(inv.findNode('b8:27:eb:00:00:01')?.hostname).toBe('manager-01');
    expect(inv.findNode('192.168.1.21')?.hostname).toBe('worker-01');
    expect(inv.findNode('nope')).toBeUndefined();
  });

  it('treats an empty file as an empty inventory with HypriotOS defaults', () => {
    const inv = Inventory.parse('piswarm.yaml', '');
    expect(inv.nodes()).toEqual([]);
    expect(inv.sshDefaults.user).toBe('pirate');
  });

  it.each([
    ['a role that does not exist', GOOD.replace('role: worker', 'role: boss'), 17, 'nodes.dc:a6:32:00:00:02.role', 'must be "manager" or "worker"'],
    ['a bad IP address', GOOD.replace('192.168.1.21', '192.168.1.300'), 16, 'nodes.dc:a6:32:00:00:02.ip', 'IPv4'],
    ['an invalid hostname', GOOD.replace('worker-01', 'worker_01!'), 15, 'nodes.dc:a6:32:00:00:02.hostname', 'valid hostname'],
    ['a node key that is not a MAC', GOOD.replace('dc:a6:32:00:00:02:', 'worker-two:'), 14, 'nodes.worker-two', 'MAC addresses'],
    ['a misspelt field', GOOD.replace('role: manager', 'rol: manager'), 12, 'nodes.B8:27:EB:00:00:01.rol', 'Unrecognized key'],
  ])('rejects %s, naming file, line and field', (_name, text, line, field, words) => {
    const error = problems(text);
    expect(error.message).toContain(`piswarm.yaml:${line}: ${field}`);
    expect(error.message).toContain(words);
    expect(error.hint).toContain('Fix piswarm.yaml');
  });

  it('reports a YAML syntax error with its line', () => {
    const error = problems('cluster:\n  name: home\nnodes:\n  - [unclosed\n');
    expect(error.message).toMatch(/^piswarm\.yaml:\d+: /);
  });

  it('rejects duplicate keys instead of silently keeping one', () => {
    const error = problems('cluster:\n  name: a\ncluster:\n  name: b\n');
    expect(error.message).toContain('piswarm.yaml:3');
  });
});

describe('Inventory edits', () => {
  it('keeps comments and the user spelling of keys when a field is updated', () => {
    const inv = Inventory.parse('piswarm.yaml', GOOD);
    inv.upsertNode('b8:27:eb:00:00:01', { hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOg' });
    inv.upsertNode('2c:cf:67:00:00:03', { hostname: 'worker-02', ip: '192.168.1.22' });
    const text = inv.toString();
    expect(text).toContain('# my home lab');
    expect(text).toContain('# the one on the shelf');
    expect(text).toContain('B8:27:EB:00:00:01:\n    hostname: manager-01');
    expect(text).toContain('hostKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOg');
    expect(Inventory.parse('x', text).findNode('worker-02')?.mac).toBe('2c:cf:67:00:00:03');
  });

  it('refuses an edit that would make the file invalid', () => {
    const inv = Inventory.parse('piswarm.yaml', GOOD);
    expect(() => inv.upsertNode('b8:27:eb:00:00:01', { role: 'boss' as never })).toThrow(InventoryError);
  });
});

describe('inventory file', () => {
  it('saves atomically and leaves no temporary file behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'piswarm-inv-'));
    const file = join(dir, 'piswarm.yaml');
    await writeFile(file, GOOD);
    const inv = await loadInventory(file);
    inv.upsertNode('b8:27:eb:00:00:01', { ip: '192.168.1.99' });
    await saveInventory(inv);
    expect(await readFile(file, 'utf8')).toContain('ip: 192.168.1.99');
    expect(await readdir(dir)).toEqual(['piswarm.yaml']);
  });

  it('keeps the old file intact when the write cannot complete', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'piswarm-inv-'));
    const file = join(dir, 'piswarm.yaml');
    await writeFile(file, GOOD);
    // A directory with the target's name inside makes the final rename fail after the temp file is written.
    const blocked = join(dir, 'sub');
    await mkdir(join(blocked, 'piswarm.yaml'), { recursive: true });
    await expect(writeFileAtomic(join(blocked, 'piswarm.yaml'), 'half')).rejects.toThrow();
    expect(await readdir(blocked)).toEqual(['piswarm.yaml']);
    expect(await readFile(file, 'utf8')).toBe(GOOD);
  });

  it('treats a missing file as empty', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'piswarm-inv-'));
    expect((await loadInventory(join(dir, 'none.yaml'))).nodes()).toEqual([]);
  });
});
