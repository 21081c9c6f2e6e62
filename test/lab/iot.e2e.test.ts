import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declareTopology, topologyFromEnv } from '../../images/iot-shared/topology.js';
import { piswarm } from '../helpers/cli.js';
import { startSwarmLab, variantRef } from '../helpers/lab-images.js';
import { labEnv, labLeftovers } from '../helpers/lab.js';
import { until } from '../helpers/wait.js';

const NAME = 'iot';
const REGISTRY = '10.91.0.1:5000';
const NODES = ['10.91.0.11', '10.91.0.12', '10.91.0.13'];
const BROKER_PORT = 5673;
const BROKER_DIR = join(tmpdir(), 'piswarm-iot-test-broker');
const PASSWORD = 'lab-broker-secret';
const RABBITMQ = fileURLToPath(new URL('../../scripts/lab-rabbitmq.sh', import.meta.url));
const STACKS = fileURLToPath(new URL('../../stacks', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'piswarm-iot-'));
const inventory = join(dir, 'piswarm.yaml');
const urlFile = join(dir, 'amqp-url');
writeFileSync(urlFile, `amqp://iot:${PASSWORD}@10.91.0.1:${BROKER_PORT}`, { mode: 0o600 });
const stackEnv = {
  HOME: dir,
  SSH_AUTH_SOCK: '',
  AMQP_URL_FILE: urlFile,
  IOT_CONSUMER_IMAGE: `${REGISTRY}/iot-consumer:1`,
  SENSOR_SIMULATOR_IMAGE: `${REGISTRY}/sensor-simulator:1`,
};
const lab = (command: string, ...args: string[]) => piswarm(['lab', command, '--name', NAME, ...args], { env: labEnv });
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => piswarm(['--inventory', inventory, ...args], { env: { ...stackEnv, ...env } });
let labPids: number[] = [];
let broker: ChannelModel;
let channel: Channel;

/** Collects the ids consumers announce on the processed exchange, from the moment it is called. */
async function watchProcessed(): Promise<{ ids: string[]; by: Set<string>; stop: () => Promise<void> }> {
  const ids: string[] = [];
  const by = new Set<string>();
  const { queue } = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(queue, 'sensor-processed', '');
  const { consumerTag } = await channel.consume(
    queue,
    (m) => {
      if (!m) return;
      const announced = JSON.parse(m.content.toString()) as { id: string; by: string };
      ids.push(announced.id);
      by.add(announced.by);
    },
    { noAck: true },
  );
  return { ids, by, stop: async () => void (await channel.cancel(consumerTag)) };
}

beforeAll(async () => {
  execFileSync('bash', [RABBITMQ, 'stop', BROKER_DIR, String(BROKER_PORT)]);
  execFileSync('bash', [RABBITMQ, 'start', BROKER_DIR, String(BROKER_PORT), 'iot'], { input: `${PASSWORD}\n` });
  broker = await amqp.connect(`amqp://iot:${PASSWORD}@127.0.0.1:${BROKER_PORT}`);
  channel = await broker.createChannel();
  labPids = await startSwarmLab({ name: NAME, subnet: '10.91.0.0/24', nodes: NODES, registry: REGISTRY, inventory, env: stackEnv });
});

afterAll(async () => {
  // Always tear down, whatever failed above: CI runs on this same machine afterwards.
  await broker?.close().catch(() => undefined);
  execFileSync('bash', [RABBITMQ, 'stop', BROKER_DIR, String(BROKER_PORT)]);
  await lab('down');
  expect(labLeftovers(NAME, labPids)).toEqual([]);
});

describe('the IoT stack against a real RabbitMQ', () => {
  it("runs the images' ARM variants under qemu: an arm/v7 simulator's readings processed by an arm64 consumer", async () => {
    // Before the stack's own consumers exist, so only this one takes from the queue. The broker's URL in a file docker reads, not in an argument.
    const envFile = join(dir, 'arm.env');
    writeFileSync(envFile, `AMQP_URL=amqp://iot:${PASSWORD}@10.91.0.1:${BROKER_PORT}\n`, { mode: 0o600 });
    // Each variant by its own digest: the tags' local copies on pi-01 stay amd64 for the stack's tasks.
    const consumerImage = await variantRef(REGISTRY, 'iot-consumer', '1', { architecture: 'arm64' });
    const simulatorImage = await variantRef(REGISTRY, 'sensor-simulator', '1', { architecture: 'arm', variant: 'v7' });
    // The queues and the processed exchange as the images declare them, so the watch can bind before the consumer starts.
    await declareTopology(channel, topologyFromEnv({}));
    const processed = await watchProcessed();
    const consumer = await lab('exec', 'pi-01', '--', 'sh', '-c', `docker run -d --name arm-consumer --platform linux/arm64 --env-file ${envFile} -e CONSUMER_NAME=arm64-consumer ${consumerImage}`);
    expect(consumer.code, consumer.stderr).toBe(0);
    try {
      const sensors = await lab('exec', 'pi-01', '--', 'sh', '-c', `docker run --rm --platform linux/arm/v7 --env-file ${envFile} -e COUNT=5 -e RATE=0 ${simulatorImage} && docker run --rm --platform linux/arm/v7 --entrypoint node ${simulatorImage} -p process.arch`);
      expect(sensors.code, sensors.stderr).toBe(0);
      expect(sensors.stdout.trim().split('\n').pop()).toBe('arm');
      await until(() => processed.ids.length >= 5, 90_000, '5 readings processed by the arm64 consumer');
      expect((await lab('exec', 'pi-01', '--', 'docker', 'exec', 'arm-consumer', 'node', '-p', 'process.arch + " " + require("os").machine()')).stdout.trim()).toBe('arm64 aarch64');
      const logs = await lab('exec', 'pi-01', '--', 'docker', 'logs', 'arm-consumer');
      expect(`${logs.stdout}${logs.stderr}`).not.toContain(PASSWORD);
    } finally {
      await processed.stop();
      await lab('exec', 'pi-01', '--', 'docker', 'rm', '-f', 'arm-consumer');
    }
    expect(new Set(processed.ids).size).toBe(5);
    expect([...processed.by]).toEqual(['arm64-consumer']);
  });

  it('runs 3 healthy consumers; the simulator publishes N readings and the consumers process exactly those N ids', async () => {
    const consumers = await cli(['stack', 'deploy', join(STACKS, 'iot.yml')]);
    expect(consumers.code, consumers.stderr).toBe(0);
    // The broker password reached the consumers as a secret: nothing a manager's inspect shows holds it.
    const inspect = await lab('exec', 'pi-01', '--', 'docker', 'service', 'inspect', 'iot_consumer');
    expect(inspect.stdout).toContain('AMQP_URL_FILE=/run/secrets/amqp_url');
    expect(inspect.stdout).not.toContain(PASSWORD);
    const processed = await watchProcessed();
    const sensors = await cli(['stack', 'deploy', join(STACKS, 'iot-simulator.yml')], { SENSOR_COUNT: '300', SENSOR_RATE: '0' });
    expect(sensors.code, sensors.stderr).toBe(0);
    expect(sensors.stdout).toMatch(/sensors\s+replicated\s+1 completed/);
    await until(() => new Set(processed.ids).size >= 300, 30_000, '300 processed readings');
    await processed.stop();
    expect(new Set(processed.ids).size).toBe(300);
    expect((await channel.checkQueue('sensor-readings')).messageCount).toBe(0);
  });

  it('dead-letters a poison message after its retries, and keeps consuming', async () => {
    const before = (await channel.checkQueue('sensor-readings.dead')).messageCount;
    channel.sendToQueue('sensor-readings', Buffer.from('{"not a reading"'), { persistent: true, messageId: 'poison-1' });
    await until(async () => (await channel.checkQueue('sensor-readings.dead')).messageCount === before + 1, 15_000, 'the poison message in the dead-letter queue');
    const dead = await channel.get('sensor-readings.dead', { noAck: true });
    expect(dead && dead.properties.headers?.['x-retries']).toBe(3);
    const logs = await cli(['logs', 'consumer', '--tail', '50']);
    expect(logs.stdout).toContain('dead-lettering poison-1 after 3 retries: not JSON');
  });

  it('loses nothing when a consumer is killed in the middle of messages', async () => {
    // Slow consumers, so each has messages in hand when one is killed.
    const slow = await cli(['stack', 'deploy', join(STACKS, 'iot.yml')], { IOT_WORK_MS: '300' });
    expect(slow.code, slow.stderr).toBe(0);
    const processed = await watchProcessed();
    const ids = Array.from({ length: 120 }, (_, i) => `kill-test-${i}`);
    for (const id of ids) channel.sendToQueue('sensor-readings', Buffer.from(JSON.stringify({ id, type: 'door', sensor: 'door-1', value: true, at: new Date().toISOString() })), { persistent: true, messageId: id });
    await until(() => processed.ids.length >= 10, 15_000, 'consumers to be busy');
    // The first node running a consumer loses it, mid-message, without any chance to ack.
    const kill = 'c=$(docker ps -q --filter label=com.docker.swarm.service.name=iot_consumer | head -1); [ -n "$c" ] && docker kill --signal KILL "$c"';
    let killed = false;
    for (const node of ['pi-02', 'pi-03', 'pi-01']) if (!killed) killed = (await lab('exec', node, '--', 'sh', '-c', kill)).code === 0;
    expect(killed).toBe(true);
    await until(() => ids.every((id) => processed.ids.includes(id)), 60_000, 'every message processed despite the kill');
    await processed.stop();
    expect(new Set(processed.ids.filter((id) => id.startsWith('kill-test-'))).size).toBe(120);
  });

  it('drains a worker under load: every published reading is processed, and the consumers never drop to zero', async () => {
    const deployed = await cli(['stack', 'deploy', join(STACKS, 'iot.yml')], { IOT_WORK_MS: '5' });
    expect(deployed.code, deployed.stderr).toBe(0);
    const running = async () => {
      const out = await lab('exec', 'pi-01', '--', 'docker', 'service', 'ps', 'iot_consumer', '--filter', 'desired-state=running', '--format', '{{.CurrentState}}');
      return out.stdout.split('\n').filter((l) => l.startsWith('Running')).length;
    };
    expect(await running()).toBe(3);
    // The swarm does not rebalance after the kill above: drain a node that runs consumers now (a worker first).
    const placed = (await lab('exec', 'pi-01', '--', 'docker', 'service', 'ps', 'iot_consumer', '--filter', 'desired-state=running', '--format', '{{.Node}}')).stdout.split('\n').filter(Boolean);
    const node = ['pi-02', 'pi-03', 'pi-01'].find((n) => placed.includes(n));
    expect(node, `consumers run on ${placed.join(', ')}`).toBeDefined();
    const onNode = placed.filter((n) => n === node).length;
    const processed = await watchProcessed();
    const confirms = await broker.createConfirmChannel();
    const published: string[] = [];
    let publishing = true;
    const publisher = (async () => {
      for (let i = 0; publishing || i < 300; i++) {
        const id = `drain-test-${i}`;
        confirms.sendToQueue('sensor-readings', Buffer.from(JSON.stringify({ id, type: 'temperature', sensor: 't-1', value: 20 + (i % 5), at: new Date().toISOString() })), { persistent: true, messageId: id });
        published.push(id);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await confirms.waitForConfirms();
    })();
    let least = Infinity;
    let watching = true;
    const watcher = (async () => {
      while (watching) least = Math.min(least, await running());
    })();
    await until(() => processed.ids.length >= 50, 15_000, 'consumers to be busy');
    const drain = await cli(['node', 'drain', node!]);
    watching = false;
    publishing = false;
    await Promise.all([watcher, publisher]);
    expect(drain.code, drain.stderr).toBe(0);
    expect(drain.stderr).toMatch(new RegExp(`drain ${node}: ${onNode} iot_consumer task\\(s\\) move to pi-0\\d`));
    expect(least).toBeGreaterThanOrEqual(1);
    expect(await running()).toBe(3);
    await until(() => published.every((id) => processed.ids.includes(id)), 60_000, 'every published reading processed');
    await processed.stop();
    await confirms.close();
    expect(new Set(processed.ids.filter((id) => id.startsWith('drain-test-'))).size).toBe(published.length);
    expect((await channel.checkQueue('sensor-readings')).messageCount).toBe(0);
    expect((await cli(['node', 'activate', node!])).code).toBe(0);
  });

  it('shows the queues and their consumers in the dashboard snapshot, read from the broker', async () => {
    const url = `amqp://iot:${PASSWORD}@127.0.0.1:${BROKER_PORT}`;
    const refused = await cli(['dashboard', '--json', '--amqp-url', url]);
    expect(refused.code).toBe(64);
    expect(refused.stderr).toContain('--amqp-url takes no password');
    expect(refused.stderr).not.toContain(PASSWORD);
    const run = await cli(['dashboard', '--json'], { AMQP_URL: url });
    expect(run.code, run.stderr).toBe(0);
    const snapshot = JSON.parse(run.stdout) as { queues: Array<{ name: string; messages: number; consumers: number }>; services: Array<{ name: string; running: number }> };
    expect(snapshot.queues).toEqual([
      { name: 'sensor-readings', messages: 0, consumers: 3 },
      { name: 'sensor-readings.dead', messages: expect.any(Number), consumers: 0 },
    ]);
    expect(snapshot.services.find((s) => s.name === 'iot_consumer')?.running).toBe(3);
  });
});
