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

const passphraseOption = ['--passphrase-stdin', 'read the passphrase from the first line of stdin (else PISWARM_BACKUP_PASSPHRASE, else asked)'] as const;

export function backupCommand(action: ActionWiring): Command {
  return new Command('backup')
    .description('Back up what rebuilds the cluster into one encrypted file (mode 600): the inventory, every service as deployed, networks, configs with their content, secrets (content from the files piswarm made them from), node labels, roles and availability')
    .option('-o, --output <file>', 'the backup file to write')
    .option('--list <file>', 'show what a backup holds, and stop')
    .option(...passphraseOption, false)
    .addHelpText(
      'after',
      '\nThe passphrase is asked twice (or taken from PISWARM_BACKUP_PASSPHRASE or --passphrase-stdin); scrypt derives the key, AES-256-GCM seals the file.\n\nExamples:\n  piswarm backup --output cluster-$(date +%F).backup\n  piswarm backup --list cluster-2026-12-01.backup\n  # nightly, from cron (docs/backup.md)\n  piswarm backup --passphrase-stdin -o /srv/backups/swarm-$(date +%F).backup < ~/.config/piswarm/backup-passphrase\n',
    )
    .exitOverride()
    .action(action(async () => (await import('./commands/backup.js')).backupAction));
}

export function restoreCommand(action: ActionWiring): Command {
  return new Command('restore')
    .description('Restore a backup into a running swarm (a new one after a disaster, or the same one): configs, secrets, node labels by hostname, networks and services, then wait until they converge')
    .argument('<file>', 'a file written by piswarm backup')
    .option('--secret <name=file...>', 'the content of a secret the backup could not hold')
    .option('--skip-missing', 'restore the rest when a secret has no content (its services are left out; exit 3)', false)
    .option('--timeout <seconds>', 'how long the services may take to converge', '300')
    .option('--window <seconds>', 'how long each task must have run to count', '5')
    .option(...passphraseOption, false)
    .option('--dry-run', 'print the plan, and stop', false)
    .addHelpText('after', '\nExamples:\n  piswarm restore cluster.backup --dry-run\n  piswarm restore cluster.backup --yes\n  piswarm restore cluster.backup --secret db_password=./db-password.txt\n')
    .exitOverride()
    .action(action(async () => (await import('./commands/backup.js')).restoreAction, (o: { dryRun?: boolean }) => !o.dryRun));
}

export function nodeReplaceCommand(action: ActionWiring): Command {
  return new Command('replace')
    .description("Put a freshly flashed Pi in a dead (or retiring) one's place: NEW secured and joined with OLD's role and labels, OLD removed from the swarm and the inventory, its pinned tasks running on NEW")
    .argument('<old>', 'the node that goes: hostname, IP or MAC (it may be unreachable)')
    .argument('<new>', 'the Pi that takes its place: its IP, or its MAC or hostname in the inventory (filed by discover)')
    .option('--keep-password', "keep NEW's login password (default: replaced by a random one)", false)
    .option('--password-stdin', "NEW's login password on stdin (default: HypriotOS's published one)", false)
    .option('--timeout <seconds>', 'how long each step (and the services coming back) may take', '300')
    .option('--dry-run', 'print the steps and why, and stop', false)
    .addHelpText('after', '\nA manager is replaced by promoting NEW before OLD is demoted, so the count of managers stays odd.\n\nExamples:\n  piswarm node replace worker-02 192.168.1.37 --dry-run\n  piswarm node replace manager-02 b8:27:eb:4f:10:22 --yes\n')
    .exitOverride()
    .action(action(async () => (await import('./commands/node-replace.js')).nodeReplaceAction, (o: { dryRun?: boolean }) => !o.dryRun));
}
