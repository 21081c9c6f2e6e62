import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeRow } from '../../cli/core/node-table.js';
import { piswarm } from '../helpers/cli.js';
import { startSwarmLab } from '../helpers/lab-images.js';
import { labEnv, labLeftovers, netnsPids } from '../helpers/lab.js';
import { until } from '../helpers/wait.js';

const NAME = 'backup';
const SUBNET = '10.88.0.0/24';
const REGISTRY = '10.88.0.1:5000';
const ip = (n: number) => `10.88.0.1${n}`;
const STACKS = fileURLToPath(new URL('../../stacks', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'piswarm-backup-'));
const PASSPHRASE = 'correct horse battery staple';
const TOKEN = 'the-vault-token-0451';
const EXTERNAL = 'typed-by-hand-77';
const user = { HOME: dir, SSH_AUTH_SOCK: '', HELLO_IMAGE: `${REGISTRY}/hello-world:1`, HELLO_PORT_MODE: 'host', PISWARM_BACKUP_PASSPHRASE: PASSPHRASE };
const inventory = join(dir, 'piswarm.yaml');
const backupFile = join(dir, 'cluster.backup');
const lab = (command: string, ...args: string[]) => piswarm(['lab', command, '--name', NAME, ...args], { env: labEnv });
const cli = (args: string[], env: Record<string, string> = {}) => piswarm(['--inventory', inventory, ...args], { env: { ...user, ...env } });
const onNode = async (node: string, script: string) => (await lab('exec', node, '--', 'sh', '-c', script)).stdout.trim();
const nodes = async () => JSON.parse((await cli(['node', 'ls', '--json'])).stdout) as NodeRow[];
const services = async () => onNode('pi-01', "docker service ls --format '{{.Name}} {{.Replicas}}' | sort");
let labPids: number[] = [];

// A stack the way a user writes one: a secret from a file beside it, a service pinned to a node label.
const VAULT = `version: "3.8"
services:
  keeper:
    image: ${REGISTRY}/hello-world:1
    secrets: [token]
    deploy:
      placement:
        constraints: [node.labels.store == yes]
secrets:
  token:
    file: ./token.txt
`;

/** A service's secret as its container reads it, with the node that runs it. */
async function secretSeen(service: string, secret: string, nodeNames: readonly string[]): Promise<string> {
  for (const node of nodeNames) {
    const found = await onNode(node, `c=$(docker ps -q -f name=${service}); [ -n "$c" ] && docker exec "$c" cat /run/secrets/${secret}`);
    if (found) return `${node}: ${found}`;
  }
  return 'not running';
}
const vaultSecret = (nodeNames: readonly string[]) => secretSeen('vault_keeper', 'token', nodeNames);

beforeAll(async () => {
  labPids = await startSwarmLab({ name: NAME, subnet: SUBNET, nodes: [ip(1), ip(2), ip(3)], registry: REGISTRY, inventory, env: user, managers: 1 });
  writeFileSync(join(dir, 'vault.yml'), VAULT);
  writeFileSync(join(dir, 'token.txt'), TOKEN);
  expect((await onNode('pi-01', 'docker node update --label-add store=yes pi-03 >/dev/null && echo ok'))).toBe('ok');
  for (const [file, name] of [[join(STACKS, 'hello-world.yml'), 'hw'], [join(dir, 'vault.yml'), 'vault']] as const) {
    const extra = name === 'hw' ? ['-c', join(STACKS, 'hello-world.lab.yml')] : [];
    const deploy = await cli(['stack', 'deploy', file, ...extra, '--name', name, '--window', '0']);
    if (deploy.code !== 0) throw new Error(`deploy ${name} failed: ${deploy.stderr}`);
  }
  // A secret made by hand, as many users do: the swarm never gives its content back.
  const manual = await onNode('pi-01', `printf %s ${EXTERNAL} | docker secret create db_password - >/dev/null && docker service create -d --name extra --secret db_password ${REGISTRY}/hello-world:1 >/dev/null && echo ok`);
  expect(manual).toBe('ok');
});

afterAll(async () => {
  await lab('down');
  expect(labLeftovers(NAME, labPids)).toEqual([]);
});

describe('backup, disaster, restore, and replacing dead Pis', () => {
  it('backs up into one encrypted file (mode 600) whose --list names the stacks, the label and the secret with its content', async () => {
    const run = await cli(['backup', '--output', backupFile]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('Secret db_password: made outside piswarm: the swarm never gives a secret back. A restore needs it as --secret db_password=FILE.');
    expect(statSync(backupFile).mode & 0o777).toBe(0o600);
    const bytes = readFileSync(backupFile);
    expect(bytes.toString('latin1')).not.toContain(TOKEN);
    expect(bytes.toString('latin1')).not.toContain('vault_keeper');
    const list = await cli(['--json', 'backup', '--list', backupFile]);
    expect(list.code, list.stderr).toBe(0);
    const contents = Object.fromEntries((JSON.parse(list.stdout).contents as Array<{ kind: string; items: string[] }>).map((c) => [c.kind, c.items]));
    expect(contents.stacks!.sort()).toEqual(['hw', 'vault']);
    expect(contents.nodes).toContain('pi-03 (worker, active, store=yes)');
    expect(contents.secrets!.sort()).toEqual(['db_password (no content: made outside piswarm: the swarm never gives a secret back)', expect.stringMatching(new RegExp(`^vault_token_[0-9a-f]{10} \\(content kept, from ${join(dir, 'token.txt')}\\)$`))]);
    expect(list.stdout + list.stderr).not.toContain(TOKEN);
  });

  it('after the lab is destroyed and a new swarm bootstrapped, a wrong passphrase and a truncated file are refused and change nothing', async () => {
    await lab('down');
    labPids.push(...(await startSwarmLab({ name: NAME, subnet: SUBNET, nodes: [ip(1), ip(2), ip(3)], registry: REGISTRY, inventory: join(dir, 'new.yaml'), env: user, managers: 1 })));
    // The new lab's fresh Pis, kept for the replacements below.
    const grow = await lab('up', '--nodes', '5', '--subnet', SUBNET);
    expect(grow.code, grow.stderr).toBe(0);
    labPids.push(...netnsPids(`${NAME}-pi-04`), ...netnsPids(`${NAME}-pi-05`));
    writeFileSync(inventory, readFileSync(join(dir, 'new.yaml')));
    const before = await services();
    const wrong = await cli(['restore', backupFile, '--yes'], { PISWARM_BACKUP_PASSPHRASE: 'not the passphrase' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('the passphrase is wrong');
    const truncated = join(dir, 'truncated.backup');
    writeFileSync(truncated, readFileSync(backupFile).subarray(0, 900));
    const cut = await cli(['restore', truncated, '--yes']);
    expect(cut.code).toBe(1);
    expect(cut.stderr).toMatch(/truncated\.backup is truncated: \d+ of its \d+ encrypted bytes are there/);
    expect(await services()).toBe(before);
    expect(before).toBe('');
  });

  it('restore brings back the stacks (running), the node label and the secrets, the one made by hand from --secret', async () => {
    const plan = await cli(['restore', backupFile, '--dry-run']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/create secret vault_token_[0-9a-f]{10} \(content from the backup\)/);
    expect(plan.stdout).toContain('cannot restore secret db_password: made outside piswarm: the swarm never gives a secret back; give it with --secret db_password=FILE');
    expect(plan.stdout).toContain('cannot restore service extra: it needs secret db_password, which has no content');
    expect(plan.stdout).toContain('add labels store=yes to pi-03');
    expect(plan.stdout).toContain('create service hw_web');
    const refused = await cli(['restore', backupFile, '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Nothing was restored: db_password, extra cannot be restored');
    expect(await services()).toBe('');
    writeFileSync(join(dir, 'db-password.txt'), EXTERNAL);
    const run = await cli(['restore', backupFile, '--secret', `db_password=${join(dir, 'db-password.txt')}`, '--yes']);
    expect(run.code, run.stderr).toBe(0);
    expect(await services()).toBe('extra 1/1\nhw_web 3/3 (max 1 per node)\nvault_keeper 1/1');
    expect(await secretSeen('extra', 'db_password', ['pi-01', 'pi-02', 'pi-03'])).toMatch(new RegExp(`^pi-0\\d: ${EXTERNAL}$`));
    expect(await onNode('pi-01', "docker node inspect pi-03 --format '{{index .Spec.Labels \"store\"}}'")).toBe('yes');
    expect(await vaultSecret(['pi-03'])).toBe(`pi-03: ${TOKEN}`);
    expect((await cli(['stack', 'ls'])).stdout).toMatch(/hw\s+1\n.*vault\s+1/s);
    const again = await cli(['restore', backupFile, '--dry-run']);
    expect(again.stdout).not.toMatch(/\d+\. (create|update|add)/);
  });

  it('a worker powered off for good is replaced by a fresh Pi that gets its label and its pinned task', async () => {
    await lab('stop', 'pi-03');
    await until(async () => (await nodes()).find((n) => n.hostname === 'pi-03')?.status === 'down', 60_000, 'pi-03 to be down');
    const run = await cli(['node', 'replace', 'pi-03', ip(4), '--yes']);
    expect(run.code, run.stderr).toBe(0);
    const after = await nodes();
    expect(after.map((n) => n.hostname).sort()).toEqual(['pi-01', 'pi-02', 'pi-04']);
    expect(await onNode('pi-01', "docker node inspect pi-04 --format '{{index .Spec.Labels \"store\"}}'")).toBe('yes');
    expect(await vaultSecret(['pi-04'])).toBe(`pi-04: ${TOKEN}`);
    const saved = readFileSync(inventory, 'utf8');
    expect(saved).not.toContain('hostname: pi-03');
    expect(saved).toMatch(/hostname: pi-04[\s\S]*labels:\n\s+store: yes/);
  });

  it('a manager of three powered off for good is replaced, the count of managers odd and quorum kept throughout', async () => {
    for (const node of ['pi-02', 'pi-04']) expect((await cli(['node', 'promote', node])).code).toBe(0);
    await lab('stop', 'pi-02');
    await until(async () => (await nodes()).find((n) => n.hostname === 'pi-02')?.status === 'down', 60_000, 'pi-02 to be down');
    // Raft answers all along: a manager read that fails means quorum was lost.
    let reads = 0;
    let failures = 0;
    let replacing = true;
    const watch = (async () => {
      while (replacing) {
        const read = await lab('exec', 'pi-01', '--', 'docker', 'node', 'ls', '-q');
        reads++;
        if (read.code !== 0) failures++;
      }
    })();
    const run = await cli(['node', 'replace', 'pi-02', ip(5), '--yes']);
    replacing = false;
    await watch;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('promote pi-05 to manager');
    expect(reads).toBeGreaterThan(2);
    expect(failures).toBe(0);
    const managers = (await nodes()).filter((n) => n.role === 'manager');
    expect(managers.map((n) => `${n.hostname} ${n.status}`).sort()).toEqual(['pi-01 ready', 'pi-04 ready', 'pi-05 ready']);
    expect(await services()).toBe('extra 1/1\nhw_web 3/3 (max 1 per node)\nvault_keeper 1/1');
  });
});

