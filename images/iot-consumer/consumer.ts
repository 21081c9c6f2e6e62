/**
 * IoT consumer: takes sensor readings from a durable RabbitMQ queue (prefetch, manual acks),
 * retries a failing message a bounded number of times and then dead-letters it, handles a
 * redelivered id once, serves /health for Docker's HEALTHCHECK, and on SIGTERM stops taking
 * messages, finishes and acks the ones in hand, and exits, so draining a node loses nothing.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { hostname } from 'node:os';
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { brokerUrl, declareTopology, topologyFromEnv } from '../iot-shared/topology.js';
import { parseReading, RecentIds } from './handler.js';

const env = process.env;
const topology = topologyFromEnv(env);
const prefetch = Number(env.PREFETCH || 16);
const maxRetries = Number(env.MAX_RETRIES || 3);
const workMs = Number(env.WORK_MS || 0);
const memoryLimit = Number(env.MEMORY_LIMIT_MB || 96) * 1024 * 1024;
const me = env.CONSUMER_NAME || hostname();
// Announcing each processed id (for dashboards and tests) doubles the broker's work per message.
const announce = env.ANNOUNCE_PROCESSED !== '0';

const counts = { processed: 0, duplicates: 0, retried: 0, deadLettered: 0 };
const seen = new RecentIds(100_000);
const inFlight = new Set<Promise<void>>();
let connection: ChannelModel | undefined;
let channel: Channel | undefined;
let consumerTag: string | undefined;
let connected = false;
let draining = false;

const log = (message: string) => process.stdout.write(`${new Date().toISOString()} ${message}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function handle(message: ConsumeMessage, ch: Channel): Promise<void> {
  const retries = Number(message.properties.headers?.['x-retries'] ?? 0);
  try {
    const reading = parseReading(message.content);
    if (!seen.add(reading.id)) {
      counts.duplicates++;
      ch.ack(message);
      return;
    }
    if (workMs > 0) await sleep(workMs);
    if (announce) ch.publish(topology.processedExchange, '', Buffer.from(JSON.stringify({ id: reading.id, by: me })), { persistent: true });
    counts.processed++;
    ch.ack(message);
  } catch (error) {
    if (retries < maxRetries) {
      // A copy goes to the back of the queue with its retry count; then the original is acked.
      ch.sendToQueue(topology.queue, message.content, { ...message.properties, persistent: true, headers: { ...message.properties.headers, 'x-retries': retries + 1 } });
      counts.retried++;
      ch.ack(message);
    } else {
      counts.deadLettered++;
      log(`dead-lettering ${message.properties.messageId ?? '(no id)'} after ${retries} retries: ${(error as Error).message}`);
      ch.nack(message, false, false);
    }
  }
}

async function connect(): Promise<void> {
  const url = await brokerUrl(env, (path) => readFile(path, 'utf8'));
  for (let attempt = 1; !draining; attempt++) {
    try {
      // noDelay: each ack and announcement is a small write; Nagle's algorithm would hold them ~40 ms.
      connection = await amqp.connect(url, { noDelay: true, clientProperties: { connection_name: `iot-consumer ${me}` } });
      break;
    } catch (error) {
      log(`broker not reachable (${(error as Error).message}); retrying`);
      await sleep(Math.min(5000, 200 * attempt));
    }
  }
  if (!connection) return;
  connected = true;
  connection.on('error', (error: Error) => log(`broker connection error: ${error.message}`));
  connection.on('close', () => {
    connected = false;
    if (!draining) {
      log('broker connection lost; reconnecting');
      connect().catch((error: Error) => {
  log(`cannot start: ${error.message}`);
  process.exit(1);
});
    }
  });
  const ch = await connection.createChannel();
  channel = ch;
  await declareTopology(ch, topology);
  await ch.prefetch(prefetch);
  const consumer = await ch.consume(topology.queue, (message) => {
    if (!message) return;
    const work = handle(message, ch).finally(() => inFlight.delete(work));
    inFlight.add(work);
  });
  consumerTag = consumer.consumerTag;
  log(`consuming ${topology.queue} (prefetch ${prefetch}, ${maxRetries} retries)`);
}

async function drain(signal: string): Promise<void> {
  if (draining) return;
  draining = true;
  log(`${signal}: no new messages; finishing ${inFlight.size} in hand`);
  try {
    if (channel && consumerTag) await channel.cancel(consumerTag);
    await Promise.all(inFlight);
    await channel?.close();
    await connection?.close();
  } catch (error) {
    log(`while closing: ${(error as Error).message}`);
  }
  log(`stopped: ${JSON.stringify(counts)}`);
  process.exit(0);
}

const health = createServer((_req, res) => {
  const heap = process.memoryUsage().heapUsed;
  const problem = !connected ? 'no broker connection' : heap > memoryLimit ? `heap ${Math.round(heap / 1048576)} MB over its limit` : draining ? 'draining' : undefined;
  res.writeHead(problem ? 503 : 200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ status: problem ? 'unhealthy' : 'ok', ...(problem ? { problem } : {}), consumer: me, ...counts, inFlight: inFlight.size }));
});
health.listen(Number(env.HEALTH_PORT || 8080));
process.on('SIGTERM', () => void drain('SIGTERM'));
process.on('SIGINT', () => void drain('SIGINT'));
connect().catch((error: Error) => {
  log(`cannot start: ${error.message}`);
  process.exit(1);
});
