import { Command, CommanderError, Option } from 'commander';
import { acquireRunLock } from './adapters/run-lock.js';
import type { NodeFault } from './services/lab/lab-power.js';
import { createContext, type Context, type GlobalOptions } from './context.js';
import { describeError, ExitCode, UsageError } from './errors.js';
import { imagesCommand } from './commands-images.js';
import { initCommand } from './commands-init.js';
import { backupCommand, doctorCommand, nodeReplaceCommand, restoreCommand, upgradeCommand } from './commands-day-two.js';

export const VERSION = '0.1.0';

/** A command's action: gets the context and returns an exit code. */
export type Action<O> = (context: Context, options: O) => Promise<number>;

/** Parses argv, runs the command, and maps any error to a message and an exit code. */
export async function run(argv: string[]): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const program = buildProgram((code) => (exitCode = code));
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    // commander has already printed its own message (unknown option, missing argument, --help).
    if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    const verbose = argv.includes('--verbose');
    const report = describeError(error, verbose);
    const json = argv.includes('--json');
    if (json) process.stdout.write(`${JSON.stringify({ error: { message: report.message, hint: report.hint, exitCode: report.exitCode } })}\n`);
    process.stderr.write(`Error: ${report.message}\n${report.hint ? `Hint: ${report.hint}\n` : ''}${report.stack ? `${report.stack}\n` : ''}`);
    return report.exitCode;
  }
}

export function buildProgram(onExit: (code: number) => void = () => undefined): Command {
  /**
   * Wires a subcommand to a lazily imported action, so `--help` loads none of them. A command that
   * `changes` the cluster with these options holds the inventory's run lock while it runs.
   */
  const action =
    <O>(load: () => Promise<Action<O>>, changes?: (options: O) => boolean) =>
    async function (this: Command) {
      const all = this.optsWithGlobals() as GlobalOptions & O;
      const act = await load();
      const name = [this.parent?.name(), this.name()].filter((n) => n && n !== 'piswarm').join(' ');
      const changing = changes?.(all) ? { command: name, lockWaitMs: lockWaitMs() } : undefined;
      const release = changing ? await acquireRunLock(all.inventory, name, { waitMs: changing.lockWaitMs, pollMs: 200 }) : undefined;
      try {
        onExit(await act(createContext(all, changing), { ...all, args: this.args } as O));
      } finally {
        await release?.();
      }
    };

  const program = new Command('piswarm')
    .description('From a pile of Raspberry Pis to a running Docker Swarm home lab, and keeping it running.')
    .version(VERSION)
    .option('--json', 'machine-readable output on stdout; no colours or progress', false)
    .option('-y, --yes', 'never prompt: go ahead where a confirmation would be asked', false)
    .option('--verbose', 'more detail, and stack traces on errors', false)
    .addOption(new Option('--inventory <file>', 'inventory file').default('piswarm.yaml').env('PISWARM_INVENTORY'))
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureHelp({ showGlobalOptions: true });
  program.addCommand(initCommand(action));
  program.addCommand(flashCommand(action));
  program.addCommand(discoverCommand(action));
  program.addCommand(bootstrapCommand(action));
  program.addCommand(swarmCommand(action));
  program.addCommand(stackCommand(action));
  program.addCommand(serviceCommand(action));
  program.addCommand(nodeCommand(action));
  program.addCommand(deployCommand(action));
  program.addCommand(doctorCommand(action));
  program.addCommand(upgradeCommand(action));
  program.addCommand(backupCommand(action));
  program.addCommand(restoreCommand(action));
  program.addCommand(dashboardCommand(action));
  program.addCommand(logsCommand(action));
  program.addCommand(imagesCommand(action));
  program.addCommand(labCommand(action));
  program.addCommand(runCommand(action));
  return program;
}

export type ActionWiring = <O>(load: () => Promise<Action<O>>, changes?: (options: O) => boolean) => (this: Command) => Promise<void>;
/** How long a changing command waits for another's run lock: PISWARM_LOCK_WAIT seconds, 5 unless set. */
function lockWaitMs(): number {
  const text = process.env.PISWARM_LOCK_WAIT ?? '5';
  const seconds = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || seconds > 86_400) throw new UsageError(`PISWARM_LOCK_WAIT=${text} is not a number of seconds.`, 'Set it to how long to wait for another run, e.g. 60; 0 refuses at once.');
  return seconds * 1000;
}

/** Every run of the command changes the cluster; unless a dry run; only with --save. */
const always = () => true;
const unlessDryRun = (o: { dryRun?: boolean }) => !o.dryRun;

function labCommand(action: ActionWiring): Command {
  const lab = new Command('lab').description('A virtual home lab of simulated Raspberry Pis (real dockerd and sshd) on this Linux machine');
  lab.exitOverride();
  const nameOption = () => new Option('--name <name>', 'lab name (up to 8 letters and digits)').default('pilab');

  lab
    .command('up')
    .description('Start N simulated Pis (or repair and grow a running lab). Needs root.')
    .option('-n, --nodes <count>', 'number of simulated Pis', '3')
    .addOption(nameOption())
    .option('--subnet <cidr>', 'IPv4 subnet of the lab bridge', '10.77.0.0/24')
    .option('--no-install', 'fail instead of installing missing Debian packages')
    .option('--timeout <seconds>', 'how long to wait for the nodes to boot', '180')
    .option('--card <file...>', "boot one node per flashed card (image file or device), applying the card's user-data like first boot")
    .option('--cpu <fraction>', "each Pi's share of one core (e.g. 0.25), so node-side costs show as on small Pis")
    .addHelpText('after', '\nExamples:\n  # three Pis, as in a first home lab\n  sudo piswarm lab up\n  # Pis as slow as a Pi Zero (a quarter of one core each)\n  sudo piswarm lab up --cpu 0.25\n  # a bigger lab on another subnet\n  sudo piswarm lab up --nodes 7 --subnet 10.78.0.0/24\n  # boot nodes from cards made by piswarm flash --output\n  sudo piswarm lab up --card manager-01.img worker-01.img worker-02.img\n')
    .exitOverride()
    .action(action(async () => (await import('./commands/lab/up.js')).labUpAction));

  lab
    .command('status')
    .description('Show the lab nodes with their IP, MAC, sshd and dockerd state')
    .addOption(nameOption())
    .addHelpText('after', '\nExamples:\n  piswarm lab status\n  # for scripts\n  piswarm lab status --json | jq -r ".nodes[].ip"\n')
    .exitOverride()
    .action(action(async () => (await import('./commands/lab/status.js')).labStatusAction));

  lab
    .command('down')
    .description('Stop the lab and remove everything it made. Needs root.')
    .addOption(nameOption())
    .addHelpText('after', '\nExamples:\n  sudo piswarm lab down\n  sudo piswarm lab down --name big\n')
    .exitOverride()
    .action(action(async () => (await import('./commands/lab/down.js')).labDownAction));

  // Faults to rehearse on purpose, and their ends: a node's power and its network cable.
  const faults: Array<[NodeFault, string, string]> = [
    ['stop', 'Power a lab node off: every process of it gone, its disk kept (to rehearse a dead Pi). Needs root.', '\nExamples:\n  # a worker dies during a drain\n  sudo piswarm lab stop pi-03\n  sudo piswarm lab start pi-03\n'],
    ['start', 'Power a stopped lab node on again; waits until its sshd and dockerd answer. Needs root.', '\nExamples:\n  sudo piswarm lab start pi-03\n'],
    ['cut', 'Unplug a lab node\'s network cable: it runs on, unreachable. Needs root.', '\nExamples:\n  # a manager drops off the LAN\n  sudo piswarm lab cut pi-01\n  sudo piswarm lab heal pi-01\n'],
    ['heal', 'Plug a lab node\'s network cable back in. Needs root.', '\nExamples:\n  sudo piswarm lab heal pi-01\n'],
  ];
  for (const [fault, description, examples] of faults) {
    lab
      .command(fault)
      .description(description)
      .argument('<node>', 'node hostname, e.g. pi-02')
      .addOption(nameOption())
      .option('--timeout <seconds>', 'how long a start waits for the node to boot', '180')
      .addHelpText('after', examples)
      .exitOverride()
      .action(action(async () => (await import('./commands/lab/fault.js')).labFaultAction(fault)));
  }

  lab
    .command('exec')
    .description("Run a command inside a lab node, as its console would (root, no SSH). Needs root.")
    .argument('<node>', 'node hostname, e.g. pi-01')
    .argument('<command...>', 'the command and its arguments (put -- before it)')
    .addOption(nameOption())
    .addHelpText('after', "\nExamples:\n  sudo piswarm lab exec pi-01 -- docker info\n  # simulate a re-flashed card: new SSH host keys\n  sudo piswarm lab exec pi-02 -- sh -c 'rm /etc/ssh/ssh_host_* && ssh-keygen -A'\n")
    .exitOverride()
    .action(action(async () => (await import('./commands/lab/exec.js')).labExecAction));
  return lab;
}

function flashCommand(action: ActionWiring): Command {
  return new Command('flash')
    .description('Write a Raspberry Pi image to SD cards: checksum first, read back after, then personalise each card (hostname, user, SSH key, wifi, address)')
    .argument('[image]', '.img, .img.zip, .img.xz, .img.gz, or an http(s):// URL')
    .option('--device <dev...>', 'card device(s), e.g. /dev/sdb (one for all cards, or one per hostname)')
    .option('--output <file...>', 'write image file(s) instead of cards, one per hostname')
    .option('--hostname <names>', 'hostname of each card, comma-separated: manager-01,worker-01,worker-02')
    .option('--sha256 <hex>', 'expected SHA-256 of the image file (default: from IMAGE.sha256 or SHA256SUMS next to it)')
    .option('--no-checksum', 'write even when no checksum can be found')
    .option('--user <name>', 'the user to set up', 'pirate')
    .option('--ssh-key <file>', 'public key to authorise (default ~/.ssh/id_ed25519.pub if present)')
    .option('--password', 'set a new password for the user (prompted, or the first line of stdin); stored hashed')
    .option('--no-password', 'lock password login: SSH keys only')
    .option('--wifi-ssid <ssid>', 'wifi network to join')
    .option('--wifi-password [refused]', 'ask for the wifi passphrase (or set PISWARM_WIFI_PASSWORD); written as the derived PSK, never taken on the command line')
    .option('--wifi-country <code>', 'wifi country, e.g. GB')
    .option('--ip <cidr>', 'static address, e.g. 192.168.1.20/24')
    .option('--gateway <ip>', 'default gateway for --ip')
    .option('--dns <ip...>', 'DNS servers for --ip (default: the gateway)')
    .option('--force', 'allow a drive that is not removable', false)
    .option('--dry-run', 'do every check, then stop before opening anything for writing', false)
    .option('--verify-all', 'also read back the blocks skipped as zeros', false)
    .option('--list', 'list the drives that could be cards, and whether piswarm would flash them', false)
    .addHelpText(
      'after',
      '\nExamples:\n  # see the card readers\n  piswarm flash --list\n  # three cards through one reader, checksum from the .sha256 beside the image\n  sudo piswarm flash hypriotos-rpi-v1.12.3.img.zip --device /dev/sdb --hostname manager-01,worker-01,worker-02\n  # an image file for a lab node, no prompts\n  piswarm flash https://example.org/hypriotos.img.zip --output manager-01.img --hostname manager-01 --yes\n',
    )
    .exitOverride()
    .action(action(async () => (await import('./commands/flash.js')).flashAction));
}

function discoverCommand(action: ActionWiring): Command {
  return new Command('discover')
    .description('Find the Raspberry Pis on the LAN (port-22 sweep + MAC vendor), identify them, and file them by MAC')
    .option('--cidr <cidr...>', 'subnet(s) to sweep, e.g. 192.168.1.0/24 (default: this machine\'s LAN interfaces)')
    .option('--interface <name>', 'sweep the subnet of this interface (container bridges included when named)')
    .option('--timeout <ms>', 'per host: to connect, and again for the SSH banner', '500')
    .option('--login', 'log in to each Pi (key, agent, or the HypriotOS default password) for hostname, model, OS, Docker and swarm state', false)
    .option('--save', 'add new Pis to the inventory and update the address of known ones (nothing is removed)', false)
    .option('--all', 'also list hosts that are not Pis', false)
    .option('--password-stdin', 'read the SSH password for --login from standard input', false)
    .option('--user <name>', "login user for Pis piswarm did not flash (a flashed card's own user is known); recorded with --save")
    .option('--trust-new-hosts', "log in to a new Pi whose host key is none of the flashed cards' still to be found", false)
    .addHelpText(
      'after',
      '\nExamples:\n  piswarm discover\n  piswarm discover --cidr 192.168.1.0/24 --login --save\n  piswarm discover --json | jq -r \'.hosts[].ip\'\n',
    )
    .exitOverride()
    .action(action(async () => (await import('./commands/discover.js')).discoverAction, (o: { save?: boolean }) => o.save === true));
}

function bootstrapCommand(action: ActionWiring): Command {
  return new Command('bootstrap')
    .description('Secure the Pis (your SSH key in, default password out) and form the swarm: init on the first manager, joins in parallel')
    .option('--managers <count>', 'number of managers: 1, 3 or 5 (default: the inventory\'s managers, else 1)')
    .option('--only <node...>', 'only these inventory nodes (hostname, MAC or IP), e.g. to finish after a failure')
    .option('--nodes <ips>', 'quick start: these addresses, comma-separated, added to the inventory first')
    .option('--advertise-addr <ip>', 'address the first manager advertises (default: its inventory IP)')
    .option('--keep-password', 'leave passwords and SSH password login as they are', false)
    .option('--lock-password', 'lock the password instead of replacing it with a random one', false)
    .option('--force', 'go ahead with an even number of managers or more than 7, and move nodes that are in another swarm into this one (they leave it first)', false)
    .option('--accept-new-host-key', 'connect to nodes whose SSH host key changed (re-flashed on purpose) and pin the new key', false)
    .option('--concurrency <n>', 'nodes at once', '16')
    .option('--timeout <seconds>', 'per command on a node', '120')
    .option('--password-stdin', 'read the login password from standard input (default for user pirate: hypriot)', false)
    .option('--user <name>', 'login user for nodes the inventory names none for (Pis piswarm did not flash); recorded in the inventory')
    .addHelpText(
      'after',
      '\nExamples:\n  # the inventory\'s nodes, one manager\n  piswarm bootstrap\n  # three managers for a cluster that survives one manager failing\n  piswarm bootstrap --managers 3\n  # quick start without discover\n  piswarm bootstrap --nodes 192.168.1.21,192.168.1.22,192.168.1.23\n  # finish a node that was off during the first run\n  piswarm bootstrap --only worker-02\n',
    )
    .exitOverride()
    .action(action(async () => (await import('./commands/bootstrap.js')).bootstrapAction, always));
}

function swarmCommand(action: ActionWiring): Command {
  const swarm = new Command('swarm').description('Manage the swarm as a whole');
  swarm.exitOverride();
  swarm
    .command('teardown')
    .description('Remove every stack and service, and make every node leave the swarm (managers last); the inventory keeps the nodes')
    .option('--concurrency <n>', 'nodes at once', '16')
    .option('--timeout <seconds>', 'per command on a node', '120')
    .option('--password-stdin', 'read the SSH password from standard input', false)
    .addHelpText('after', '\nExamples:\n  piswarm swarm teardown\n  piswarm swarm teardown --yes   # no question, for scripts\n')
    .exitOverride()
    .action(action(async () => (await import('./commands/swarm/teardown.js')).teardownAction, always));
  return swarm;
}

function stackCommand(action: ActionWiring): Command {
  const stack = new Command('stack').description('Deploy compose stacks to the swarm and follow them until they converge');
  stack.exitOverride();
  stack
    .command('deploy')
    .description('Check a compose file (syntax, swarm support, image architectures), deploy it, and wait until every service converged')
    .argument('[file...]', 'compose file(s); later ones are merged over earlier ones')
    .option('-c, --compose-file <file...>', 'more compose files (e.g. a lab override)')
    .option('--name <name>', 'stack name (default: the first file\'s name, e.g. hello-world)')
    .option('--timeout <seconds>', 'how long to wait for convergence', '300')
    .option('--window <seconds>', 'how long every task must have been running (and healthy) to count', '3')
    .option('--skip-arch-check', 'deploy even if an image lacks a variant for some node\'s architecture', false)
    .option('--prune', 'remove the stack\'s services that the files no longer have', false)
    .option('--dry-run', 'make every check and print the plan (services created, updated, unchanged, removed; secrets and configs to create); change nothing', false)
    .addHelpText(
      'after',
      '\nExamples:\n  piswarm stack deploy stacks/hello-world.yml\n  # on the virtual lab (host-mode ports: it has no IPVS)\n  HELLO_PORT_MODE=host piswarm stack deploy stacks/hello-world.yml -c stacks/hello-world.lab.yml\n  HELLO_IMAGE=10.77.0.1:5000/hello-world:1 piswarm stack deploy stacks/hello-world.yml --timeout 120\n',
    )
    .exitOverride()
    .action(action(async () => (await import('./commands/stack/deploy.js')).stackDeployAction, unlessDryRun));
  stack
    .command('config')
    .description('Print the compose file exactly as `stack deploy` would send it: merged, variables substituted, env_file read in, every $ escaped, file secrets as the objects made from them')
    .argument('[file...]', 'compose file(s); later ones are merged over earlier ones')
    .option('-c, --compose-file <file...>', 'more compose files (e.g. a lab override)')
    .option('--name <name>', 'stack name, for the names of secrets and configs made from files (default: the first file\'s name)')
    .addHelpText(
      'after',
      '\nExamples:\n  HELLO_PORT_MODE=host piswarm stack config stacks/hello-world.yml -c stacks/hello-world.lab.yml\n  # compare with Docker\'s own loader\n  piswarm stack config app.yml > sent.yml && docker stack config -c sent.yml\n',
    )
    .exitOverride()
    .action(action(async () => (await import('./commands/stack/config.js')).stackConfigAction));
  stack
    .command('diff')
    .description('Show what a deploy would change in the running stack: image, replicas, environment keys (values hidden), ports, constraints, resources')
    .argument('[file...]', 'compose file(s); later ones are merged over earlier ones')
    .option('-c, --compose-file <file...>', 'more compose files (e.g. a lab override)')
    .option('--name <name>', 'stack name (default: the first file\'s name)')
    .option('--prune', 'also show the services a deploy with --prune would remove', false)
    .addHelpText('after', '\nExamples:\n  HELLO_PORT_MODE=host piswarm stack diff stacks/hello-world.yml -c stacks/hello-world.lab.yml\n  piswarm stack diff app.yml --json\n')
    .exitOverride()
    .action(action(async () => (await import('./commands/stack/plan.js')).stackDiffAction));
  stack
    .command('ls')
    .description('List the stacks')
    .exitOverride()
    .action(action(async () => (await import('./commands/stack/manage.js')).stackLsAction));
  stack
    .command('ps')
    .description("List a stack's tasks: node, desired and current state, error")
    .argument('<name>', 'stack name')
    .exitOverride()
    .action(action(async () => (await import('./commands/stack/manage.js')).stackPsAction));
  stack
    .command('rm')
    .description('Remove a stack and its services')
    .argument('<name>', 'stack name')
    .exitOverride()
    .action(action(async () => (await import('./commands/stack/manage.js')).stackRmAction, always));
  return stack;
}

function nodeCommand(action: ActionWiring): Command {
  const node = new Command('node').description("The swarm's nodes: list, drain, activate, promote, demote, remove and replace them safely");
  node.exitOverride();
  const load = async () => import('./commands/node.js');
  node
    .command('ls')
    .description('Every swarm node: role, leader, status, availability, architecture, engine, tasks, and its IP and MAC from the inventory')
    .exitOverride()
    .action(action(async () => (await load()).nodeLsAction));
  node
    .command('drain')
    .description('Move every task off a node and wait until they all run elsewhere; refused up front when some task fits nowhere else')
    .argument('<node>', 'hostname, IP or MAC')
    .option('--surge', 'scale services whose every task is on the node up first (and back after), so they never stop', false)
    .option('--force', 'drain even when some tasks fit on no other node (they wait, pending)', false)
    .option('--timeout <seconds>', 'how long to wait for the tasks to run elsewhere', '300')
    .option('--dry-run', 'print what would move where, and stop', false)
    .addHelpText('after', '\nExamples:\n  piswarm node drain worker-02 --dry-run\n  piswarm node drain worker-02 --surge\n  # when done with it\n  piswarm node activate worker-02\n')
    .exitOverride()
    .action(action(async () => (await load()).nodeDrainAction, unlessDryRun));
  node
    .command('activate')
    .description('Let the scheduler use a drained or paused node again')
    .argument('<node>', 'hostname, IP or MAC')
    .exitOverride()
    .action(action(async () => (await load()).nodeActivateAction, always));
  node
    .command('promote')
    .description('Make a worker a manager (warns when the manager count turns even)')
    .argument('<node>', 'hostname, IP or MAC')
    .exitOverride()
    .action(action(async () => (await load()).nodePromoteAction, always));
  node
    .command('demote')
    .description('Make a manager a worker; refused when the managers left would lose quorum, or none would be left')
    .argument('<node>', 'hostname, IP or MAC')
    .exitOverride()
    .action(action(async () => (await load()).nodeDemoteAction, always));
  node
    .command('rm')
    .description('Take a node out of the swarm safely: promote a worker if needed, demote, drain, leave, remove, update the inventory')
    .argument('<node>', 'hostname, IP or MAC')
    .option('--force', 'remove a node that is down and does not answer over SSH (after the same quorum checks)', false)
    .option('--timeout <seconds>', 'how long to wait for each step (the drain above all)', '300')
    .option('--dry-run', 'print the steps and why, and stop', false)
    .addHelpText('after', '\nExamples:\n  piswarm node rm worker-02 --dry-run\n  piswarm node rm manager-03 --yes\n  # a Pi that died\n  piswarm node rm worker-01 --force\n')
    .exitOverride()
    .action(action(async () => (await load()).nodeRmAction, unlessDryRun));
  node.addCommand(nodeReplaceCommand(action));
  return node;
}

function serviceCommand(action: ActionWiring): Command {
  const service = new Command('service').description('The swarm\'s services: list and scale them');
  service.exitOverride();
  const load = async () => import('./commands/service.js');
  service
    .command('ls')
    .description('Every service: stack, mode, tasks running of those wanted, image, update state')
    .exitOverride()
    .action(action(async () => (await load()).serviceLsAction));
  service
    .command('scale')
    .description('Set replica counts and wait until exactly that many tasks run (the surplus stopped)')
    .argument('<name=replicas...>', 'e.g. hello-world_web=9 (a stack\'s service may be named without its stack: web=9)')
    .option('--timeout <seconds>', 'how long to wait', '300')
    .option('--window <seconds>', 'how long every task must have been running (and healthy) to count', '2')
    .addHelpText('after', '\nExamples:\n  piswarm service scale hello-world_web=9\n  piswarm service scale web=2 consumer=5\n')
    .exitOverride()
    .action(action(async () => (await load()).serviceScaleAction, always));
  return service;
}

function dashboardCommand(action: ActionWiring): Command {
  return new Command('dashboard')
    .description('A live terminal view of the lab: nodes (CPU, memory, temperature), services, placement, events, queues; keys to scale, drain and read logs')
    .option('--once', 'print one snapshot and exit (also when stdout is not a terminal)', false)
    .option('--refresh <seconds>', 'how often CPU, memory, temperature and queues are read', '5')
    .option('--no-doctor', "leave out doctor's worst finding per node (its checks run every 5 minutes, two programs per node)")
    .addOption(new Option('--amqp-url <url>', 'RabbitMQ to show queue depth and consumers from (with a password: only through AMQP_URL)').env('AMQP_URL'))
    .option('--queue <name...>', 'queues to show', ['sensor-readings', 'sensor-readings.dead'])
    .addHelpText('after', '\nKeys: tab switch panel, ↑↓ select, +/- scale the selected service, d drain / a activate the selected node, l logs, ? help, q quit.\n\nExamples:\n  piswarm dashboard\n  piswarm dashboard --once\n  piswarm dashboard --json | jq .services\n  AMQP_URL=amqp://iot:secret@10.77.0.1:5672 piswarm dashboard\n')
    .exitOverride()
    .action(
      action(async () => {
        // ink reads CI once, when first imported, and then draws only the final frame: a person at a
        // terminal (a CI variable left in a shell, a CI job's tmux) would stare at a blank screen.
        if (process.stdout.isTTY) {
          delete process.env.CI;
          delete process.env.CONTINUOUS_INTEGRATION;
        }
        return (await import('./commands/dashboard.js')).dashboardAction;
      }),
    );
}

function deployCommand(action: ActionWiring): Command {
  const deploy = new Command('deploy').description('Deploy ready-made stacks with their secrets taken care of');
  deploy.exitOverride();
  deploy
    .command('portainer')
    .description('Portainer CE on a manager and its agent on every node; the admin password is set at start (never a default, never locked out)')
    .option('--admin-password-file <file>', 'the admin password (default: generated once into ~/.config/piswarm/portainer/admin-password)')
    .option('--timeout <seconds>', 'how long to wait for convergence', '300')
    .addHelpText('after', '\nExamples:\n  piswarm deploy portainer\n  piswarm deploy portainer --admin-password-file ./portainer-password\n')
    .exitOverride()
    .action(action(async () => (await import('./commands/deploy-portainer.js')).deployPortainerAction, always));
  deploy
    .command('registry')
    .description('A private registry on one node: HTTPS from a home CA every node trusts, a login, no deletes')
    .option('--node <node>', 'the node it runs on and keeps its images on (default: the first manager)')
    .option('--timeout <seconds>', 'how long to wait for convergence', '300')
    .option('--dry-run', 'print the plan, change nothing', false)
    .addHelpText('after', '\nExamples:\n  piswarm deploy registry\n  piswarm deploy registry --node manager-01 --dry-run\n')
    .exitOverride()
    .action(action(async () => (await import('./commands/deploy-registry.js')).deployRegistryAction, unlessDryRun));
  return deploy;
}

function logsCommand(action: ActionWiring): Command {
  return new Command('logs')
    .description("A service's logs from every task on every node, each line prefixed with its task and node")
    .argument('<service>', 'service name: web, or hello-world_web')
    .option('-f, --follow', 'keep printing new lines (Ctrl-C stops)', false)
    .option('--since <when>', 'only lines since a duration ago (10m, 1h) or a time')
    .option('--tail <n>', 'only the last N lines of each task')
    .addHelpText('after', '\nExamples:\n  piswarm logs web --tail 20\n  piswarm logs hello-world_web -f --since 5m\n')
    .exitOverride()
    .action(action(async () => (await import('./commands/logs.js')).logsAction));
}

function runCommand(action: ActionWiring): Command {
  return new Command('run')
    .description('Run a shell command on inventory nodes over SSH, in parallel; pins host keys on first use')
    .argument('<command...>', 'the command to run (put -- before it)')
    .option('--node <name...>', 'only these nodes (hostname, MAC or IP); all by default')
    .option('--concurrency <n>', 'nodes at once', '8')
    .option('--timeout <seconds>', 'per-node command timeout', '60')
    .option('--password-stdin', 'read the SSH password from standard input (or set PISWARM_SSH_PASSWORD)', false)
    .option('--user <name>', 'login user for nodes the inventory names none for; recorded in the inventory')
    .option('--accept-new-host-key', 'accept and pin a host key that differs from the pinned one', false)
    .addHelpText('after', "\nExamples:\n  # what runs where\n  piswarm run -- docker ps\n  # first login to fresh HypriotOS nodes with the default password\n  echo hypriot | piswarm run --password-stdin -- hostname\n  piswarm run --node worker-01 --json -- uptime\n")
    .exitOverride()
    .action(action(async () => (await import('./commands/run.js')).runAction));
}
