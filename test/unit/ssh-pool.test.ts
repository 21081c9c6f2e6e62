import { describe, expect, it } from 'vitest';
import type { SshConnection, SshConnector, SshTarget } from '../../cli/adapters/ssh.js';
import { mapSettled } from '../../cli/core/parallel.js';
import { runOnNodes } from '../../cli/services/ssh-pool.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('mapSettled', () => {
  it('never runs more than the limit at once and keeps input order', async () => {
    let inFlight = 0;
    let peak = 0;
    const results = await mapSettled([5, 1, 4, 2, 3, 6, 7], 3, async (n) => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, n * 3));
      inFlight--;
      return n * 10;
    });
    expect(peak).toBe(3);
    expect(results.map((r) => (r.ok ? r.value : null))).toEqual([50, 10, 40, 20, 30, 60, 70]);
  });

  it('records each failure without stopping the others', async () => {
    const seen: number[] = [];
    const results = await mapSettled([1, 2, 3], 1, async (n) => {
      seen.push(n);
      if (n === 1) throw new Error('one broke');
      return n;
    });
    expect(seen).toEqual([1, 2, 3]);
    expect(results[0]).toMatchObject({ ok: false, error: { message: 'one broke' } });
    expect(results.slice(1).every((r) => r.ok)).toBe(true);
  });

  it('rejects a nonsense concurrency', async () => {
    await expect(mapSettled([1], 0, async () => 1)).rejects.toThrow(RangeError);
  });
});

/** A connector whose nodes answer from a table: a host key, or an error to throw on connect. */
function fakeConnector(nodes: Record<string, { hostKey?: string; fail?: Error }>, closed: string[]): SshConnector {
  return {
    async connect(target: SshTarget): Promise<SshConnection> {
      await tick();
      const node = nodes[target.name]!;
      if (node.fail) throw node.fail;
      return {
        hostKey: node.hostKey!,
        authMethod: 'publickey',
        exec: async (command) => ({ code: 0, stdout: `${target.name}:${command}`, stderr: '' }),
        close: () => closed.push(target.name),
      };
    },
  };
}

const target = (name: string, pinnedHostKey?: string): SshTarget => ({ name, host: name, port: 22, username: 'pirate', pinnedHostKey });

describe('runOnNodes', () => {
  it('reports per node, marks new host keys as learned, and closes every connection', async () => {
    const closed: string[] = [];
    const connector = fakeConnector(
      { a: { hostKey: 'ssh-ed25519 AAAA' }, b: { fail: new Error('unreachable') }, c: { hostKey: 'ssh-ed25519 CCCC' } },
      closed,
    );
    const results = await runOnNodes(connector, [target('a'), target('b'), target('c', 'ssh-ed25519 CCCC')], (conn) => conn.exec('hostname'), {
      concurrency: 2,
    });
    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    expect(results[0]).toMatchObject({ ok: true, value: { value: { stdout: 'a:hostname' }, learned: true } });
    expect(results[1]).toMatchObject({ ok: false, error: { message: 'unreachable' } });
    expect(results[2]).toMatchObject({ ok: true, value: { learned: false } });
    expect(closed.sort()).toEqual(['a', 'c']);
  });

  it('closes the connection even when the work fails', async () => {
    const closed: string[] = [];
    const results = await runOnNodes(fakeConnector({ a: { hostKey: 'ssh-ed25519 AAAA' } }, closed), [target('a')], async () => {
      throw new Error('work failed');
    });
    expect(results[0]!.ok).toBe(false);
    expect(closed).toEqual(['a']);
  });
});
