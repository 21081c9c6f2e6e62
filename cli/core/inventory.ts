import { Document, isMap, isScalar } from 'yaml';
import { parseValidatedYaml } from './yaml-location.js';
import { InventoryError, UsageError } from '../errors.js';
import { inventorySchema, MAC_KEY_MESSAGE, type CardEntry, type InventoryData, type NodeEntry } from './inventory-schema.js';

export const DEFAULT_SSH_USER = 'pirate';

export interface InventoryNode extends NodeEntry {
  mac: string;
}

/**
 * The inventory (`piswarm.yaml`). Reads are from validated data; writes edit the YAML document in
 * place so comments and ordering a user added survive a rewrite.
 */
export class Inventory {
  private constructor(
    readonly file: string,
    private readonly doc: Document,
    private data: InventoryData,
  ) {}

  static parse(file: string, text: string): Inventory {
    // zod reports a bad record key generically; say what a node key must be.
    const { doc, data } = parseValidatedYaml(file, text, inventorySchema, (f, problems) => new InventoryError(f, problems), (issue) => (issue.code === 'invalid_key' ? MAC_KEY_MESSAGE : issue.message));
    if (!isMap(doc.contents)) doc.contents = doc.createNode({}) as never;
    return new Inventory(file, doc, normaliseMacs(data));
  }

  static empty(file: string): Inventory {
    return Inventory.parse(file, '');
  }

  get clusterName(): string | undefined {
    return this.data.cluster?.name;
  }

  /** The swarm bootstrap made or adopted; undefined before, and after teardown. */
  get swarmId(): string | undefined {
    return this.data.cluster?.swarmId;
  }

  setSwarmId(swarmId: string): void {
    this.doc.setIn(['cluster', 'swarmId'], swarmId);
    this.revalidate();
  }

  /** Forgets the swarm (its ID and the nodes' swarm IDs); nodes, roles and labels stay. */
  forgetSwarm(): void {
    if (this.doc.hasIn(['cluster', 'swarmId'])) this.doc.deleteIn(['cluster', 'swarmId']);
    for (const node of this.nodes()) {
      if (node.swarmNodeId) this.doc.deleteIn(['nodes', this.keyFor(node.mac), 'swarmNodeId']);
    }
    const cluster = this.doc.get('cluster', true);
    if (isMap(cluster) && cluster.items.length === 0) this.doc.delete('cluster');
    this.revalidate();
  }

  get sshDefaults(): { user: string; privateKey?: string; port: number } {
    return {
      user: this.data.ssh?.user ?? DEFAULT_SSH_USER,
      privateKey: this.data.ssh?.privateKey,
      port: this.data.ssh?.port ?? 22,
    };
  }

  nodes(): InventoryNode[] {
    return Object.entries(this.data.nodes ?? {}).map(([mac, entry]) => ({ mac, ...entry }));
  }

  /** Finds a node by hostname, MAC or IP: users type whichever they have at hand. */
  findNode(ref: string): InventoryNode | undefined {
    const needle = ref.toLowerCase();
    return this.nodes().find((n) => n.mac === needle || n.hostname.toLowerCase() === needle || n.ip === ref);
  }

  /** Like findNode, for a node the user named: an unknown name is a usage error listing the known ones. */
  requireNode(ref: string): InventoryNode {
    const node = this.findNode(ref);
    if (!node) throw new UsageError(`No node "${ref}" in ${this.file}.`, `Known nodes: ${this.nodes().map((n) => n.hostname).join(', ') || 'none'}.`);
    return node;
  }

  /** Adds a node or updates fields of an existing one, keyed by MAC. */
  upsertNode(mac: string, fields: Partial<NodeEntry>): void {
    const key = this.keyFor(mac.toLowerCase());
    for (const [field, value] of Object.entries(fields)) {
      if (value !== undefined) this.doc.setIn(['nodes', key, field], value);
    }
    this.revalidate();
  }

  /** A node removed from the swarm: its role and swarm node ID go; the Pi stays listed (bootstrap --only joins it again). */
  leaveSwarm(mac: string): void {
    const key = this.keyFor(mac.toLowerCase());
    for (const field of ['role', 'swarmNodeId']) if (this.doc.hasIn(['nodes', key, field])) this.doc.deleteIn(['nodes', key, field]);
    this.revalidate();
  }

  /** A node gone for good (replaced): its entry goes. */
  forgetNode(mac: string): void {
    const key = this.keyFor(mac.toLowerCase());
    if (this.doc.hasIn(['nodes', key])) this.doc.deleteIn(['nodes', key]);
    this.revalidate();
  }

  /** Records a flashed card's SSH host key, so the first connection to it is already verified. */
  recordCard(hostname: string, card: CardEntry): void {
    this.doc.setIn(['cards', hostname], this.doc.createNode(card));
    this.revalidate();
  }

  /** The cards piswarm flashed, by hostname. */
  cardEntries(): Record<string, CardEntry> {
    return { ...(this.data.cards ?? {}) };
  }

  /** The host key to expect from a node: pinned on the node, or recorded when its card was flashed. */
  expectedHostKey(node: InventoryNode): string | undefined {
    return node.hostKey ?? this.data.cards?.[node.hostname]?.hostKey;
  }

  toString(): string {
    // Long lines (host keys) stay whole, as a user would paste them.
    return this.doc.toString({ lineWidth: 0 });
  }

  /** The document's own spelling of a MAC key (users may write upper case). */
  private keyFor(mac: string): string {
    const nodes = this.doc.get('nodes', true);
    if (isMap(nodes)) {
      for (const pair of nodes.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        if (key.toLowerCase() === mac) return key;
      }
    }
    return mac;
  }

  private revalidate(): void {
    this.data = Inventory.parse(this.file, this.doc.toString()).data;
  }
}

function normaliseMacs(data: InventoryData): InventoryData {
  if (!data.nodes) return data;
  return { ...data, nodes: Object.fromEntries(Object.entries(data.nodes).map(([mac, n]) => [mac.toLowerCase(), n])) };
}
