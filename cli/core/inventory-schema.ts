import { z } from 'zod';

/** MAC addresses are the node identity: routers hand out new IPs, the MAC stays. */
export const MAC_PATTERN = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
export const MAC_KEY_MESSAGE = 'node keys must be MAC addresses such as b8:27:eb:12:34:56';
/** RFC 1123 label: what a Pi's hostname may be. */
export const HOSTNAME_PATTERN = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;
const IPV4_PATTERN = /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$/;
const HOST_KEY_PATTERN = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}( \S.*)?$/;

const nodeSchema = z.strictObject({
  hostname: z.string().regex(HOSTNAME_PATTERN, 'must be a valid hostname (letters, digits and "-", at most 63)'),
  ip: z.string().regex(IPV4_PATTERN, 'must be an IPv4 address such as 192.168.1.20').optional(),
  role: z.enum(['manager', 'worker'], { message: 'must be "manager" or "worker"' }).optional(),
  user: z.string().min(1).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  hostKey: z.string().regex(HOST_KEY_PATTERN, 'must be an OpenSSH public key line such as "ssh-ed25519 AAAA..."').optional(),
  /** Recorded by bootstrap: `uname -m` and the device-tree model. */
  arch: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  /** The node's ID in the swarm (written by bootstrap, removed by teardown). */
  swarmNodeId: z.string().min(1).optional(),
});

/** A card piswarm flashed, by hostname, until discovery finds the Pi and files it under its MAC. */
const cardSchema = z.strictObject({
  hostKey: z.string().regex(HOST_KEY_PATTERN, 'must be an OpenSSH public key line such as "ssh-ed25519 AAAA..."'),
  /** The user the card was flashed with: the one to log in as until bootstrap. */
  user: z.string().min(1).optional(),
  image: z.string().optional(),
  flashedAt: z.string().optional(),
});

export const inventorySchema = z.strictObject({
  cluster: z.strictObject({ name: z.string().min(1).optional(), swarmId: z.string().min(1).optional() }).optional(),
  ssh: z
    .strictObject({
      user: z.string().min(1).optional(),
      privateKey: z.string().min(1).optional(),
      port: z.number().int().min(1).max(65535).optional(),
    })
    .optional(),
  nodes: z.record(z.string().regex(MAC_PATTERN, MAC_KEY_MESSAGE), nodeSchema).optional(),
  cards: z.record(z.string().regex(HOSTNAME_PATTERN, 'card keys must be hostnames'), cardSchema).optional(),
});

export type InventoryData = z.infer<typeof inventorySchema>;
export type NodeEntry = z.infer<typeof nodeSchema>;
export type CardEntry = z.infer<typeof cardSchema>;
