import { describe, expect, it } from 'vitest';
import { commandLine, StepJournal } from '../../cli/commands/step-journal.js';
import { ConnectionLostError, ExitCode, PiswarmError } from '../../cli/errors.js';

const lost = () => new ConnectionLostError('manager-01', 'no answer for 15 s').during('read the services');

describe('a lost connection in a multi-step command', () => {
  it('says what was done, what was under way and the command that finishes', async () => {
    const journal = new StepJournal();
    const error = await journal
      .guard(['node', 'drain', 'worker-01', '--surge'], async () => {
        journal.note('pause worker-01');
        journal.note('scale hello_web to 3');
        journal.note('drain worker-01: 2 hello_web task(s) move to worker-02');
        throw lost();
      })
      .catch((e: ConnectionLostError) => e);
    expect(error.message).toBe(
      'manager-01: the SSH connection was lost while trying to read the services (no answer for 15 s), during: drain worker-01: 2 hello_web task(s) move to worker-02. Already done: pause worker-01; scale hello_web to 3.',
    );
    expect(error.hint).toBe('That step may or may not have finished. Once manager-01 answers again (powered on? cable in?), finish with: piswarm node drain worker-01 --surge');
    expect(error.exitCode).toBe(ExitCode.partial);
  });

  it('says nothing was changed when the loss came before the first step', async () => {
    const error = await new StepJournal().guard(['node', 'rm', 'worker-02'], () => Promise.reject(lost())).catch((e: Error) => e);
    expect(error.message).toContain('Nothing had been changed yet.');
  });

  it("keeps a service's own account of the work", async () => {
    const own = lost().after({ done: ['stack hello removed'] });
    const error = await new StepJournal().guard(['swarm', 'teardown'], () => Promise.reject(own)).catch((e: Error) => e);
    expect(error.message).toContain('Already done: stack hello removed.');
    expect((error as PiswarmError).hint).toContain('finish with: piswarm swarm teardown');
  });

  it('lets any other error through unchanged', async () => {
    const other = new PiswarmError('no');
    await expect(new StepJournal().guard(['x'], () => Promise.reject(other))).rejects.toBe(other);
  });

  it('quotes words the shell would split', () => {
    expect(commandLine(['stack', 'deploy', 'my stacks/hello.yml', '--name', 'hello'])).toBe("piswarm stack deploy 'my stacks/hello.yml' --name hello");
  });
});
