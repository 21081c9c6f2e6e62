import Docker from 'dockerode';
import type { Agent } from 'node:http';
import type { Readable } from 'node:stream';
import { PiswarmError } from '../errors.js';

export interface BuildOptions {
  tag: string;
  platform: string;
  buildArgs: Record<string, string>;
}

/** The image calls of one Docker engine that builds (this machine's, or a node's over SSH). */
export interface ImageEngine {
  /** Builds the context (a tar stream) for one platform, its base pulled for that platform; `onLine` gets the build's output. */
  build(context: Readable, options: BuildOptions, onLine: (line: string) => void): Promise<void>;
  /** The image as `docker save` writes it. */
  save(image: string): Promise<Readable>;
  remove(image: string): Promise<void>;
  close(): void;
}

/** This machine's engine (DOCKER_HOST, else its socket), or through `agent` a node's. */
export async function openImageEngine(agent?: Agent): Promise<ImageEngine> {
  const docker = agent ? new Docker({ protocol: 'http', host: 'docker', port: 80, agent } as Docker.DockerOptions) : new Docker();
  await docker.ping().catch((error: Error) => {
    agent?.destroy();
    throw new PiswarmError(`No Docker engine answered ${agent ? 'on the builder node' : 'here'}: ${error.message}.`, {
      hint: agent ? 'Check Docker runs on that node (piswarm doctor).' : 'Start Docker here, or build on a Pi of the swarm with --builder NODE.',
    });
  });
  return {
    async build(context, options, onLine) {
      const stream = await docker.buildImage(context, { t: options.tag, platform: options.platform, buildargs: options.buildArgs, pull: true, rm: true, forcerm: true });
      const events = await new Promise<Array<{ stream?: string; error?: string; errorDetail?: { message?: string } }>>((resolve, reject) =>
        docker.modem.followProgress(stream, (error: Error | null, output: unknown[]) => (error ? reject(error) : resolve(output as never)), (event: { stream?: string; status?: string }) => {
          for (const line of (event.stream ?? event.status ?? '').split('\n')) if (line.trim()) onLine(line.trimEnd());
        }),
      );
      const failed = events.find((e) => e.error || e.errorDetail);
      if (failed) throw new PiswarmError(failed.errorDetail?.message ?? failed.error ?? 'the build failed');
    },
    save: (image) => docker.getImage(image).get() as Promise<Readable>,
    async remove(image) {
      await docker.getImage(image).remove({ force: true }).catch(() => undefined);
    },
    close: () => agent?.destroy(),
  };
}
