import { expect } from 'vitest';
import { piswarm, startPiswarm, type CliResult } from './cli.js';
import { labEnv } from './lab.js';
import { until } from './wait.js';

/**
 * Runs piswarm with `args` against `inventory`, and pulls `node`'s cable (`lab cut`) the moment its
 * stderr shows `cue`: the command is frozen (SIGSTOP) meanwhile, so the loss lands in that step
 * every time, and only keepalives can tell (no FIN, no RST). The cable goes back in after.
 */
export async function cutDuring(lab: string, inventory: string, env: NodeJS.ProcessEnv, args: string[], cue: string, node: string): Promise<CliResult> {
  const labCommand = (command: string) => piswarm(['lab', command, '--name', lab, node], { env: labEnv });
  const run = startPiswarm(['--inventory', inventory, '--verbose', ...args], { env });
  await until(() => run.stderr().includes(cue) || run.child.exitCode !== null, 240_000, `"${cue}"`, 5);
  expect(run.child.exitCode, run.stderr()).toBeNull();
  run.child.kill('SIGSTOP');
  try {
    const cut = await labCommand('cut');
    expect(cut.code, cut.stderr).toBe(0);
  } finally {
    run.child.kill('SIGCONT');
  }
  // A run that does not end is a failure to see, not a test timeout to guess at.
  const stuck = setTimeout(() => run.child.kill('SIGKILL'), 150_000);
  const result = await run.result.finally(() => clearTimeout(stuck));
  expect(result.code, `killed after 150 s:\n${result.stderr}`).not.toBe(-1);
  const healed = await labCommand('heal');
  expect(healed.code, healed.stderr).toBe(0);
  return result;
}
