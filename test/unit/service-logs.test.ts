import { describe, expect, it } from 'vitest';
import { formatLogLine, parseLogLine, sinceSeconds } from '../../cli/core/service-logs.js';

describe('service log lines', () => {
  const raw = '2026-11-23T10:06:27.126000000Z com.docker.swarm.node.id=n1abcdefghijklm,com.docker.swarm.service.id=s1,com.docker.swarm.task.id=h6m3k9df2802xyz [::ffff:10.77.0.1]:33894: url:/';
  const context = { taskName: (id: string) => (id === 'h6m3k9df2802xyz' ? 'hello-world_web.3' : undefined), nodeName: (id: string) => (id === 'n1abcdefghijklm' ? 'pi-01' : undefined) };

  it('reads the time, task and node from a line the engine sent with details, and prints it as docker service logs does', () => {
    const line = parseLogLine(raw);
    expect(line).toEqual({ timestamp: '2026-11-23T10:06:27.126000000Z', taskId: 'h6m3k9df2802xyz', nodeId: 'n1abcdefghijklm', message: '[::ffff:10.77.0.1]:33894: url:/' });
    expect(formatLogLine(line, context)).toBe('2026-11-23T10:06:27.126000000Z hello-world_web.3.h6m3k9df2802@pi-01    | [::ffff:10.77.0.1]:33894: url:/');
  });

  it('names a task or node it does not know by its ID, and keeps a message without details whole', () => {
    expect(formatLogLine(parseLogLine('2026-11-23T10:06:27Z com.docker.swarm.node.id=zzzzzzzzzzzzzzzz,com.docker.swarm.task.id=t9 hi'), context)).toBe('2026-11-23T10:06:27Z task.t9@zzzzzzzzzzzz    | hi');
    expect(parseLogLine('plain text, no time')).toEqual({ message: 'plain text, no time', timestamp: undefined, taskId: undefined, nodeId: undefined });
  });

  it.each([
    ['10m', String(1_800_000_000 - 600)],
    ['1h30m', String(1_800_000_000 - 5400)],
    ['1700000000', '1700000000'],
    ['2026-11-23T09:00:00Z', String(Date.parse('2026-11-23T09:00:00Z') / 1000)],
  ])('takes --since %s as the engine wants it', (since, seconds) => {
    expect(sinceSeconds(since, 1_800_000_000_000)).toBe(seconds);
  });
});
