import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { listDrives } from '../adapters/drives.js';
import { imageCacheDir } from '../adapters/image-source.js';
import { labCardImage } from '../adapters/lab-card-image.js';
import { localNetworks } from '../adapters/local-networks.js';
import { findOrCreateUserKey } from '../adapters/user-key.js';
import type { Context } from '../context.js';
import { parseStaticAddress, type CardSettings } from '../core/card-settings.js';
import { managersOf, type ClusterPlan, type Deployable } from '../core/cluster-plan.js';
import { mergeDiscovered } from '../core/discovery-merge.js';
import { BASE_SUITE, DEBIAN_MIRROR } from '../core/image-build.js';
import { sameHostKey } from '../core/host-key.js';
import { planSweep } from '../core/sweep-plan.js';
import { ExitCode, PiswarmError } from '../errors.js';
import { PACKAGE_ROOT } from '../paths.js';
import { flash } from '../services/flash/flash.js';
import { cardsPresent, waitForCards, waitForRemoval } from '../services/init/card-slots.js';
import type { JourneyPorts } from '../services/init/journey.js';
import { readCardBootConfig } from '../services/lab/lab-cards.js';
import { labDir, readLabState } from '../services/lab/lab-state.js';
import { labStatus } from '../services/lab/lab-status.js';
import { labUp } from '../services/lab/lab-up.js';
import { createFlashProgress } from '../ui/flash-progress.js';
import type { Prompter } from '../ui/prompter.js';
import { bootstrapAction } from './bootstrap.js';
import { registryPlatforms } from './cluster-access.js';
import { deployPortainerAction } from './deploy-portainer.js';
import { asFoundPi, sweepForCards } from './discover.js';
import { readSshKeys, wifiSettings } from './flash.js';
import { imagesBaseAction, imagesBuildAction } from './images.js';
import { deployComposeFiles } from './stack/deploy.js';

export interface InitSetup {
  /** Card readers to use instead of waiting for cards (Pis only). */
  devices?: string[];
  /** Allow drives that are not removable (flash --force). */
  force: boolean;
  bootTimeoutMs: number;
  signal: AbortSignal;
}

const cardsDir = (plan: ClusterPlan) => join(labDir(plan.lab!.name), 'cards');

/** The journey's stages done by piswarm's own commands and services; `context` prints their output on stderr. */
export function initPorts(context: Context, prompter: Prompter, setup: InitSetup): JourneyPorts {
  let settings: Omit<CardSettings, 'hostname' | 'hostKeys' | 'instanceId' | 'network'> | undefined;
  const cardSettings = async (plan: ClusterPlan) => {
    const key = plan.sshKey ?? `${(await findOrCreateUserKey((await context.loadInventory()).sshDefaults.privateKey)).path}.pub`;
    settings ??= {
      user: plan.user,
      sshAuthorizedKeys: await readSshKeys(key),
      wifi: plan.wifi ? await wifiSettings(plan.wifi.ssid, plan.wifi.country, true, prompter) : undefined,
    };
    return (hostname: string) => {
      const i = plan.hostnames.indexOf(hostname);
      const address = plan.addresses?.[i];
      return { ...settings!, hostname, network: address ? parseStaticAddress(address, plan.gateway, plan.dns ?? []) : undefined };
    };
  };
  const writeCards = async (plan: ClusterPlan, hostnames: string[], targets: Array<{ kind: 'device' | 'file'; path: string }>) => {
    const image = plan.image ?? (await labCardImage(context.runner, imageCacheDir()));
    const settingsOf = await cardSettings(plan);
    const inventory = await context.loadInventory();
    const progress = createFlashProgress(context.io, new Set(targets.map((t) => t.path)).size);
    try {
      await flash(
        context.runner,
        inventory,
        { image, sha256: plan.sha256, noChecksum: false, targets, settings: hostnames.map(settingsOf), verifyAll: false, force: setup.force, dryRun: false, signal: setup.signal },
        { confirm: (q) => prompter.confirm(q), nextCard: (hostname, device) => prompter.waitForEnter(`Put the card for ${hostname} into ${device}.`) },
        progress,
      );
      await progress.close();
    } catch (error) {
      await progress.close(error as Error);
      throw error;
    } finally {
      // The cards that were finished are kept even when another failed.
      await context.saveInventory(inventory);
    }
  };

  return {
    async cardsDone(plan) {
      const cards = (await context.loadInventory()).cardEntries();
      return plan.hostnames.filter((h) => cards[h] && (!plan.lab || existsSync(join(cardsDir(plan), `${h}.img`))));
    },
    async flash(plan, hostnames) {
      if (plan.lab) {
        // Card files hold their SSH host keys: the folder is root's alone.
        await mkdir(cardsDir(plan), { recursive: true, mode: 0o700 });
        return writeCards(plan, hostnames, hostnames.map((h) => ({ kind: 'file', path: join(cardsDir(plan), `${h}.img`) })));
      }
      if (setup.devices?.length) {
        for (let i = 0; i < hostnames.length; i += setup.devices.length) {
          const batch = hostnames.slice(i, i + setup.devices.length);
          if (i > 0) await prompter.waitForEnter(`Put the next card(s) in ${setup.devices.slice(0, batch.length).join(', ')} (for ${batch.join(', ')}).`);
          await writeCards(plan, batch, batch.map((_, k) => ({ kind: 'device', path: setup.devices![k]! })));
        }
        return;
      }
      const slots = { drives: () => listDrives(context.runner), sleep: (ms: number) => sleep(ms) };
      const before = await cardsPresent(slots);
      for (let left = [...hostnames]; left.length > 0; ) {
        context.reporter.step(`Insert the card for ${left[0]}${left.length > 1 ? ` (or several cards in several readers: ${left.join(', ')})` : ''}.`);
        const devices = await waitForCards(slots, before, left.length, { pollMs: 1000, settleMs: 3000, signal: setup.signal });
        const batch = left.splice(0, devices.length);
        await writeCards(plan, batch, devices.map((path) => ({ kind: 'device', path })));
        context.reporter.step(`Done: ${batch.map((h, k) => `${h} (${devices[k]})`).join(', ')}. Take the card(s) out${left.length > 0 ? ' and put in the next' : ''}.`);
        await waitForRemoval(slots, devices, { pollMs: 1000, signal: setup.signal });
        for (const path of devices) before.delete(path);
      }
    },
    async boot(plan) {
      if (!plan.lab) {
        context.reporter.step(`Put the cards in the Pis and power them on: ${plan.hostnames.join(', ')}.`);
        return;
      }
      const cards = plan.hostnames.map((h) => join(cardsDir(plan), `${h}.img`));
      await labUp(context.runner, context.reporter, {
        name: plan.lab.name,
        nodes: cards.length,
        subnet: plan.lab.subnet,
        installPackages: true,
        readyTimeoutMs: 180_000,
        bootConfigs: await Promise.all(cards.map(readCardBootConfig)),
        signal: setup.signal,
      });
    },
    async found(plan) {
      const inventory = await context.loadInventory();
      if (plan.lab && !(await readLabState(plan.lab.name))) {
        // A lab that is not running has no nodes: what the inventory says of earlier ones is stale.
        for (const node of inventory.nodes()) if (plan.hostnames.includes(node.hostname)) inventory.forgetNode(node.mac);
        if (inventory.swarmId) inventory.forgetSwarm();
        await context.saveInventory(inventory);
        return [];
      }
      const cards = inventory.cardEntries();
      // Found before: filed under its MAC with the host key of the card it was flashed with.
      return inventory.nodes().filter((n) => plan.hostnames.includes(n.hostname) && n.ip && n.hostKey && cards[n.hostname] && sameHostKey(n.hostKey, cards[n.hostname]!.hostKey)).map((n) => n.hostname);
    },
    async look(plan, missing) {
      const inventory = await context.loadInventory();
      const hosts = await sweepForCards(context, inventory, planSweep({ cidrs: plan.lab ? [plan.lab.subnet] : [], local: localNetworks() }), 500);
      const seen = hosts.filter((h) => h.card && missing.includes(h.card) && h.mac && !h.untrusted);
      if (seen.length === 0) return [];
      mergeDiscovered(inventory, seen.map((h) => asFoundPi(inventory, h)));
      for (const host of seen) context.reporter.step(`${host.card} is up at ${host.ip} (${host.mac}), known by its card's host key`);
      await context.saveInventory(inventory);
      return seen.map((h) => h.card!);
    },
    async bootstrap(plan) {
      // The plan's first hostnames are its managers: bootstrap picks the inventory's managers first.
      const inventory = await context.loadInventory();
      const managers = managersOf(plan);
      for (const node of inventory.nodes()) if (plan.hostnames.includes(node.hostname) && !node.swarmNodeId) inventory.upsertNode(node.mac, { role: managers.includes(node.hostname) ? 'manager' : 'worker' });
      await context.saveInventory(inventory);
      const code = await bootstrapAction(context, {
        managers: String(plan.managers),
        only: plan.hostnames,
        keepPassword: false,
        lockPassword: false,
        force: false,
        acceptNewHostKey: false,
        concurrency: '16',
        timeout: '120',
        passwordStdin: false,
      });
      check('bootstrap', code);
    },
    deploy: (plan, what) => deployOne(context, plan, what, setup),
  };
}

/** One of the ready-made deployments, with the address it answers on. */
async function deployOne(context: Context, plan: ClusterPlan, what: Deployable, setup: InitSetup): Promise<{ url?: string }> {
  const inventory = await context.loadInventory();
  const manager = inventory.nodes().find((n) => n.hostname === managersOf(plan)[0]);
  const registry = plan.lab ? (await labStatus({ name: plan.lab.name })).registry.address : undefined;
  const images = async (names: string[], bases: string[]) => {
    // The lab has no Docker Hub: piswarm's images are built into its registry first.
    if (!registry) return;
    // Built by an earlier run: rebuilding would change the digests and roll the services for nothing.
    const missing = (await Promise.all(names.map(async (n) => ((await registryPlatforms.inspectImage(`${registry}/${n}:1`).then(() => true, () => false)) ? [] : [n])))).flat();
    if (missing.length === 0) return;
    for (const base of bases) check(`images base ${base}`, await imagesBaseAction(context, { args: [base], push: registry, suite: BASE_SUITE, mirror: DEBIAN_MIRROR }));
    check(`images build ${missing.join(' ')}`, await imagesBuildAction(context, { args: missing, push: registry, tag: '1', baseFrom: registry, builder: manager?.hostname }));
  };
  const stack = async (files: string[], name: string, env: NodeJS.ProcessEnv) =>
    check(`stack deploy ${name}`, await deployComposeFiles(context, { paths: files.map((f) => join(PACKAGE_ROOT, 'stacks', f)), name, timeoutMs: setup.bootTimeoutMs, windowMs: 3000, skipArchCheck: false, env: { ...process.env, ...env }, finish: ['init'] }));
  if (what === 'hello-world') {
    await images(['hello-world'], ['busybox']);
    const lab = registry ? { HELLO_IMAGE: `${registry}/hello-world:1`, HELLO_PORT_MODE: 'host' } : {};
    await stack(registry ? ['hello-world.yml', 'hello-world.lab.yml'] : ['hello-world.yml'], 'hello-world', lab);
    return { url: `http://${manager?.ip ?? 'MANAGER'}:8080/` };
  }
  if (what === 'portainer') {
    check('deploy portainer', await deployPortainerAction(context, { timeout: String(Math.round(setup.bootTimeoutMs / 1000)) }));
    return { url: `https://${manager?.ip ?? 'MANAGER'}:9443/` };
  }
  await images(['iot-consumer'], ['node']);
  await stack(['iot.yml'], 'iot', { AMQP_URL_FILE: plan.iot!.brokerUrlFile, ...(registry ? { IOT_CONSUMER_IMAGE: `${registry}/iot-consumer:1` } : {}) });
  return {};
}

function check(what: string, code: number): void {
  if (code !== ExitCode.ok) throw new PiswarmError(`\`piswarm ${what}\` exited ${code}`, { exitCode: ExitCode.partial, hint: 'See its output above; fix it and run `piswarm init` again (what is done is kept).' });
}
