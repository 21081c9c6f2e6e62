import { spawn } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { CLI, piswarm } from '../helpers/cli.js';
import { labEnv, labLeftovers } from '../helpers/lab.js';

const NAME = 'intr';

afterAll(async () => {
  await piswarm(['lab', 'down', '--name', NAME], { env: labEnv });
});

it('Ctrl-C during lab up stops cleanly, takes down the half-made lab and exits as cancelled', async () => {
  const child = spawn(process.execPath, [CLI, 'lab', 'up', '--name', NAME, '--nodes', '4', '--subnet', '10.80.0.0/24'], {
    env: { ...process.env, ...labEnv, NO_COLOR: '1' },
  });
  let stderr = '';
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  await new Promise<void>((resolve) =>
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      // Interrupt once the lab has a bridge, a registry and nodes booting.
      if (stderr.includes('Registry listening')) resolve();
    }),
  );
  child.kill('SIGINT');
  expect(await exited).toBe(2);
  expect(stderr).toContain('Lab intr interrupted; taking down what was made.');
  expect(stderr).toContain('Error: lab up was interrupted.');
  expect(stderr).toContain('Hint: Nothing was left behind.');
  expect(labLeftovers(NAME, [])).toEqual([]);
});
