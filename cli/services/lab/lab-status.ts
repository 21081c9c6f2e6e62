import { bootLogin, hypriotDefaults, type BootLogin } from '../../core/boot-config.js';
import { PiswarmError } from '../../errors.js';
import { armEmulationEnabled } from './lab-network.js';
import { probeNode, type NodeHealth } from './lab-node.js';
import { isRegistryUp } from './lab-registry.js';
import { readLabState } from './lab-state.js';

export interface LabNodeStatus {
  name: string;
  ip: string;
  mac: string;
  netns: string;
  sshd: NodeHealth['sshd'];
  dockerd: NodeHealth['dockerd'];
  sshBanner?: string;
  /** How the node accepts logins as booted (before bootstrap puts a key in and the password out). */
  login: BootLogin;
}

export interface LabStatus {
  name: string;
  subnet: string;
  bridge: string;
  gateway: string;
  registry: { address: string; state: 'running' | 'down' };
  armEmulation: boolean;
  nodes: LabNodeStatus[];
}

export async function labStatus(options: { name: string }): Promise<LabStatus> {
  const state = await readLabState(options.name);
  if (!state) {
    throw new PiswarmError(`No lab named ${options.name} is running.`, { hint: 'Start one with `sudo piswarm lab up`.' });
  }
  const { plan } = state;
  const [registryUp, armEmulation, nodes] = await Promise.all([
    isRegistryUp(plan, state.registryPid),
    armEmulationEnabled(),
    Promise.all(
      plan.nodes.map(async (node): Promise<LabNodeStatus> => {
        const health = await probeNode(plan, node);
        const login = state.nodes[node.hostname]?.login ?? bootLogin(hypriotDefaults(node.hostname))!;
        return { name: node.hostname, ip: node.ip, mac: node.mac, netns: node.netns, ...health, login };
      }),
    ),
  ]);
  return {
    name: plan.name,
    subnet: plan.subnet,
    bridge: plan.bridge,
    gateway: plan.gateway,
    registry: { address: plan.registry, state: registryUp ? 'running' : 'down' },
    armEmulation,
    nodes,
  };
}
