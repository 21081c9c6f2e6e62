import type { Channel } from 'amqplib';

/** Where readings go, where poison ends up, and where consumers announce what they processed. */
export interface Topology {
  queue: string;
  deadLetterQueue: string;
  processedExchange: string;
}

export const SENSOR_TYPES = ['temperature', 'light', 'motion', 'door'] as const;
export type SensorType = (typeof SENSOR_TYPES)[number];

export interface Reading {
  id: string;
  type: SensorType;
  sensor: string;
  value: number | boolean;
  at: string;
}

export function topologyFromEnv(env: NodeJS.ProcessEnv): Topology {
  const queue = env.QUEUE || 'sensor-readings';
  return { queue, deadLetterQueue: `${queue}.dead`, processedExchange: env.PROCESSED_EXCHANGE || 'sensor-processed' };
}

/**
 * Declares the queues both sides use, whoever starts first: a durable queue whose rejected
 * messages go (through the default exchange) to its dead-letter queue, and a fanout exchange
 * on which consumers announce each message they processed.
 */
export async function declareTopology(channel: Channel, topology: Topology): Promise<void> {
  await channel.assertQueue(topology.deadLetterQueue, { durable: true });
  await channel.assertQueue(topology.queue, { durable: true, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': topology.deadLetterQueue } });
  await channel.assertExchange(topology.processedExchange, 'fanout', { durable: true });
}

/** The broker URL from AMQP_URL, or from the file AMQP_URL_FILE names (a Docker secret). */
export async function brokerUrl(env: NodeJS.ProcessEnv, readFile: (path: string) => Promise<string>): Promise<string> {
  if (env.AMQP_URL) return env.AMQP_URL;
  if (env.AMQP_URL_FILE) return (await readFile(env.AMQP_URL_FILE)).trim();
  throw new Error('Set AMQP_URL (amqp://user:password@host:5672) or AMQP_URL_FILE (a Docker secret holding it).');
}
