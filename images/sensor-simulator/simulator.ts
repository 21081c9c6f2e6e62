/**
 * Sensor simulator: publishes temperature, light, motion and door readings, each with a unique
 * id, at RATE per second (0: as fast as the broker confirms), with publisher confirms, and stops
 * after COUNT messages (0: never).
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import amqp from 'amqplib';
import { brokerUrl, declareTopology, SENSOR_TYPES, topologyFromEnv, type Reading } from '../iot-shared/topology.js';

const env = process.env;
const topology = topologyFromEnv(env);
const rate = Number(env.RATE || 10);
const count = Number(env.COUNT || 0);
const sensors = Number(env.SENSORS || 8);

function reading(n: number): Reading {
  const type = SENSOR_TYPES[n % SENSOR_TYPES.length]!;
  const value = type === 'temperature' ? Math.round((18 + Math.random() * 8) * 10) / 10 : type === 'light' ? Math.round(Math.random() * 1000) : Math.random() < 0.5;
  return { id: randomUUID(), type, sensor: `${type}-${n % sensors}`, value, at: new Date().toISOString() };
}

async function main(): Promise<void> {
  const connection = await amqp.connect(await brokerUrl(env, (path) => readFile(path, 'utf8')));
  const channel = await connection.createConfirmChannel();
  await declareTopology(channel, topology);
  const started = Date.now();
  for (let n = 0; count === 0 || n < count; n++) {
    const message = reading(n);
    channel.sendToQueue(topology.queue, Buffer.from(JSON.stringify(message)), { persistent: true, messageId: message.id, contentType: 'application/json' });
    if (rate > 0) {
      await channel.waitForConfirms();
      const due = started + ((n + 1) * 1000) / rate;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    } else if (n % 500 === 499) await channel.waitForConfirms();
  }
  await channel.waitForConfirms();
  process.stdout.write(`published ${count} readings in ${((Date.now() - started) / 1000).toFixed(1)} s, all confirmed\n`);
  await connection.close();
}

main().catch((error: Error) => {
  process.stderr.write(`sensor-simulator: ${error.message}\n`);
  process.exit(1);
});
