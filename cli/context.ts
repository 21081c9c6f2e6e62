import { loadInventory, saveInventory } from './adapters/inventory-file.js';
import { localRunner, type CommandRunner } from './adapters/process.js';
import { createSshConnector, type SshConnector } from './adapters/ssh.js';
import type { Inventory } from './core/inventory.js';
import { createIo, createReporter, type Io, type Reporter } from './io.js';

export interface GlobalOptions {
  json: boolean;
  yes: boolean;
  verbose: boolean;
  inventory: string;
}

/** A command that changes the cluster, and how long it waits for another such run (the run locks). */
export interface ChangingRun {
  command: string;
  lockWaitMs: number;
}

/** What every command gets: output, progress, and the ports to the outside world, made lazily. */
export interface Context {
  /** Set when this run changes the cluster: it holds the inventory's run lock, and the swarm's. */
  changing?: ChangingRun;
  io: Io;
  reporter: Reporter;
  runner: CommandRunner;
  inventoryFile: string;
  loadInventory(): Promise<Inventory>;
  saveInventory(inventory: Inventory): Promise<void>;
  ssh(): SshConnector;
}

export function createContext(options: GlobalOptions, changing?: ChangingRun): Context {
  const io = createIo(options);
  let connector: SshConnector | undefined;
  return {
    ...(changing ? { changing } : {}),
    io,
    reporter: createReporter(io),
    runner: localRunner,
    inventoryFile: options.inventory,
    loadInventory: () => loadInventory(options.inventory),
    saveInventory,
    ssh: () => (connector ??= createSshConnector()),
  };
}
