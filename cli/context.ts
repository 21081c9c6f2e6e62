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

/** What every command gets: output, progress, and the ports to the outside world, made lazily. */
export interface Context {
  io: Io;
  reporter: Reporter;
  runner: CommandRunner;
  inventoryFile: string;
  loadInventory(): Promise<Inventory>;
  saveInventory(inventory: Inventory): Promise<void>;
  ssh(): SshConnector;
}

export function createContext(options: GlobalOptions): Context {
  const io = createIo(options);
  let connector: SshConnector | undefined;
  return {
    io,
    reporter: createReporter(io),
    runner: localRunner,
    inventoryFile: options.inventory,
    loadInventory: () => loadInventory(options.inventory),
    saveInventory,
    ssh: () => (connector ??= createSshConnector()),
  };
}
