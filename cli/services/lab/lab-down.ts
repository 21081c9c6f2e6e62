import { readFile, rm } from 'node:fs/promises';
import type { CommandRunner } from '../../adapters/process.js';
import { PiswarmError } from '../../errors.js';
import type { Reporter } from '../../io.js';
import { removeBridge } from './lab-network.js';
import { stopNode } from './lab-node.js';
import { labDir, readLabState } from './lab-state.js';
import { assertRoot } from './prerequisites.js';
import { terminate } from './processes.js';

/** Takes a lab down completely: processes, namespaces, bridge, iptables rules, mounts, files. */
export async function labDown(runner: CommandRunner, reporter: Reporter, options: { name: string }): Promise<{ removed: boolean }> {
  assertRoot('piswarm lab down');
  const state = await readLabState(options.name);
  if (!state) return { removed: false };
  const { plan } = state;

  await Promise.all(
    plan.nodes.map(async (node) => {
      await stopNode(runner, plan, node, state.nodes[node.hostname]?.anchorPid);
      reporter.step(`${node.hostname} stopped`);
    }),
  );
  if (state.registryPid) await terminate([state.registryPid], 5000);
  await removeBridge(runner, plan);
  reporter.step(`Bridge ${plan.bridge} and its firewall rules removed`);
  if (state.mountedBinfmt) await runner.run('umount', ['/proc/sys/fs/binfmt_misc'], { allowFailure: true });

  // Node mounts live in private namespaces that die with their processes; check before deleting
  // files, because deleting through a leaked bind mount of /etc would destroy the host's own.
  const dir = labDir(plan.name);
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.split(' ')[4]?.startsWith(`${dir}/`));
  if (mounts.length > 0) {
    throw new PiswarmError(`Lab ${plan.name} still has mounts under ${dir}; its files were kept.`, {
      hint: `Unmount them (\`grep ${dir} /proc/self/mountinfo\`) and run lab down again.`,
    });
  }
  await rm(dir, { recursive: true, force: true });
  reporter.step(`Lab ${plan.name} removed`);
  return { removed: true };
}
