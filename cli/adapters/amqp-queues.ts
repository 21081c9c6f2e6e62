import amqp from 'amqplib';
import type { QueueView } from '../core/dashboard.js';

/**
 * Queue depth and consumers from the broker itself: a passive declare answers both and needs
 * no management plugin (a Pi's RabbitMQ often runs without it). One connection, kept open.
 */
export function amqpQueueReader(url: string, queues: readonly string[]): { read(): Promise<QueueView[]>; close(): Promise<void> } {
  let connection: Promise<amqp.ChannelModel> | undefined;
  const connect = () => (connection ??= amqp.connect(url).then((c) => (c.on('error', () => (connection = undefined)), c.on('close', () => (connection = undefined)), c)));
  return {
    async read() {
      const conn = await connect();
      const views: QueueView[] = [];
      for (const name of queues) {
        // A passive declare of a missing queue closes its channel: one channel per queue.
        const channel = await conn.createChannel();
        channel.on('error', () => undefined);
        try {
          const q = await channel.checkQueue(name);
          views.push({ name, messages: q.messageCount, consumers: q.consumerCount });
          await channel.close();
        } catch {
          // no such queue (yet)
        }
      }
      return views;
    },
    async close() {
      const conn = await connection?.catch(() => undefined);
      await conn?.close().catch(() => undefined);
    },
  };
}
