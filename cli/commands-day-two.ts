import { Command } from 'commander';
import type { ActionWiring } from './program.js';

/** The day-two commands: what quietly breaks a swarm, and rolling updates of its nodes. */

export function doctorCommand(action: ActionWiring): Command {
  return new Command('doctor')
    .description('Check every node for what quietly breaks Pi swarms (Docker, Raft, certificates, clocks, cgroups, overlay, iptables, disk, logs, power); exit 0 only when all is ok')
    .option('--only <node...>', 'only these inventory nodes (hostname, MAC or IP)')
    .option('--fix', 'apply the safe fixes (log rotation, time sync, the cgroup flag in cmdline.txt) after a confirmation; restarts nothing', false)
    .addHelpText(
      'after',
      '\nExit codes: 0 all ok, 1 some check failed, 4 warnings only.\n\nExamples:\n  piswarm doctor\n  piswarm doctor --only worker-02 --verbose\n  piswarm doctor --json | jq \'.nodes[].checks[] | select(.status != "ok")\'\n  piswarm doctor --fix --yes\n',
    )
    .exitOverride()
    .action(action(async () => (await import('./commands/doctor.js')).doctorAction, (o: { fix?: boolean }) => o.fix === true));
}
