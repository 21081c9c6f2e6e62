import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { until } from './wait.js';

const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

/** A real registry (Debian's docker-registry, distribution 2.8) on a free loopback port, its data under `dir`. */
export async function startRegistry(dir: string): Promise<{ address: string; stop: () => void }> {
  const address = `127.0.0.1:${await freePort()}`;
  const config = join(dir, 'registry.yml');
  writeFileSync(config, `version: 0.1\nlog: {level: warn}\nstorage: {filesystem: {rootdirectory: ${join(dir, 'data')}}}\nhttp: {addr: "${address}"}\n`);
  const server = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
  await until(async () => (await fetch(`http://${address}/v2/`).catch(() => undefined))?.ok === true, 15_000, 'docker-registry');
  return { address, stop: () => void server.kill() };
}
