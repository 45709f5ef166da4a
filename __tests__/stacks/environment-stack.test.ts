import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Testing } from 'cdktf';
import { Budget, Component, DatabaseStorage, EgressAllowlist, Port, DataVolume, Environment, Location, Machine, Money, Phase, Product, ProductProps, RestoreCheck, S3Provider, ServerType, Size, SshKey, StagingMode } from '../../lib';
import { EnvironmentStack, ProductStacks } from '../../stacks';
import { policy } from '../boundary/fixtures';
import { thrownMessage, warningsOf } from '../setup/stack';
import { admin, backup, monitoring } from '../setup/product-basics';
import { synthesizedBundle } from '../../testing/bundle';
import { REAPED_COLLECTIONS, StagingReaper } from '../../lib/environments/staging-reaper';
import { FloatingIp } from '../../generated/providers/hcloud/floating-ip';
import { ManagedCertificate } from '../../generated/providers/hcloud/managed-certificate';
import { Volume } from '../../generated/providers/hcloud/volume';
import { HcloudApiClient } from '../../lib/environments/hcloud-api-client';
import { HcloudApiStandIn } from '../environments/hcloud-api-stand-in';

const product = (overrides: Partial<ProductProps> = {}) => new Product({ name: 'acme', phase: Phase.ONE, admin, stateBucket: 'acme-state', boundary: policy, backup, monitoring, ...overrides });
const synth = (stack: EnvironmentStack) => JSON.parse(Testing.synth(stack, true));
const resources = (json: any, type: string): any[] => Object.values(json.resource?.[type] ?? {});

describe('EnvironmentStack', () => {
  test('sizes the app machine from the product phase', () => {
    const app = Testing.app();
    const stacks = new ProductStacks(app, product({ phase: Phase.TWO, backup: { ...backup, offsite: S3Provider.IONOS } }));
    expect(resources(synth(stacks.test), 'hcloud_server')[0].server_type).toBe('cx23');
    expect(resources(synth(stacks.production), 'hcloud_server')[0].server_type).toBe('cx43');
  });

  // hcloud reads an IPv6 primary IP's ip_address as the start of its /64 (`2a01:4f8:…::`), where the server does
  // not answer; the server's own address is its ipv6_address (`…::1`). app_ipv6 gave the first, so DNS records and
  // allowlists built from it pointed at no host.
  test('app_ipv6 is the address the app server answers on, not the start of its /64', () => {
    const stacks = new ProductStacks(Testing.app(), product());
    for (const stack of [stacks.test, stacks.production]) {
      const json = synth(stack);
      const [serverId] = Object.keys(json.resource.hcloud_server).filter((id) => json.resource.hcloud_server[id].name.endsWith('-app'));
      expect(json.output.app_ipv6.value).toBe(`\${hcloud_server.${serverId}.ipv6_address}`);
      expect(json.output.app_ipv4.value).toMatch(/^\$\{hcloud_primary_ip\.[A-Za-z0-9_]+\.ip_address\}$/);
    }
  });

  test("pins each machine's SSH host key named in admin.hostKeys; production warns about a machine left unpinned", () => {
    const hostKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr';
    const unpinned = new ProductStacks(Testing.app(), product());
    const rollout = (stack: EnvironmentStack) => resources(synth(stack), 'terraform_data').find((r) => r.connection)!;
    expect(rollout(unpinned.production).connection.host_key).toBeUndefined();
    expect(warningsOf(unpinned.production).join('\n')).toMatch(/Rollout-UnpinnedHostKey: acme-production\/App's rollouts check no SSH host key .* admin\.hostKeys: \{ 'acme-production-app': 'ssh-ed25519 AAAA…' \}/);
    const pinned = new ProductStacks(Testing.app(), product({ admin: { ...admin, hostKeys: { 'acme-production-app': hostKey } } }));
    expect(rollout(pinned.production).connection.host_key).toBe(hostKey);
    expect(rollout(pinned.test).connection.host_key).toBeUndefined();
    expect(warningsOf(pinned.production).join('\n')).not.toMatch(/Rollout-UnpinnedHostKey/);
  });

  test('refuses a host key for a server name the product does not have: the machine it meant would stay unpinned', () => {
    expect(() => product({ admin: { ...admin, hostKeys: { 'acme-prod-app': 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr' } } }))
      .toThrow(/admin\.hostKeys\.acme-prod-app: 'acme-prod-app' is not allowed: no machine of the product has this server name\. Fix: use one of acme-test-app, acme-test-monitoring, acme-staging-app/);
  });

  test('refuses an unknown location or server type name at the product, once, naming the property', () => {
    expect(() => product({ location: Location.of('fra1') })).toThrow(/Product\(acme\)\.location: 'fra1' is not allowed: it is not a Hetzner location\. Fix: use Location\.FSN1/);
    expect(() => product({ locations: { production: Location.of('fra1') } })).toThrow(/Product\(acme\)\.locations\.production: 'fra1' is not allowed: it is not a Hetzner location/);
    expect(() => product({ unavailableServerTypes: ['cx-33'] })).toThrow(/Product\(acme\)\.unavailableServerTypes\[0\]: 'cx-33' is not allowed: it is not a Hetzner server type\. Fix: write the API name, such as 'cx33'/);
  });

  test('refuses empty admin keys or networks at the product, naming its own properties (not the machines\' sshKeys and adminCidrs)', () => {
    expect(() => product({ admin: { ...admin, sshPublicKeys: {} } })).toThrow(/Product\(acme\)\.admin\.sshPublicKeys: .* production needs admin keys\. Fix: pass \{ ops: 'ssh-ed25519/);
    expect(() => product({ admin: { ...admin, cidrs: [] } })).toThrow(/Product\(acme\)\.admin\.cidrs: .* none is listed\. Fix: list the office, VPN and CI blocks/);
  });

  test('holds a product that stages on a server of its own to its budget with the rehearsals, also before a staging stack exists', () => {
    // Always on: €29.80 a month (with 3 pre-release snapshots); with 4 rehearsals of 2 hours on a staging server: €29.92. The budget
    // that passed every plain synth used to fail the day the release path added the staging stack.
    const budget = Budget.monthly(Money.euros(29.85));
    const over = /acme-test\.product\.budget: '€29\.85 a month' is not allowed: the estimated cost is €29\.92 a month, €0\.07 over it \(counting always-on environments, shared costs, and 4 rehearsals of 2 hours a month \(€0\.12\)/;
    const synthApp = (stagingExpiresAt?: string) => {
      const app = Testing.app();
      new ProductStacks(app, product({ staging: StagingMode.fromProductionSnapshot(), budget }), { stagingExpiresAt });
      return () => app.synth();
    };
    expect(synthApp()).toThrow(over);
    expect(synthApp('2026-12-31')).toThrow(over);
    // Rehearsing on the test machine costs nothing extra.
    const reuse = Testing.app();
    new ProductStacks(reuse, product({ staging: StagingMode.reuseTestMachine(), budget }));
    expect(() => reuse.synth()).not.toThrow();
  });

  test('a machine outside the EU fails synth with its own error, not with the budget unable to price it', () => {
    // The product's budget sits on the test stack, validated first: it used to stop synth with "cx33 in ash has
    // no known price. Fix: add its us price to lib/cost/hetzner-prices.json", a file inside the installed library.
    const app = Testing.app();
    new ProductStacks(app, product({ locations: { production: Location.ASH }, budget: Budget.monthly(Money.euros(60)) }));
    const message = thrownMessage(() => app.synth());
    expect(message).toMatch(/acme-production\/App\.location: 'ash' is not allowed: it is outside the EU, and the machine holds sensitive, secret data, which must stay in the EU\. Fix: use Location\.FSN1/);
    expect(message).not.toMatch(/no known price|hetzner-prices\.json/);
  });

  // A worker on a machine of its own reached the app machine's database only through PrivateIngress.allowTcp written
  // after the stack: the stack had no networkClients, as PostgresDatabase has.
  test('networkClients: the machines it builds in the stack reach the database (table and pg_hba.conf); refused at the stack as the database refuses them', () => {
    const worker = (stack: EnvironmentStack, id = 'Worker', inNetwork = true) => new Machine(stack, id, {
      environment: stack.environment, role: 'worker', serverType: ServerType.CX23, location: stack.app.location, sshKeys: [SshKey.fromName('admin')],
      adminCidrs: admin.cidrs, ...(inNetwork ? { privateNetwork: stack.network, privateIp: '10.0.1.5' } : {}),
    });
    const build = (networkClients: unknown) => new EnvironmentStack(Testing.app(), 'acme-test', { product: product(), environment: Environment.TEST, networkClients: networkClients as any });
    const stack = build((s: EnvironmentStack) => [worker(s)]);
    const files = stack.app.bundle.files();
    expect(files.get('/etc/nftables.d/sovereign-private-ingress.nft')!.content).toContain('ip saddr 10.0.1.5 tcp dport 5432 accept');
    expect(files.get('/etc/postgresql/15/main/pg_hba.conf')!.content).toMatch(/^host\s+app\s+app\s+10\.0\.1\.5\/32\s+scram-sha-256$/m);
    expect(() => build([])).toThrow(/acme-test\.networkClients: \[\] is not allowed: it is a list, and a client must be a machine in the private network this stack creates\. Fix: pass a function that builds them in the stack/);
    expect(() => build((s: EnvironmentStack) => [s.app])).toThrow(/acme-test\.networkClients\[0\]: 'acme-test\/App' is not allowed: it is the database's own machine/);
    expect(() => build((s: EnvironmentStack) => [worker(s, 'Loner', false)])).toThrow(/acme-test\.networkClients\[0\]: 'acme-test\/Loner' is not allowed: acme-test\/Loner is in no private network\. Fix: attach both machines/);
    expect(() => build(() => 'worker')).toThrow(/acme-test\.networkClients: 'worker' is not allowed: it is a string, not a list\. Fix: list the client Machines/);
    expect(() => build(() => [{ node: {} }])).toThrow(/acme-test\.networkClients\[0\]: .* is not allowed: it is not a machine built with new Machine/);
    // ProductStacks builds them in each of its stacks.
    const stacks = new ProductStacks(Testing.app(), product(), { networkClients: (s) => [worker(s)] });
    for (const s of stacks.all) expect(s.app.bundle.files().get('/etc/postgresql/15/main/pg_hba.conf')!.content).toMatch(/^host\s+app\s+app\s+10\.0\.1\.5\/32\s/m);
  });

  // docs/database.md's worker: with the stack's own admin keys (a new SshKey of the same key is a uniqueness_error at
  // Hetzner, and SshKey.fromName names a key nobody registered) every stack, staging's in production's project included,
  // passes synth with its checks.
  test("adminSshKeys: a networkClients worker built as docs/database.md shows passes every stack's checks, with the app's keys", () => {
    const stacks = new ProductStacks(Testing.app(), product({ staging: StagingMode.fromProductionSnapshot() }), {
      stagingExpiresAt: '2099-01-01',
      networkClients: (stack) => {
        const worker = new Machine(stack, 'Worker', {
          environment: stack.environment, role: 'worker', serverType: ServerType.CX23, location: stack.app.location,
          sshKeys: [...stack.adminSshKeys], adminCidrs: stack.product.admin.cidrs, privateNetwork: stack.network,
        });
        EgressAllowlist.apply(worker, { policy: stack.product.boundary });
        return [worker];
      },
    });
    expect(stacks.all.map((s) => s.node.id)).toEqual(['acme-test', 'acme-staging', 'acme-production']);
    for (const stack of stacks.all) {
      const servers = resources(synth(stack), 'hcloud_server');
      const [app, worker] = ['-app', '-worker'].map((suffix) => servers.find((s) => s.name.endsWith(suffix)));
      expect(worker.ssh_keys).toEqual(app.ssh_keys);
      expect(worker.ssh_keys.length).toBeGreaterThan(0);
    }
    expect(Object.isFrozen(stacks.test.adminSshKeys)).toBe(true);
    // Staging's are references to production's keys, plain objects: frozen too, so no edit renames the key every
    // machine of the stack (the app's among them) is created with.
    const [stagingKey] = stacks.staging!.adminSshKeys;
    expect(stagingKey.sshKeyReference).toBe('acme-production-ops');
    expect(Object.isFrozen(stagingKey)).toBe(true);
  });

  // A new SshKey of the admin key, in a worker of the stack, is refused at synth (before Hetzner's uniqueness_error):
  // the refusals named only `register the key once` and, across stacks, SshKey.fromName of staging's worker key.
  test('a worker registering the admin key again is refused at synth, the fix naming [...stack.adminSshKeys] and production\'s key by name', () => {
    const workerKey = (stack: EnvironmentStack) => new SshKey(stack, 'WorkerKey', { name: `${stack.node.id}-worker-ops`, publicKey: admin.sshPublicKeys.ops });
    const one = Testing.app();
    new EnvironmentStack(one, 'acme-production', { product: product(), environment: Environment.PRODUCTION, networkClients: (stack) => { workerKey(stack); return []; } });
    expect(thrownMessage(() => one.synth())).toMatch(/acme-production\/WorkerKey\.publicKey: '.*' is not allowed: it is the key of acme-production\/AdminKey-ops too .*uniqueness_error\. Fix: in a ProductStacks or EnvironmentStack stack \(acme-production is one\), take the stack's admin keys rather than registering the key again: sshKeys: \[\.\.\.stack\.adminSshKeys\]; otherwise register the key once/);
    // Staging from production's snapshot is in production's project: its worker's key is the one to drop, and the
    // name to refer to is production's admin key, not the worker's.
    const both = Testing.app();
    new ProductStacks(both, product({ staging: StagingMode.fromProductionSnapshot() }), {
      stagingExpiresAt: '2099-01-01', networkClients: (stack) => { if (stack.environment === Environment.STAGING) workerKey(stack); return []; },
    });
    const message = thrownMessage(() => both.synth());
    expect(message).toContain("Fix: for acme-staging/WorkerKey/Resource, in a ProductStacks or EnvironmentStack stack (acme-staging), take the stack's admin keys rather than registering the key again: "
      + "sshKeys: [...stack.adminSshKeys]; otherwise register the key in one stack only, and refer to it in the other by name: SshKey.fromName('acme-production-ops')");
    expect(message).not.toContain("SshKey.fromName('acme-staging-worker-ops')");
  });

  // The admin keys were the fix for any key registered twice in such a stack: two workers registering one CI deploy
  // key were told to take the admin keys, which would change who can log in.
  test('a key registered twice that is no admin key is told to register once, not to take the admin keys', () => {
    const deployKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDyW0W92D5ahjAf2ve+VCLHHNwO/yNOkLinc2LJhU2RU ci@acme.eu';
    const workerKey = (stack: EnvironmentStack, id: string) => new SshKey(stack, id, { name: `${stack.node.id}-${id.toLowerCase()}`, publicKey: deployKey });
    const one = Testing.app();
    new EnvironmentStack(one, 'acme-production', { product: product(), environment: Environment.PRODUCTION, networkClients: (stack) => { workerKey(stack, 'CiKey'); workerKey(stack, 'CiKey2'); return []; } });
    const sameStack = thrownMessage(() => one.synth());
    expect(sameStack).toMatch(/acme-production\/CiKey2\.publicKey: '.*' is not allowed: it is the key of acme-production\/CiKey too .*Fix: register the key once, and pass that SshKey wherever it is needed/);
    expect(sameStack).not.toContain('adminSshKeys');
    // Across stacks in one project (staging from production's snapshot), likewise: the fix names the key by name only.
    const both = Testing.app();
    new ProductStacks(both, product({ staging: StagingMode.fromProductionSnapshot() }), {
      stagingExpiresAt: '2099-01-01', networkClients: (stack) => { if (stack.environment !== Environment.TEST) workerKey(stack, 'CiKey'); return []; },
    });
    const crossStack = thrownMessage(() => both.synth());
    // The name to keep is production's: staging's key is deleted with staging (its reaper, `cdktf destroy`), under
    // production's servers that would still name it. Staging is built first, so the first key was staging's.
    expect(crossStack).toMatch(/CiKey\/Resource\.public_key: .*Fix: register the key in one stack only, and refer to it in the other by name: SshKey\.fromName\('acme-production-cikey'\)/);
    expect(crossStack).not.toContain("SshKey.fromName('acme-staging-cikey')");
    expect(crossStack).not.toContain('adminSshKeys');
  });

  test('falls back to the next preset type when the first is sold out', () => {
    const stacks = new ProductStacks(Testing.app(), product({ unavailableServerTypes: ['cx23', 'cx33'] }));
    expect(resources(synth(stacks.test), 'hcloud_server')[0].server_type).toBe('cpx22');
    expect(resources(synth(stacks.production), 'hcloud_server')[0].server_type).toBe('cpx32');
  });

  test('fails when every preset type is unavailable', () => {
    expect(() => new ProductStacks(Testing.app(), product({ unavailableServerTypes: ['cx23', 'cpx22'] })))
      .toThrow(/Product\(acme\)\.unavailableServerTypes: every test preset type \(cx23 → cpx22\) is listed as unavailable\. Fix:/);
  });

  test("polls Hetzner's actions from a second apart, not the provider's half second: polls count against the project's 3600 requests an hour", () => {
    const stacks = new ProductStacks(Testing.app(), product());
    for (const stack of [stacks.test, stacks.production]) expect(synth(stack).provider.hcloud).toEqual([expect.objectContaining({ poll_interval: '1000ms' })]);
  });

  test('each environment is its own stack with its own state key', () => {
    const stacks = new ProductStacks(Testing.app(), product({ staging: StagingMode.fromProductionSnapshot() }), { stagingExpiresAt: '2026-12-31' });
    expect(stacks.all.map((s) => s.node.id)).toEqual(['acme-test', 'acme-staging', 'acme-production']);
    const keys = stacks.all.map((s) => (s.toTerraform() as any).terraform.backend.s3.key);
    expect(new Set(keys).size).toBe(3);
  });

  test('reusing the test machine for staging deploys no staging stack', () => {
    const stacks = new ProductStacks(Testing.app(), product({ staging: StagingMode.reuseTestMachine() }), { stagingExpiresAt: '2026-12-31' });
    expect(stacks.staging).toBeUndefined();
  });

  describe('staging on demand', () => {
    const stagingStack = (expiresAt?: string) => new EnvironmentStack(Testing.app(), 'acme-staging', {
      product: product({ staging: StagingMode.fromProductionSnapshot() }), environment: Environment.STAGING, expiresAt,
    });

    // The stack label is how a release finds its stack's staging (`staging list --none-up`, `staging claim`): a name
    // prefix matched another stack's.
    test('carries its stack, purpose and expiry on every labelled resource, and is built from the staging_image variable', () => {
      const json = synth(stagingStack('2026-12-31'));
      for (const type of ['hcloud_server', 'hcloud_primary_ip', 'hcloud_firewall', 'hcloud_network']) {
        for (const r of resources(json, type)) {
          expect(r.labels).toMatchObject({ environment: 'staging', lifecycle: 'on-demand', purpose: 'release-rehearsal', 'expires-at': '2026-12-31', stack: 'acme-staging' });
        }
      }
      const [server] = resources(json, 'hcloud_server');
      // Built from production's snapshot, it lives in production's project and uses production's admin keys there.
      expect(resources(json, 'hcloud_ssh_key')).toEqual([]);
      expect(server.ssh_keys).toEqual(['acme-production-ops']);
      expect(server.image).toBe('${var.staging_image}');
      expect(server.server_type).toBe('cx33');
      expect(server.delete_protection).toBe(false);
      expect(json.variable.staging_image).toMatchObject({ type: 'string', default: 'debian-12' });
    });

    /** Staging with docs/database.md's worker, labelled as given, and whatever `extra` adds to the stack. */
    const stagingWithWorker = (labels: Record<string, string>, extra: (stack: EnvironmentStack) => void = () => undefined, environment?: Environment) => new EnvironmentStack(Testing.app(), 'acme-staging', {
      product: product({ staging: StagingMode.fromProductionSnapshot() }), environment: Environment.STAGING, expiresAt: '2026-12-31',
      networkClients: (s) => {
        const worker = new Machine(s, 'Worker', {
          environment: environment ?? s.environment, role: 'worker', serverType: ServerType.CX23, location: s.app.location, sshKeys: [...s.adminSshKeys],
          adminCidrs: s.product.admin.cidrs, privateNetwork: s.network, labels,
        });
        EgressAllowlist.apply(worker, { policy: s.product.boundary });
        extra(s);
        return [worker];
      },
    });
    const messageOf = (stack: EnvironmentStack) => thrownMessage(() => synth(stack));

    // Pre-existing: a worker of networkClients had none of the on-demand labels, so a rehearsal that died before its
    // destroy left it running and billed while the reaper deleted the app and the network around it.
    test("a networkClients worker carries the on-demand labels, and the reaper's own selector finds every labelled resource but those it warns of", async () => {
      const stack = stagingWithWorker({ team: 'data' }, (s) => {
        new FloatingIp(s, 'Spare', { type: 'ipv4', homeLocation: 'fsn1', name: 'acme-staging-spare' });
        new ManagedCertificate(s, 'Cert', { name: 'acme-staging-cert', domainNames: ['staging.example.com'] });
      });
      const json = synth(stack);
      const worker = resources(json, 'hcloud_server').find((r) => r.labels?.role === 'worker');
      expect(worker.labels).toMatchObject({ environment: 'staging', lifecycle: 'on-demand', purpose: 'release-rehearsal', 'expires-at': '2026-12-31', stack: 'acme-staging', team: 'data', role: 'worker' });
      // What Hetzner would hold after the deploy, every labelled resource of the stack whatever its type, listed to the
      // reaper through a stand-in of the API that applies its label selector: a type the reaper has no collection for
      // fails here unless the stack warned of it.
      // The map as written out, in deletion order (its entries' order is the order the reaper deletes in): servers first,
      // since their IPs, volumes and firewalls go only once nothing uses them.
      expect(Object.entries(REAPED_COLLECTIONS)).toEqual(Object.entries({
        hcloud_server: 'servers', hcloud_load_balancer: 'load_balancers', hcloud_volume: 'volumes', hcloud_primary_ip: 'primary_ips', hcloud_floating_ip: 'floating_ips',
        hcloud_firewall: 'firewalls', hcloud_network: 'networks', hcloud_ssh_key: 'ssh_keys', hcloud_placement_group: 'placement_groups',
      }));
      const collections: Record<string, Array<{ id: number; name: string; labels: Record<string, string> }>> = Object.fromEntries(Object.values(REAPED_COLLECTIONS).map((c) => [c, []]));
      const notReaped: string[] = [];
      let id = 1;
      for (const [type, byId] of Object.entries(json.resource as Record<string, Record<string, any>>)) {
        for (const r of Object.values(byId)) {
          if (r.labels === undefined) continue;
          expect(r.labels).toMatchObject({ environment: 'staging', lifecycle: 'on-demand', stack: 'acme-staging' });
          const collection = REAPED_COLLECTIONS[type];
          if (collection === undefined) notReaped.push(`${type} ${r.name}`);
          else collections[collection].push({ id: id++, name: r.name, labels: r.labels });
        }
      }
      expect(notReaped).toEqual(['hcloud_managed_certificate acme-staging-cert']);
      expect(warningsOf(stack)).toContainEqual(expect.stringMatching(/^Staging-NotReaped: acme-staging\/Cert is a hcloud_managed_certificate, which the staging reaper does not remove \(it removes hcloud_server, .*hcloud_floating_ip, .*hcloud_placement_group\).*Fix: put it in another stack, or destroy it by hand/));
      expect(warningsOf(stack).filter((w) => w.startsWith('Staging-NotReaped'))).toHaveLength(1);
      const api = new HcloudApiStandIn(collections);
      const endpoint = await api.start();
      try {
        const found = await new StagingReaper(new HcloudApiClient({ token: 'test-token', endpoint })).find(new Date('2027-01-02T00:00:00Z'));
        const all = Object.values(collections).flat().map((r) => r.name).sort();
        expect(all.length).toBeGreaterThan(4);
        expect(found.map((r) => r.name).sort()).toEqual(all);
        expect(found.find((r) => r.name === worker.name)).toMatchObject({ collection: 'servers', expired: true, stack: 'acme-staging' });
        expect(found.filter((r) => r.collection === 'servers')).toHaveLength(2);
        expect(found.find((r) => r.name === 'acme-staging-spare')).toMatchObject({ collection: 'floating_ips', expired: true, stack: 'acme-staging' });
      } finally {
        await api.stop();
      }
    });

    // A Machine's label reached its server, firewall and two addresses: four refusals of one mistake.
    test('fails once for the Machine when it sets an on-demand label to another value: the reaper would miss it', () => {
      const message = messageOf(stagingWithWorker({ lifecycle: 'permanent' }));
      expect(message).toMatch(/acme-staging\/Worker\.labels: \{"lifecycle":"permanent"\} is not allowed: a staging stack labels what it creates for the staging reaper.*Fix: leave these labels out \(the stack sets them\), or give them the stack's values: \{"lifecycle":"on-demand"\}/);
      expect(message.match(/is not allowed: a staging stack labels/g)).toHaveLength(1);
    });

    test("a Machine of another environment is told to take the stack's: its environment label comes from that prop", () => {
      const message = messageOf(stagingWithWorker({}, undefined, Environment.TEST));
      expect(message).toContain('acme-staging/Worker.labels: {"environment":"test"} is not allowed: a staging stack labels');
      expect(message).toContain('Fix: build the Machine with environment: stack.environment (its environment label comes from that prop)');
    });

    // Every value that is no object of labels was said to be "not known at synth", a list or null from plain JavaScript too.
    test.each([
      ['${var.volume_labels}', 'they are not known at synth'],
      [null, 'they are null, not an object of labels'],
      [['team'], 'they are a list, not an object of labels'],
      ['team=data', 'they are a string, not an object of labels'],
    ])('a resource outside any Machine whose labels are %p is refused: %s', (labels, why) => {
      // As an override: the generated constructor turns a list into an object of its indices.
      const message = messageOf(stagingWithWorker({}, (s) => new Volume(s, 'Scratch', { name: 'acme-staging-scratch', size: 10, location: 'fsn1' }).addOverride('labels', labels)));
      expect(message).toContain(`acme-staging/Scratch.labels: `);
      expect(message).toContain(`is not allowed: ${why}, so the staging reaper's labels cannot be added to them. Fix: write them out at synth as an object of labels`);
    });

    // A list given to a generated constructor was written out as {"0": "team"}, labelled and passed: from the value given.
    test.each([
      [['team'], 'they are a list, not an object of labels, which the generated constructor would write out as {"0":"team"}'],
      [7, 'they are a number, not an object of labels, which the generated constructor would write out as {}'],
    ])('a generated constructor given labels %p is refused, naming what it would have written', (labels, why) => {
      const message = messageOf(stagingWithWorker({}, (s) => new Volume(s, 'Scratch', { name: 'acme-staging-scratch', size: 10, location: 'fsn1', labels: labels as any })));
      expect(message).toContain(`acme-staging/Scratch.labels: ${JSON.stringify(labels)} is not allowed: ${why}, so the staging reaper's labels cannot be added to them. `
        + `Fix: write them out at synth as an object of labels, such as { team: 'data' }, or leave them out: the stack adds {"environment":"staging",`);
      expect(message.match(/acme-staging\/Scratch\.labels/g)).toHaveLength(1);
    });

    // Audit (lifecycle): production's database on a volume (Phase 3's default) is not in a Hetzner snapshot, so
    // staging built from one rehearsed on an empty database, and nothing said so.
    test('warns when production\'s database is on a volume, which the snapshot staging is built from does not hold', () => {
      const build = (storage: DatabaseStorage) => new EnvironmentStack(Testing.app(), 'acme-staging', {
        product: product({ staging: StagingMode.fromProductionSnapshot(), database: { storage } }), environment: Environment.STAGING, expiresAt: '2026-12-31',
      });
      const onVolume = build(DatabaseStorage.volume());
      Testing.synth(onVolume);
      expect(warningsOf(onVolume)).toContainEqual(expect.stringMatching(/^Environment-StagingWithoutData: acme-staging is built from production's snapshot, but production's database is on a 50 GiB volume .* which a Hetzner snapshot does not include: .* Fix: restore the newest backup into staging/));
      const onRootDisk = build(DatabaseStorage.rootDisk());
      Testing.synth(onRootDisk);
      expect(warningsOf(onRootDisk).join('\n')).not.toMatch(/StagingWithoutData/);
    });

    test('fails when staging has no expiry', () => {
      expect(() => synth(stagingStack())).toThrow(/acme-staging\.expiresAt: missing: staging exists on demand and must say when it may be torn down\. Fix: pass expiresAt/);
    });

    // Audit (mutation): the reason was not asserted, so dropping the format check (a text then said only
    // 'next week is not a calendar date') passed.
    test.each([
      ['next week', 'an expiry is a UTC date written YYYY-MM-DD'],
      ['2026-02-30', '2026-02-30 is not a calendar date'],
      ['2026-12-31T10:00:00Z', 'an expiry is a UTC date written YYYY-MM-DD'],
    ])('fails when the expiry is %p: %s', (expiresAt, reason) => {
      const quote = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      expect(() => synth(stagingStack(expiresAt))).toThrow(new RegExp(`acme-staging\\.expiresAt: '${quote(expiresAt)}' is not allowed: ${quote(reason)}\\. Fix: write the date as YYYY-MM-DD`));
    });

    test('warns when the expiry is further off than a rehearsal lasts: that is permanent staging, which the phase postpones', () => {
      // An expiry years ahead kept staging up for good, billed as 4 rehearsals a month, and nothing said so.
      const warningsFor = (expiresAt: string, overrides: Partial<ProductProps> = {}) => {
        const stack = new EnvironmentStack(Testing.app(), 'acme-staging', { product: product(overrides), environment: Environment.STAGING, expiresAt });
        return stack.node.metadata.filter((m) => m.type === '@cdktf/warn').map((m) => String(m.data)).filter((w) => w.startsWith('Environment-StagingLongLived'));
      };
      const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
      expect(warningsFor('2030-01-01')).toEqual([expect.stringMatching(new RegExp("^Environment-StagingLongLived: acme-staging\\.expiresAt '2030-01-01' is \\d+ days away: "
        + 'staging kept up that long is the permanent staging Phase 1 postpones \\(it comes in when more than 20 releases a month.*\\)\\. '
        + 'Fix: give the rehearsal its own expiry, at most 15 days ahead \\(the release path sets it\\), or adopt it early with a reason: '
        + "earlyAdoptions: \\[\\{ component: Component\\.PERMANENT_STAGING, reason: '…' \\}\\]$"))]);
      expect(warningsFor(inDays(15))).toEqual([]);
      // The first day too many (audit, mutation: a limit of 16 days passed).
      expect(warningsFor(inDays(16))).toEqual([expect.stringMatching(/^Environment-StagingLongLived: acme-staging\.expiresAt '\d{4}-\d{2}-\d{2}' is 16 days away: /)]);
      expect(warningsFor('2030-01-01', { earlyAdoptions: [{ component: Component.PERMANENT_STAGING, reason: 'regulated customers audit every release candidate for weeks' }] })).toEqual([]);
    });

    test('warns when the expiry has passed', () => {
      const stack = stagingStack('2020-01-01');
      const warnings = stack.node.metadata.filter((m) => m.type === '@cdktf/warn').map((m) => String(m.data));
      expect(warnings).toContainEqual(expect.stringMatching(/Environment-StagingExpired: acme-staging\.expiresAt '2020-01-01' has passed/));
    });

    // The stack's warnings read the expiry OnDemandLabels found valid (review: they judged it again beside it): a date
    // past or years away that is no calendar date is the refusal alone, not also a warning about the date.
    test.each(['2020-02-30', '2030-02-30'])('an expiry %p that is no calendar date warns neither expired nor long-lived: it is refused', (expiresAt) => {
      const stack = stagingStack(expiresAt);
      const warnings = stack.node.metadata.filter((m) => m.type === '@cdktf/warn').map((m) => String(m.data));
      expect(warnings.filter((w) => /^Environment-Staging(Expired|LongLived)/.test(w))).toEqual([]);
      expect(() => synth(stack)).toThrow(`acme-staging.expiresAt: '${expiresAt}' is not allowed: ${expiresAt} is not a calendar date.`);
    });
  });

  describe('postponed components', () => {
    test('fails when a stack builds a component its phase postpones, naming the threshold', () => {
      const stacks = new ProductStacks(Testing.app(), product());
      Component.declare(stacks.production.app, Component.REDIS);
      expect(() => synth(stacks.production)).toThrow(
        /acme-production\/App: component 'redis' is not allowed: Phase 1 postpones Redis; it comes in when p95 latency over the SLA .* Fix: remove it, or adopt it early with a reason: earlyAdoptions: \[\{ component: Component\.REDIS/);
    });

    test('an early adoption with a reason is allowed and recorded in the postponed list', () => {
      const reason = 'Session store for the EU SSO gateway must survive app restarts.';
      const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'adopt-')) });
      const stacks = new ProductStacks(app, product({ earlyAdoptions: [{ component: Component.REDIS, reason }] }));
      Component.declare(stacks.production.app, Component.REDIS);
      app.synth();
      const postponed = JSON.parse(fs.readFileSync(path.join(app.outdir, 'products', 'acme', 'postponed.json'), 'utf8'));
      expect(postponed.postponed.find((e: any) => e.component === 'redis')).toEqual(expect.objectContaining({ status: 'adopted early', reason }));
    });

    test('fails when an early adoption has no real reason', () => {
      expect(() => product({ earlyAdoptions: [{ component: Component.REDIS, reason: 'needed' }] }))
        .toThrow(/Product\(acme\)\.earlyAdoptions: "redis" is not allowed: an early adoption needs a specific reason of at least 20 characters \(at least 20 letters, 8 of them different[^)]*\)\. Fix: say why/);
    });

    test('a data volume is a component: postponed in Phase 1, allowed from Phase 2', () => {
      const volumeOn = (stacks: ProductStacks) => new DataVolume(stacks.production, 'Uploads', {
        machine: stacks.production.app, size: Size.gibibytes(50), mountPath: '/srv/uploads', withoutBackup: 'Uploads are re-fetched from the tenants\' own storage.',
      });
      const phase1 = new ProductStacks(Testing.app(), product());
      volumeOn(phase1);
      expect(() => synth(phase1.production)).toThrow(/acme-production\/Uploads: component 'data-volume' is not allowed: Phase 1 postpones Attached data volume; it comes in when database over 50% of the disk/);
      const phase2 = new ProductStacks(Testing.app(), product({ phase: Phase.TWO, backup: { ...backup, offsite: S3Provider.SCALEWAY } }));
      volumeOn(phase2);
      expect(() => synth(phase2.production)).not.toThrow(/data-volume/);
    });

    test('fails when adopting early what the phase already has', () => {
      expect(() => product({ phase: Phase.TWO, earlyAdoptions: [{ component: Component.DATA_VOLUME, reason: 'We need more disk for the uploads.' }] }))
        .toThrow(/"data-volume" is not allowed: Phase 2 already includes it\. Fix: remove the adoption/);
    });
  });

  test('fails when production has no monitoring plan', () => {
    const stacks = new ProductStacks(Testing.app(), product({ monitoring: undefined }));
    expect(() => synth(stacks.production)).toThrow(/acme-production\/Monitoring\.plan: missing/);
  });

  describe('backups', () => {
    test('fails when production has no backup plan', () => {
      const stacks = new ProductStacks(Testing.app(), product({ backup: undefined }));
      expect(() => synth(stacks.production)).toThrow(/acme-production\.backup: missing: production refuses to run without a backup plan.* Fix: declare the product's backups/);
      expect(() => synth(stacks.test)).not.toThrow();
    });

    test('Phase 2 requires the offsite copy, and wires it in when the provider is given', () => {
      const without = new ProductStacks(Testing.app(), product({ phase: Phase.TWO }));
      expect(() => synth(without.production)).toThrow(/offsite/i);
      const withOffsite = new ProductStacks(Testing.app(), product({ phase: Phase.TWO, backup: { ...backup, offsite: S3Provider.SCALEWAY } }));
      const json = synth(withOffsite.production);
      for (const name of ['offsite_s3_endpoint', 'offsite_s3_bucket', 'offsite_s3_access_key_id', 'offsite_s3_secret_access_key']) {
        expect(json.variable[name]).toMatchObject({ sensitive: true });
      }
    });

    test('an offsite copy declared in Phase 1 is built when adopted early, and fails synth as a postponed component otherwise', () => {
      // It used to be dropped without a word in Phase 1, while the postponed list said "adopted early".
      const offsite = { ...backup, offsite: S3Provider.SCALEWAY };
      const declared = new ProductStacks(Testing.app(), product({ backup: offsite }));
      expect(() => synth(declared.production)).toThrow(/acme-production\/Backups: component 'offsite-backup' is not allowed: Phase 1 .* Fix: remove it, or adopt it early with a reason: earlyAdoptions: \[\{ component: Component\.OFFSITE_BACKUP/);
      const adopted = new ProductStacks(Testing.app(), product({
        backup: offsite, earlyAdoptions: [{ component: Component.OFFSITE_BACKUP, reason: 'the pilot contract requires a copy outside Hetzner' }],
      }));
      const json = synth(adopted.production);
      expect(json.variable.offsite_s3_endpoint).toMatchObject({ sensitive: true });
    });

    test("an offsite endpoint on another port than 443 is declared on the product, and production's egress opens it", () => {
      const stacks = new ProductStacks(Testing.app(), product({ phase: Phase.TWO, backup: { ...backup, offsite: S3Provider.of('UpCloud', 'FI'), offsitePort: Port.of(8443) } }));
      const json = synth(stacks.production);
      const rules = resources(json, 'hcloud_firewall').flatMap((f) => f.rule);
      expect(rules).toContainEqual(expect.objectContaining({ direction: 'out', protocol: 'tcp', port: '8443' }));
      const precondition = Object.values<any>(json.resource.terraform_data).flatMap((r) => r.lifecycle?.precondition ?? []);
      expect(precondition).toContainEqual(expect.objectContaining({ error_message: expect.stringMatching(/must use port 8443/) }));
      // 8443 is the endpoint's alone: opened for every allowlisted host, it let the model providers' APIs be reached on it too.
      const files = synthesizedBundle(json, 'acme-production-app').files;
      const groups = (files.get('/etc/sovereign/egress-hostnames')!.template!).split(/^ports /m).slice(1).map((g) => g.split('\n'));
      const portsOf = (host: string) => groups.filter((g) => g.slice(1).includes(host)).map((g) => g[0]);
      expect(portsOf('api.mistral.ai')).toEqual(['80 443']);
      expect(groups.filter((g) => g[0].split(' ').includes('8443')).map((g) => g.slice(1).filter(Boolean))).toEqual([[expect.stringContaining('var.offsite_s3_endpoint')]]);
    });

    test("the test stack's drill restores the offsite bucket too, from Phase 2, on the endpoint's port; Phase 1's only the Storage Box", () => {
      const drillOf = (stack: EnvironmentStack) => {
        const json = synth(stack);
        const files = synthesizedBundle(json, 'acme-test-app').files;
        const text = (file: string) => { const f = files.get(file)!; return f.content ?? f.template!; };
        return { json, conf: text('/etc/sovereign-backup/drill.conf'), hosts: text('/etc/sovereign/egress-hostnames') };
      };
      const phase2 = new ProductStacks(Testing.app(), product({ phase: Phase.TWO, backup: { ...backup, offsite: S3Provider.of('UpCloud', 'FI'), offsitePort: Port.of(8443) } }));
      const { json, conf, hosts } = drillOf(phase2.test);
      expect(conf).toMatch(/^DRILL_SOURCES='source source2'$/m);
      expect(conf).toMatch(/^source2_KIND='s3'$/m);
      expect(conf).toMatch(/^source2_REPO_PATH='acme-production-app'$/m);
      expect(hosts).toContain('var.production_offsite_s3_endpoint');
      expect(resources(json, 'hcloud_firewall').flatMap((f) => f.rule)).toContainEqual(expect.objectContaining({ direction: 'out', protocol: 'tcp', port: '8443' }));
      expect(json.variable.production_offsite_s3_secret_access_key).toMatchObject({ sensitive: true });
      const phase1 = drillOf(new ProductStacks(Testing.app(), product()).test);
      expect(phase1.conf).toMatch(/^DRILL_SOURCES='source'$/m);
      expect(phase1.json.variable.production_offsite_s3_endpoint).toBeUndefined();
    });

    test("the Storage Box host-key warning names the product's prop, which pins backups and drill together", () => {
      // It said "pass hostKeys", a prop of BackupTarget.storageBox that a ProductStacks user never calls.
      const unpinned = new ProductStacks(Testing.app(), product());
      synth(unpinned.production);
      synth(unpinned.test);
      for (const stack of [unpinned.production, unpinned.test]) {
        expect(warningsOf(stack)).toContainEqual(expect.stringMatching(/^Backup-UnpinnedHostKey: .* Fix: pass hostKeys from `ssh-keyscan -p 23 <host>` \(on a Product: backup: \{ storageBoxHostKeys \}/));
      }
      const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr';
      const pinned = new ProductStacks(Testing.app(), product({ backup: { ...backup, storageBoxHostKeys: [key] } }));
      synth(pinned.production);
      synth(pinned.test);
      expect([...warningsOf(pinned.production), ...warningsOf(pinned.test)].filter((w) => w.startsWith('Backup-UnpinnedHostKey'))).toEqual([]);
    });

    test("warns about a restore check on a database the product does not have: the weekly drill would fail on it", () => {
      const checks = [...backup.restoreChecks, RestoreCheck.sql('events', { database: 'analytics', query: 'SELECT count(*) > 0 FROM events' })];
      const stacks = new ProductStacks(Testing.app(), product({ backup: { restoreChecks: checks } }));
      synth(stacks.test);
      expect(warningsOf(stacks.test)).toContainEqual(expect.stringMatching(new RegExp("^Backup-UnknownDrillDatabase: acme-test/RestoreDrill\\.checks \\(events\\) queries database 'analytics', "
        + "but the product's PostgreSQL has one database, 'app' .* Fix: .*database: 'app'.*analytics\\.events")));
      const fine = new ProductStacks(Testing.app(), product());
      synth(fine.test);
      expect(warningsOf(fine.test).filter((w) => w.startsWith('Backup-UnknownDrillDatabase'))).toEqual([]);
    });

    test('the Storage Box goes to the location the machines are not in', () => {
      const inHelsinki = new ProductStacks(Testing.app(), product({ location: Location.HEL1 }));
      expect(resources(synth(inHelsinki.production), 'hcloud_storage_box')[0].location).toBe('fsn1');
    });

    test('the test stack deploys alone: production\'s read-only account comes in as variables', () => {
      const json = synth(new ProductStacks(Testing.app(), product()).test);
      expect(Object.keys(json.variable).sort()).toEqual(['database_app_password_test', 'monitoring_deadman_ping_url_test', 'monitoring_webhook_ops',
        'production_backup_drill_password', 'production_backup_host', 'production_backup_username', 'restic_password', 'restore_drill_heartbeat_url']);
      expect(json.resource.hcloud_storage_box).toBeUndefined();
    });
  });

  test("production's state can live in a bucket of its own (and staging's with it): test's key never reads it", () => {
    const bucketOf = (stack: EnvironmentStack) => synth(stack).terraform.backend.s3.bucket;
    const shared = new ProductStacks(Testing.app(), product({ staging: StagingMode.fromProductionSnapshot() }), { stagingExpiresAt: '2099-12-31' });
    expect(shared.all.map(bucketOf)).toEqual(['acme-state', 'acme-state', 'acme-state']);
    const apart = new ProductStacks(Testing.app(), product({ staging: StagingMode.fromProductionSnapshot(), stateBuckets: { production: 'acme-production-state' } }), { stagingExpiresAt: '2099-12-31' });
    expect(Object.fromEntries(apart.all.map((s) => [s.environment.name, bucketOf(s)])))
      .toEqual({ test: 'acme-state', staging: 'acme-production-state', production: 'acme-production-state' });
    expect(() => product({ stateBuckets: { prod: 'acme-production-state' } as any })).toThrow(/Product\(acme\)\.stateBuckets\.prod: .* there is no property of this name.* Fix: did you mean 'production'\? Rename it/);
    expect(() => product({ stateBuckets: { production: 'Acme_State' } })).toThrow(/Product\(acme\)\.stateBuckets\.production: .*Acme_State.* Fix: use a name such as 'acme-production-tfstate'/);
  });

  // Product handed out the caller's admin object and its own unfrozen locations and stateBuckets: from JavaScript, an
  // edit after the product was checked (a CI script adding its runner's block to the props it passed, or to
  // product.admin) reached the stacks unchecked, such as SSH opened to the whole internet, which the product refuses.
  describe('what the product checked cannot be changed afterwards', () => {
    const build = () => {
      const props = {
        admin: { ...admin, cidrs: [...admin.cidrs], hostKeys: { 'acme-production-app': admin.sshPublicKeys.ops.split(' ').slice(0, 2).join(' ') } },
        locations: { test: Location.NBG1 }, stateBuckets: { production: 'acme-production-state' },
      };
      return { props, built: product(props) };
    };
    const sshSources = (stack: EnvironmentStack) => resources(synth(stack), 'hcloud_firewall')
      .flatMap((f) => f.rule ?? []).filter((r: any) => r.direction === 'in' && r.port === '22').flatMap((r: any) => r.source_ips);

    test("an edit of the caller's props after the build changes nothing", () => {
      const { props, built } = build();
      props.admin.cidrs.push('0.0.0.0/0', '::/0');
      (props.admin.sshPublicKeys as Record<string, string>).intruder = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yx';
      props.admin.hostKeys['acme-production-app'] = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yx';
      props.locations.test = Location.HEL1;
      expect(built.admin.cidrs).toEqual(['198.51.100.0/24']);
      expect(Object.keys(built.admin.sshPublicKeys)).toEqual(['ops']);
      expect(built.admin.hostKeys!['acme-production-app']).toMatch(/Yr$/);
      expect(built.locationFor(Environment.TEST)).toBe(Location.NBG1);
      const stacks = new ProductStacks(Testing.app(), built);
      expect(sshSources(stacks.production)).not.toContain('0.0.0.0/0');
      expect(sshSources(stacks.production)).toContain('198.51.100.0/24');
    });

    test("the product's own admin, locations and stateBuckets are frozen: an edit throws (strict mode) or has no effect", () => {
      const { built } = build();
      const p = built as any;
      expect(() => p.admin.cidrs.push('0.0.0.0/0')).toThrow(TypeError);
      expect(() => { p.admin.cidrs = ['0.0.0.0/0']; }).toThrow(TypeError);
      expect(() => { p.admin.sshPublicKeys.intruder = 'ssh-ed25519 AAAA'; }).toThrow(TypeError);
      expect(() => { p.admin.hostKeys['acme-production-app'] = 'ssh-ed25519 AAAA'; }).toThrow(TypeError);
      expect(() => { p.locations.production = Location.HEL1; }).toThrow(TypeError);
      expect(() => { p.stateBuckets.production = 'someone-elses-bucket'; }).toThrow(TypeError);
      // A plain script outside strict mode: the same edits are ignored without a word, and change nothing.
      // eslint-disable-next-line @typescript-eslint/no-implied-eval
      new Function('p', "p.admin.cidrs[1] = '0.0.0.0/0'; p.locations.production = arguments[1]; p.stateBuckets.test = 'x-state'; delete p.stateBuckets.production;")(p, Location.HEL1);
      expect(built.admin.cidrs).toEqual(['198.51.100.0/24']);
      expect(built.locationFor(Environment.PRODUCTION)).toBe(Location.FSN1);
      expect(built.stateBucketFor(Environment.TEST)).toBe('acme-state');
      expect(built.stateBucketFor(Environment.PRODUCTION)).toBe('acme-production-state');
    });

    // The product checked the props, then copied them: a plain-JavaScript getter read twice could answer the check
    // with the office's block and the copy with the whole internet, which the product refuses.
    test('a getter that answers differently on its second read builds from what was checked', () => {
      let reads = 0;
      const shifting = { sshPublicKeys: admin.sshPublicKeys, get cidrs() { reads += 1; return reads === 1 ? ['198.51.100.0/24'] : ['0.0.0.0/0', '::/0']; } };
      const built = product({ admin: shifting as any });
      expect(reads).toBe(1);
      expect(built.admin.cidrs).toEqual(['198.51.100.0/24']);
      const stacks = new ProductStacks(Testing.app(), built);
      expect(sshSources(stacks.production)).toEqual(expect.arrayContaining(['198.51.100.0/24']));
      expect(sshSources(stacks.production)).not.toContain('0.0.0.0/0');
    });

    // Product kept the caller's backup object: its lists and offsite could be edited after the product checked them.
    test("an edit of the caller's backup after the build changes nothing, and the product's backup is frozen", () => {
      const given = { ...backup, restoreChecks: [...backup.restoreChecks], storageBoxHostKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yx'], offsite: S3Provider.SCALEWAY };
      const built = product({ phase: Phase.TWO, backup: given });
      given.storageBoxHostKeys.push('ssh-ed25519 AAAA-attacker');
      given.restoreChecks.length = 0;
      (given as any).offsite = S3Provider.IONOS;
      expect(built.backup!.storageBoxHostKeys).toHaveLength(1);
      expect(built.backup!.restoreChecks).toHaveLength(1);
      expect(built.backup!.offsite).toBe(S3Provider.SCALEWAY);
      const p = built as any;
      expect(() => p.backup.storageBoxHostKeys.push('ssh-ed25519 AAAA')).toThrow(TypeError);
      expect(() => { p.backup.offsite = S3Provider.IONOS; }).toThrow(TypeError);
    });
  });

  test('fails when the product name cannot name resources', () => {
    expect(() => product({ name: 'Acme Corp' })).toThrow(/Product\(Acme Corp\)\.name: "Acme Corp" is not allowed/);
  });

  test('writes the postponed list and the environments next to the stacks', () => {
    const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'docs-')) });
    new ProductStacks(app, product({ staging: StagingMode.fromProductionSnapshot() }), { stagingExpiresAt: '2026-12-31' });
    app.synth();
    const dir = path.join(app.outdir, 'products', 'acme');
    expect(fs.readdirSync(dir).sort()).toEqual(['boundary.md', 'environments.json', 'postponed.json', 'postponed.md']);
    const environments = JSON.parse(fs.readFileSync(path.join(dir, 'environments.json'), 'utf8'));
    expect(environments.environments.map((e: any) => [e.stack, e.environment, e.serverType, e.onDemand])).toEqual([
      ['acme-test', 'test', 'cx23', false], ['acme-staging', 'staging', 'cx33', true], ['acme-production', 'production', 'cx33', false],
    ]);
    expect(fs.readFileSync(path.join(dir, 'postponed.md'), 'utf8')).toMatch(/\| Basic error monitoring \| \*\*not yet provided\*\* \|/);
    expect(fs.readFileSync(path.join(dir, 'postponed.md'), 'utf8')).toMatch(/\| External uptime checks \| provided \| acme-test\/Monitoring, acme-production\/Monitoring \|/);
  });
});
