import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readComposeInput, textToSend } from '../../cli/commands/stack/compose-input.js';
import { parseGoYaml } from '../../cli/core/compose/go-yaml.js';
import { CORPUS } from '../fixtures/compose/corpus.js';
import { piswarm } from '../helpers/cli.js';

/**
 * piswarm's compose loader against Docker's own (docker CLI 28's `docker stack config`, which
 * loads, substitutes, validates and merges offline). For every file of the corpus the verdicts
 * must agree; where both accept, what piswarm sends, loaded by Docker again from an empty folder
 * with no variables set, must equal Docker's result on the original, leaf by leaf.
 */
const root = mkdtempSync(join(tmpdir(), 'piswarm-compose-'));
const baseEnv = { PATH: process.env.PATH!, HOME: root };

function dockerConfig(dir: string, files: string[], env: Record<string, string>) {
  const run = spawnSync('docker', ['stack', 'config', ...files.flatMap((f) => ['-c', f])], { cwd: dir, env: { ...baseEnv, ...env }, encoding: 'utf8' });
  if (run.error) throw new Error(`docker CLI not runnable (${run.error.message}): these machines have it at /usr/local/bin/docker`);
  return { ok: run.status === 0, out: run.stdout, err: run.stderr };
}

/** Docker's result without what differs by design: the version piswarm may raise, env_file (read in), file paths (folders differ). */
function canonical(text: string): unknown {
  const data = parseGoYaml(text).toJS() as Record<string, Record<string, Record<string, unknown>>>;
  delete (data as Record<string, unknown>).version;
  for (const service of Object.values(data.services ?? {})) {
    delete service.env_file;
    if (Array.isArray(service.ports)) service.ports = [...service.ports].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  }
  for (const section of ['secrets', 'configs']) for (const def of Object.values(data[section] ?? {})) if (typeof def.file === 'string') def.file = basename(def.file);
  return data;
}

describe("compose files, next to Docker's own loader", () => {
  it.each(CORPUS.map((c) => [c.name, c] as const))('%s', async (_name, corpusCase) => {
    const dir = join(root, corpusCase.name.replace(/[^a-z0-9]+/gi, '-'));
    mkdirSync(dir, { recursive: true });
    for (const [file, text] of Object.entries(corpusCase.files)) writeFileSync(join(dir, file), text);
    const order = corpusCase.order ?? Object.keys(corpusCase.files).filter((f) => f.endsWith('.yml'));
    const env = corpusCase.env ?? {};
    const docker = dockerConfig(dir, order, env);
    expect(docker.ok, `Docker's verdict on this file: ${docker.err}`).toBe(!corpusCase.refused);
    const ours = await readComposeInput(order.map((f) => join(dir, f)), { ...baseEnv, ...env }).then(
      (input) => ({ ok: true as const, input }),
      (error: Error) => ({ ok: false as const, error }),
    );
    if (corpusCase.stricter) {
      expect(ours.ok, `piswarm should refuse: ${corpusCase.stricter}`).toBe(false);
      if (!ours.ok) expect(ours.error.message).not.toMatch(/Unexpected/);
      return;
    }
    expect(ours.ok, ours.ok ? `Docker refused: ${docker.err}` : `piswarm refused: ${ours.error.message}\nDocker: ${docker.ok ? 'accepted' : docker.err}`).toBe(docker.ok);
    if (!ours.ok) return;

    const empty = join(dir, 'sent');
    mkdirSync(empty, { recursive: true });
    for (const [file, text] of Object.entries(corpusCase.files)) if (!file.endsWith('.yml') && !file.endsWith('.env')) writeFileSync(join(empty, file), text);
    writeFileSync(join(empty, 'sent.yml'), ours.input.stack.text);
    const again = dockerConfig(empty, ['sent.yml'], {});
    expect(again.ok, `Docker refused what piswarm sends: ${again.err}\n${ours.input.stack.text}`).toBe(true);
    expect(canonical(again.out)).toEqual(canonical(docker.out));

    // With file secrets and configs swapped for the objects a deploy creates, Docker still takes it.
    writeFileSync(join(empty, 'deployed.yml'), await textToSend(ours.input, 'corpus'));
    const deployed = dockerConfig(empty, ['deployed.yml'], {});
    expect(deployed.ok, deployed.err).toBe(true);
  });
});

describe('piswarm stack config', () => {
  it('prints what a deploy sends, which Docker loads; refuses a bad file naming its line, and touches no node', async () => {
    const dir = mkdtempSync(join(root, 'cli-'));
    writeFileSync(join(dir, 'app.yml'), v38('x-common: &common\n  deploy:\n    mode: global\nservices:\n  proxy:\n    <<: *common\n    image: traefik:${TAG:-2.10}\n    env_file: ./proxy.env\n    command: echo $$HOME\n    secrets: [tls]\nsecrets:\n  tls:\n    file: ./tls.pem\n'));
    writeFileSync(join(dir, 'proxy.env'), 'LOG_LEVEL=info\n');
    writeFileSync(join(dir, 'tls.pem'), 'cert\n');
    writeFileSync(join(dir, '.env'), 'TAG=3.0 # from .env\n');
    const shown = await piswarm(['stack', 'config', join(dir, 'app.yml')], { env: { ...baseEnv, PISWARM_INVENTORY: join(dir, 'none.yaml') } });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toBe(await textToSend(await readComposeInput([join(dir, 'app.yml')], { TAG: '3.0' }), 'app'));
    writeFileSync(join(dir, 'sent.yml'), shown.stdout);
    const docker = dockerConfig(dir, ['sent.yml'], {});
    expect(docker.ok, docker.err).toBe(true);
    expect(parseGoYaml(docker.out).toJS().services.proxy).toMatchObject({ image: 'traefik:3.0', command: ['echo', '$HOME'], environment: { LOG_LEVEL: 'info' }, deploy: { mode: 'global' } });

    writeFileSync(join(dir, 'bad.yml'), v38('services:\n  web:\n    image: app:1\n    deploy:\n      replicas: ${REPLICAS}\n'));
    const bad = await piswarm(['stack', 'config', join(dir, 'bad.yml')], { env: baseEnv });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('bad.yml:6: services.web.deploy.replicas: ${REPLICAS} is not set');
  });
});

function v38(body: string): string {
  return `version: "3.8"\n${body}`;
}
