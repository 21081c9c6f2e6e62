import { describe, expect, it } from 'vitest';
import { Inventory } from '../../cli/core/inventory.js';
import { addNodesByAddress } from '../../cli/services/swarm/add-by-address.js';
import { fakeConnector, FakeSwarm } from '../helpers/fake-swarm.js';

describe('bootstrap --nodes: Pis added by address', () => {
  const fake = new FakeSwarm([{ id: 'pi-01', role: 'worker', state: 'none' }, { id: 'pi-02', role: 'worker', state: 'none' }], []);

  it('logs in by address, files each Pi under the MAC it answered on, as the user given, and keeps the sessions', async () => {
    const { connector, tried } = fakeConnector(fake, { '10.0.0.21': 'pi-01', '10.0.0.22': 'pi-02' });
    const inventory = Inventory.empty('piswarm.yaml');
    const added = await addNodesByAddress(connector, inventory, ['10.0.0.21', '10.0.0.22'], {}, 1000, 'lab');
    expect(tried.sort()).toEqual(['10.0.0.21', '10.0.0.22']);
    expect(added.hostnames.sort()).toEqual(['pi-01', 'pi-02']);
    expect(inventory.nodes().map((n) => `${n.mac} ${n.hostname} ${n.ip} ${n.user}`)).toEqual(['b8:27:eb:00:00:21 pi-01 10.0.0.21 lab', 'b8:27:eb:00:00:22 pi-02 10.0.0.22 lab']);
    expect([...added.sessions.values()].map((s) => s.node.hostname).sort()).toEqual(['pi-01', 'pi-02']);
    for (const session of added.sessions.values()) session.close();
  });

  it('adds nothing when one address does not answer, naming it', async () => {
    const { connector } = fakeConnector(fake, { '10.0.0.21': 'pi-01' });
    const inventory = Inventory.empty('piswarm.yaml');
    await expect(addNodesByAddress(connector, inventory, ['10.0.0.21', '10.0.0.29'], {}, 1000)).rejects.toThrow("Can't add 10.0.0.29: 10.0.0.29 does not answer");
    expect(inventory.nodes()).toEqual([]);
  });

  it('refuses what is not an address before connecting to anything', async () => {
    const { connector, tried } = fakeConnector(fake, {});
    await expect(addNodesByAddress(connector, Inventory.empty('piswarm.yaml'), ['pi-01'], {}, 1000)).rejects.toThrow('--nodes takes IPv4 addresses, got "pi-01".');
    expect(tried).toEqual([]);
  });
});
