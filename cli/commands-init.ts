import { Command } from 'commander';
import type { ActionWiring } from './program.js';

const EXAMPLES = `
Examples:
  # answer the questions (saved to cluster.yaml), then insert the cards one after another
  sudo piswarm init
  # replay the saved answers, no questions
  sudo piswarm init --plan cluster.yaml --yes
  # the whole journey on this machine: cards as image files, booted as lab nodes
  sudo piswarm init --lab --yes
  # five Pis, three managers, two card readers written in parallel
  sudo piswarm init --image hypriotos-rpi-v1.12.3.img.zip --hostname manager-{01..03},worker-{01..02} --managers 3 --device /dev/sdb /dev/sdc --yes

Run it again with the same plan to resume: cards written and Pis found before are skipped.
`;

/** `piswarm init`: blank cards to a running, secured cluster in one guided command. */
export function initCommand(action: ActionWiring): Command {
  return new Command('init')
    .description('From blank cards to a running cluster: questions (or a saved plan), cards written, Pis found by their host keys, swarm formed, stacks deployed')
    .option('--plan <file>', 'replay a cluster plan saved by an earlier init (YAML)')
    .option('--save-plan <file>', `where to save the answers (default: cluster.yaml, unless replaying --plan)`)
    .option('--lab', 'write the cards as image files and boot them as lab nodes on this machine (needs root)', false)
    .option('--name <name>', 'cluster name (with --lab also the lab name, up to 8 letters and digits)')
    .option('--hostname <names>', 'hostnames, managers first: manager-01,worker-{01..02}')
    .option('--managers <count>', 'managers: 1, 3 or 5 (the first hostnames)')
    .option('--image <file|url>', '.img, .img.zip, .img.xz, or an https:// URL (with --lab default: a built-in HypriotOS-shaped card)')
    .option('--sha256 <hex>', 'expected SHA-256 of the image (default: from IMAGE.sha256 or SHA256SUMS beside it)')
    .option('--user <name>', 'the user on every Pi (default: pirate)')
    .option('--ssh-key <file>', 'public key to authorise (default ~/.ssh/id_ed25519.pub, made if missing)')
    .option('--wifi-ssid <ssid>', 'wifi network (the passphrase: PISWARM_WIFI_PASSWORD or a prompt)')
    .option('--wifi-country <code>', 'wifi country, e.g. GB')
    .option('--ip <cidrs>', 'static addresses, one per hostname: 192.168.1.21/24,192.168.1.22/24 (default: DHCP)')
    .option('--gateway <ip>', 'default gateway for --ip')
    .option('--dns <ips>', 'DNS servers for --ip, comma-separated (default: the gateway)')
    .option('--deploy <list>', 'what to deploy at the end: hello-world,portainer,iot or none (default: hello-world)')
    .option('--iot-broker-url-file <file>', 'for iot: a file holding amqp://USER:PASSWORD@HOST:5672')
    .option('--subnet <cidr>', 'with --lab: the lab bridge subnet (default 10.77.0.0/24)')
    .option('--device <dev...>', 'card readers to write (several at once in parallel) instead of waiting for cards to be inserted')
    .option('--force', 'allow --device drives that are not removable (as flash --force)', false)
    .option('--timeout <seconds>', 'how long to wait for the Pis to appear after power-on', '600')
    .option('--dry-run', 'ask or read the plan and print it; write, boot and change nothing', false)
    .addHelpText('after', EXAMPLES)
    .exitOverride()
    .action(action(async () => (await import('./commands/init.js')).initAction, (o: { dryRun?: boolean }) => !o.dryRun));
}
