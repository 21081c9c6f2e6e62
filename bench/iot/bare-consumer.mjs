// The peer in bench/iot-bench.sh: the plainest amqplib consumer with the same prefetch and acks.
// Usage: node bare-consumer.mjs URL QUEUE PREFETCH COUNT WORK_MS; exits once COUNT messages are acked.
import amqp from 'amqplib';

const [url, queue, prefetch, count, workMs] = process.argv.slice(2);
const connection = await amqp.connect(url, { noDelay: true });
const channel = await connection.createChannel();
await channel.prefetch(Number(prefetch));
let acked = 0;
await new Promise((resolve) => {
  void channel.consume(queue, async (message) => {
    if (Number(workMs) > 0) await new Promise((r) => setTimeout(r, Number(workMs)));
    channel.ack(message);
    if (++acked === Number(count)) resolve();
  });
});
await connection.close();
