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

export function upgradeCommand(action: ActionWiring): Command {
  return new Command('upgrade')
    .description('Rolling update, one node at a time, without stopping service: workers first, the leader last; each drained, updated (the OS\'s packages, Docker included), rebooted when needed, waited for, checked, activated')
    .option('--run <command>', 'run this on each node instead of the package upgrade (as the login user; sudo for root)')
    .option('--reboot', 'reboot every node after its update, not only when the update asks for it', false)
    .option('--only <node...>', 'only these nodes (hostname, MAC or IP), still in the safe order')
    .option('--surge', 'scale single-replica services up before each drain, so they never stop', false)
    .option('--timeout <seconds>', 'how long the update may take on one node', '1800')
    .option('--boot-timeout <seconds>', 'how long a node may take to come back after its reboot', '600')
    .option('--dry-run', 'print the order and the steps, and stop', false)
    .addHelpText(
      'after',
      '\nA run that stops (an update that fails, a node that does not come back) leaves that node drained; the same command again resumes there.\n\nExamples:\n  piswarm upgrade --dry-run\n  piswarm upgrade --yes\n  # the same Docker everywhere\n  piswarm upgrade --run "sudo apt-get install -y docker-ce=5:24.0.7-1~debian.12~bookworm"\n  # apply a fix that needs a reboot (doctor --fix says which)\n  piswarm upgrade --only worker-02 --run true --reboot\n',
    )
    .exitOverride()
    .action(action(async () => (await import('./commands/upgrade.js')).upgradeAction, (o: { dryRun?: boolean }) => !o.dryRun));
}
