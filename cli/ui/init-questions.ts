import { checkbox, input, select } from '@inquirer/prompts';
import { DEPLOYABLES, expandHostnames, type ClusterPlan, type Deployable } from '../core/cluster-plan.js';
import { faultToleranceTable } from '../core/quorum.js';
import type { Io } from '../io.js';

/**
 * The questions of `piswarm init`, each with the flag's value (or piswarm's default) as its
 * default, so Enter all the way takes the defaults. Secrets are not asked here: the wifi
 * passphrase is asked when the cards are written, and never saved in the plan.
 */
export async function askPlan(io: Io, start: ClusterPlan, checksumFound: (image: string) => boolean): Promise<ClusterPlan> {
  const context = { output: io.stderr };
  const ask = (message: string, value: string | undefined, validate?: (v: string) => true | string) => input({ message, default: value, validate }, context);
  const named = (test: () => unknown) => {
    try {
      test();
      return true as const;
    } catch (error) {
      return (error as Error).message;
    }
  };

  const name = await ask('Name of the cluster:', start.name, (v) => /^[a-z0-9][a-z0-9-]{0,62}$/i.test(v) || 'letters, digits and "-"');
  const hostnames = expandHostnames([await ask('Hostnames, in order (managers first; patterns like worker-{01..05} work):', start.hostnames.join(','), (v) => named(() => expandHostnames([v])))]);
  const choices = [1, 3, 5, 7].filter((n) => n <= hostnames.length);
  const managers = await select(
    {
      message: `How many managers? An odd number: Raft needs a majority (${faultToleranceTable()}).`,
      choices: choices.map((n) => ({ name: `${n}${n === 1 ? ' (simplest: the swarm stops taking changes while it is down)' : ` (survives ${(n - 1) / 2} failing)`}`, value: n })),
      default: choices.includes(start.managers) ? start.managers : 1,
    },
    context,
  );
  const image = start.lab
    ? (await ask('Image to flash (Enter: the built-in lab card):', start.image ?? '')) || undefined
    : await ask('Image to flash (a .img.zip / .img.xz file, or an https:// URL):', start.image, (v) => v.length > 0 || 'an image is needed');
  const sha256 =
    image && !start.sha256 && !checksumFound(image)
      ? (await ask('No .sha256 beside the image: its SHA-256 from the download page (Enter: write it unchecked, after a question):', '', (v) => v === '' || /^[0-9a-f]{64}$/i.test(v) || '64 hex digits')) || undefined
      : start.sha256;
  const user = await ask('User to set up on every Pi:', start.user, (v) => /^[a-z_][a-z0-9_-]{0,31}$/.test(v) || 'lower-case letters, digits, "_" and "-"');
  const sshKey = (await ask('Your SSH public key (Enter: ~/.ssh/id_ed25519.pub, made if missing):', start.sshKey ?? '')) || undefined;

  const link = await select({ message: 'How do the Pis reach the network?', choices: [{ name: 'cable', value: 'wired' }, { name: 'wifi', value: 'wifi' }], default: start.wifi ? 'wifi' : 'wired' }, context);
  const wifi =
    link === 'wifi'
      ? { ssid: await ask('Wifi network (SSID):', start.wifi?.ssid, (v) => v.length > 0 || 'the network name'), country: (await ask('Wifi country (two letters; wifi stays off without it):', start.wifi?.country, (v) => /^[a-z]{2}$/i.test(v) || 'e.g. GB')).toUpperCase() }
      : undefined;
  const addressing = await select(
    {
      message: 'Addresses? (Either way, reserve the managers\' addresses in your router: workers find the swarm through them.)',
      choices: [
        { name: 'DHCP from the router (piswarm follows each Pi by its MAC if its address moves)', value: 'dhcp' },
        { name: 'static addresses written on the cards', value: 'static' },
      ],
      default: start.addresses ? 'static' : 'dhcp',
    },
    context,
  );
  const network =
    addressing === 'static'
      ? {
          addresses: (await ask(`Addresses with prefix, one per Pi (${hostnames.length}), comma-separated:`, start.addresses?.join(','))).split(',').map((s) => s.trim()),
          gateway: await ask('Gateway (your router):', start.gateway),
        }
      : {};
  const deploy = await checkbox<Deployable>(
    {
      message: 'Deploy at the end:',
      choices: DEPLOYABLES.map((d) => ({ name: DESCRIPTIONS[d], value: d, checked: start.deploy.includes(d) })),
    },
    context,
  );
  const iot = deploy.includes('iot') ? { brokerUrlFile: await ask('File holding the broker URL (amqp://USER:PASSWORD@HOST:5672):', start.iot?.brokerUrlFile, (v) => v.length > 0 || 'a file') } : undefined;
  const lab = start.lab ? { ...start.lab, name: /^[a-z][a-z0-9]{0,7}$/.test(name) ? name : start.lab.name } : undefined;
  return { ...start, name, hostnames, managers, image, sha256, user, sshKey, wifi, ...network, deploy, iot, lab };
}

const DESCRIPTIONS: Record<Deployable, string> = {
  'hello-world': 'hello-world: answers with its container\'s hostname on :8080',
  portainer: 'portainer: a web UI for the swarm on :9443 (HTTPS, admin password generated)',
  iot: 'iot: RabbitMQ sensor consumers (the broker runs outside the swarm)',
};
