import { describe, expect, it } from 'vitest';
import type { Drive } from '../../cli/adapters/drives.js';
import { expandHostnames, formatPlan, parsePlan, validatePlan, type ClusterPlan } from '../../cli/core/cluster-plan.js';
import { PiswarmError, UsageError } from '../../cli/errors.js';
import { waitForCards, waitForRemoval } from '../../cli/services/init/card-slots.js';
import { runJourney, type JourneyPorts } from '../../cli/services/init/journey.js';

const messageOf = (make: () => unknown) => {
  try {
    make();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('no error');
};

describe('cluster plan', () => {
  it('expands hostname patterns, padded like the first number, across commas', () => {
    expect(expandHostnames(['manager-{1..3}', 'worker-{08..10}'])).toEqual(['manager-1', 'manager-2', 'manager-3', 'worker-08', 'worker-09', 'worker-10']);
    expect(expandHostnames(['Manager-01, worker-01'])).toEqual(['manager-01', 'worker-01']);
    expect(() => expandHostnames(['pi-{3..1}'])).toThrow('the range must go up');
    expect(() => expandHostnames(['pi-{a..c}'])).toThrow('is not a hostname, or a pattern such as worker-{01..05}');
    expect(() => expandHostnames(['pi-01,PI-01'])).toThrow('"PI-01" is named twice');
    expect(() => expandHostnames(['pi_01'])).toThrow('"pi_01" is not a valid hostname');
  });

  it('reads a plan as a person writes it, defaults filled in, and writes it back the same', () => {
    const plan = parsePlan('cluster.yaml', '# mine\nname: home\nhostnames: manager-01, worker-{01..02}\nmanagers: 1\nimage: hypriotos.img.zip\n');
    expect(plan).toEqual({ name: 'home', hostnames: ['manager-01', 'worker-01', 'worker-02'], managers: 1, image: 'hypriotos.img.zip', user: 'pirate', deploy: [] });
    expect(parsePlan('again.yaml', formatPlan(plan))).toEqual(plan);
  });

  it('names the line and field of every problem, in words a newcomer can act on', () => {
    const text = 'name: home\nhostnames: [pi-01, pi-02]\nmanagers: 2\nimage: x.img\naddresses: [192.168.1.20/24]\ndeploy: [iot]\n';
    const message = messageOf(() => parsePlan('cluster.yaml', text));
    expect(message).toContain('cluster.yaml has 4 problems');
    expect(message).toContain('cluster.yaml:3: managers: 2 managers need 2 up to keep quorum');
    expect(message).toContain('cluster.yaml:5: addresses: 1 address(es) for 2 Pi(s)');
    expect(message).toContain('cluster.yaml:5: addresses: static addresses need a gateway');
    expect(message).toContain('cluster.yaml:6: deploy: iot needs its broker');
    expect(messageOf(() => parsePlan('cluster.yaml', 'name: home\nhostnames: [a]\nmanagers: 1\nimgae: x.img\n'))).toContain('cluster.yaml:4: imgae: Unrecognized key');
    expect(messageOf(() => parsePlan('cluster.yaml', 'name: home\nhostnames: [a]\nmanagers: 1\n'))).toContain('cluster.yaml:1: image: is required');
    expect(messageOf(() => parsePlan('cluster.yaml', 'name: [\n'))).toMatch(/^cluster\.yaml:\d+: /);
  });

  it('checks a plan made of flags the same way, as a usage error', () => {
    const plan: ClusterPlan = { name: 'home', hostnames: ['a', 'b'], managers: 3, user: 'pirate', deploy: [], lab: { name: 'home', subnet: '10.77.0.0/24' } };
    expect(() => validatePlan(plan)).toThrow(UsageError);
    expect(messageOf(() => validatePlan(plan))).toBe('managers: 3 managers, but only 2 Pi(s).');
  });
});

const plan: ClusterPlan = { name: 'home', hostnames: ['m1', 'w1', 'w2'], managers: 1, user: 'pirate', deploy: ['hello-world', 'portainer'], image: 'x.img' };

/** Ports that record what was asked of them; Pis appear as `appear` says, one list per look. */
function fakePorts(state: { cards?: string[]; found?: string[]; appear?: string[][]; failDeploy?: string }) {
  const calls: string[] = [];
  const appear = [...(state.appear ?? [])];
  const ports: JourneyPorts = {
    cardsDone: async () => state.cards ?? [],
    flash: async (_p, hostnames) => void calls.push(`flash ${hostnames.join(',')}`),
    boot: async () => void calls.push('boot'),
    found: async () => state.found ?? [],
    look: async (_p, missing) => {
      calls.push(`look ${missing.join(',')}`);
      return appear.shift() ?? [];
    },
    bootstrap: async () => void calls.push('bootstrap'),
    deploy: async (_p, what) => {
      calls.push(`deploy ${what}`);
      if (what === state.failDeploy) throw new PiswarmError(`${what}: No such image`, { hint: 'go online' });
      return { url: `http://${what}` };
    },
  };
  return { ports, calls };
}
const quiet = { stage: () => undefined, step: () => undefined, warn: () => undefined, checklist: () => undefined };

describe('the init journey', () => {
  it('writes every card, looks until all Pis are there, then bootstraps and deploys; a failed deployment is named and the rest go on', async () => {
    const { ports, calls } = fakePorts({ appear: [['w1'], [], ['m1', 'w2']], failDeploy: 'hello-world' });
    const result = await runJourney(plan, ports, quiet, { gatherTimeoutMs: 60_000, pollMs: 1, sleep: async () => undefined });
    expect(calls).toEqual(['flash m1,w1,w2', 'boot', 'look m1,w1,w2', 'look m1,w2', 'look m1,w2', 'bootstrap', 'deploy hello-world', 'deploy portainer']);
    expect(result.nodes.found).toEqual(['w1', 'm1', 'w2']);
    expect(result.deployed).toEqual([
      { name: 'hello-world', ok: false, error: 'hello-world: No such image', hint: 'go online' },
      { name: 'portainer', ok: true, url: 'http://portainer' },
    ]);
  });

  it('resumed: skips cards written and Pis found before, writes and looks for the rest only', async () => {
    const { ports, calls } = fakePorts({ cards: ['m1'], found: ['w1'], appear: [['m1', 'w2']] });
    const result = await runJourney(plan, ports, quiet, { gatherTimeoutMs: 60_000, pollMs: 1, sleep: async () => undefined });
    expect(calls.slice(0, 3)).toEqual(['flash w2', 'boot', 'look m1,w2']);
    expect(result.cards).toEqual({ flashed: ['w2'], skipped: ['m1', 'w1'] });
    expect(result.nodes).toEqual({ found: ['m1', 'w2'], already: ['w1'] });
  });

  it('names the Pis that never appeared and what to check, and forms no swarm', async () => {
    let clock = 0;
    const { ports, calls } = fakePorts({ appear: [['m1']] });
    const run = runJourney(plan, ports, quiet, { gatherTimeoutMs: 10_000, pollMs: 2000, now: () => clock, sleep: async (ms) => void (clock += ms) });
    await expect(run).rejects.toThrow('2 Pi(s) did not appear within 10 s: w1, w2.');
    await expect(run).rejects.toMatchObject({ exitCode: 3, hint: expect.stringContaining('wifi, that the card\'s country and passphrase are right') });
    expect(calls).not.toContain('bootstrap');
  });

  it('stops at Ctrl-C before its next look or stage, saying how to go on', async () => {
    const interrupt = new AbortController();
    const { ports, calls } = fakePorts({ appear: [['m1']] });
    const look = ports.look;
    ports.look = async (p, missing) => {
      interrupt.abort();
      return look(p, missing);
    };
    const run = runJourney(plan, ports, quiet, { gatherTimeoutMs: 60_000, pollMs: 1, sleep: async () => undefined, signal: interrupt.signal });
    await expect(run).rejects.toThrow('Interrupted while looking for w1, w2.');
    await expect(run).rejects.toMatchObject({ exitCode: 2, hint: expect.stringContaining('what is done is kept') });
    expect(calls).toEqual(['flash m1,w1,w2', 'boot', 'look m1,w1,w2']);
  });
});

describe('card slots', () => {
  const drive = (path: string, size: number, removable = true): Drive => ({ path, name: path, size, model: '', transport: 'usb', removable, readOnly: false, type: 'disk', devices: [], mountpoints: [], swap: false, partitions: [] });
  const timeline = (frames: Drive[][]) => {
    let i = 0;
    return { drives: async () => frames[Math.min(i, frames.length - 1)]!, sleep: async () => void i++ };
  };

  it('takes a card put in after watching began (not one already in, not a fixed disk), and waits a moment for a second reader', async () => {
    const before = new Set(['/dev/sdb']);
    const frames = [[drive('/dev/sda', 500, false), drive('/dev/sdb', 32), drive('/dev/sdc', 0)], [drive('/dev/sdb', 32), drive('/dev/sdc', 32)], [drive('/dev/sdb', 32), drive('/dev/sdc', 32), drive('/dev/sdd', 16)]];
    expect(await waitForCards(timeline(frames), before, 3, { pollMs: 1000, settleMs: 3000 })).toEqual(['/dev/sdc', '/dev/sdd']);
    expect(await waitForCards(timeline(frames), before, 1, { pollMs: 1000, settleMs: 3000 })).toEqual(['/dev/sdc']);
  });

  it('waits until the written cards are taken out', async () => {
    const slots = timeline([[drive('/dev/sdc', 32)], [drive('/dev/sdc', 32)], [drive('/dev/sdc', 0)]]);
    let polls = 0;
    await waitForRemoval({ drives: slots.drives, sleep: async (ms) => void (polls++, await slots.sleep(ms)) }, ['/dev/sdc'], { pollMs: 1000 });
    expect(polls).toBe(2);
  });
});
