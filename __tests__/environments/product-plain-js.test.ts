import { TerraformStack, Testing } from 'cdktf';
import {
  BoundaryChecks, BoundaryPolicy, Budget, DataClass, DatabaseStorage, EgressForm, Environment, EnvironmentMonitoring, FirewallRule, Location, Machine, MachineRollout, Money,
  Phase, PostgresDatabase, PostgresDump, PrivateNetwork, Port, Processor, Product, ProductProps, Retirement, S3Provider, Schedule, SecretVariable, ServerType, Size, SshKey,
  writeOperatorReport,
} from '../../lib';
import { EnvironmentStack, ProductStacks } from '../../stacks';
import { checkedStack, policy } from '../boundary/fixtures';
import { expectRefused, refusal } from '../boundary/refusal';
import { admin, backup, monitoring } from '../setup/product-basics';

// What a plain JavaScript caller can pass that TypeScript would have stopped: a misspelt option, a
// value of another type, or a plain object shaped like a value. Each must be refused with the path,
// the value and the fix: never ignored for its default, never a TypeError from deep inside the stacks.

const props = (overrides: Record<string, unknown> = {}): ProductProps => ({ name: 'acme', phase: Phase.ONE, admin, stateBucket: 'acme-state', boundary: policy, backup, monitoring, ...overrides } as any);


describe('Product, from plain JavaScript', () => {
  test.each([
    // Each would have been ignored: production in the default location, no budget, no pinned host keys, the phase's database storage.
    ['locaton', { locaton: Location.HEL1 }, /Product\(acme\)\.locaton: 'locaton' is not allowed: there is no property of this name.*Fix: did you mean 'location'\?/],
    ['budjet', { budjet: Budget.monthly(Money.euros(30)) }, /Product\(acme\)\.budjet: .*did you mean 'budget'\?/],
    ['admin.hostKey', { admin: { ...admin, hostKey: { 'acme-production-app': 'ssh-ed25519 AAAA' } } }, /Product\(acme\)\.admin\.hostKey: .*did you mean 'hostKeys'\?/],
    ['database.storgae', { database: { storgae: DatabaseStorage.volume() } }, /Product\(acme\)\.database\.storgae: .*did you mean 'storage'\?/],
    ['backup.offsit', { phase: Phase.TWO, backup: { ...backup, offsit: S3Provider.SCALEWAY } }, /Product\(acme\)\.backup\.offsit: .*did you mean 'offsite'\?/],
    ['backup.storageBoxHostKey', { backup: { ...backup, storageBoxHostKey: ['ssh-ed25519 AAAA'] } }, /Product\(acme\)\.backup\.storageBoxHostKey: .*did you mean 'storageBoxHostKeys'\?/],
  ])('a misspelt %s is refused by name', (_name, overrides, message) => {
    expect(refusal(() => new Product(props(overrides)))).toMatch(message);
  });

  test('a misspelt secret-looking property is named, its value never printed', () => {
    const message = refusal(() => new Product(props({ stateBuckt: 'hunter2-correct-horse-battery' })));
    expect(message).toMatch(/stateBuckt: 'stateBuckt' is not allowed/);
    expect(message).not.toContain('hunter2');
  });

  test.each([
    // Each crashed later with "budget.judge is not a function" or "volumeSizeFor is not a function", naming no construct.
    ['budget as a number', { budget: 30 }, /Product\(acme\)\.budget: 30 is not allowed: it is not a Budget\. Fix: use Budget\.monthly\(Money\.euros\(30\)\)/],
    ['budget as a plain object', { budget: { amount: 30, warnAt: 0.8 } }, /Product\(acme\)\.budget: .* is not allowed: it is not a Budget/],
    ['database storage as its name', { database: { storage: 'volume' } }, /Product\(acme\)\.database\.storage: 'volume' is not allowed: it is not a DatabaseStorage/],
    ['monitoring as a plain object', { monitoring: { uptimeChecks: [], receivers: [] } }, /Product\(acme\)\.monitoring: .* is not allowed: it is not a MonitoringPlan/],
    // Each was refused only when the stacks were built, under a construct the user never named.
    ['offsite provider as its name', { phase: Phase.TWO, backup: { ...backup, offsite: 'scaleway' } }, /Product\(acme\)\.backup\.offsite: 'scaleway' is not allowed: it is not an S3Provider/],
    // An offsite port as a number reached the stacks unchecked; a range is no endpoint.
    ['offsite port as a number', { phase: Phase.TWO, backup: { ...backup, offsite: S3Provider.SCALEWAY, offsitePort: 8443 } },
      /Product\(acme\)\.backup\.offsitePort: 8443 is not allowed: it is not a Port\. Fix: use Port\.of\(8443\)/],
    ['offsite port as a range', { phase: Phase.TWO, backup: { ...backup, offsite: S3Provider.SCALEWAY, offsitePort: Port.range(8443, 8444) } },
      /Product\(acme\)\.backup\.offsitePort: '8443-8444' is not allowed: an S3 endpoint listens on one port\. Fix: use Port\.of\(8443\)/],
    // The nested object is named as itself (`admin: missing`), never as a `props` of it the caller wrote nowhere.
    ['backup as text', { backup: 'daily' }, /^Product\(acme\)\.backup: 'daily' is not allowed: it is a string, not an object of named values\. Fix: pass backup: \{ restoreChecks/],
    // The map `locations` takes, given to `location`: named as the missing s, not only as a map that is no Location.
    ['locations written location', { location: { test: Location.NBG1 } },
      /^Product\(acme\)\.location: '\{ test: … \}' is not allowed: location is one Location for every environment, and this is one per environment\. Fix: rename it locations \(locations: \{ test: Location\.NBG1 \}\)/],
    ['admin left out', { admin: undefined }, /^Product\(acme\)\.admin: missing: an object of named values is required\. Fix: pass admin: \{ sshPublicKeys: /],
    ['admin as a list', { admin: ['198.51.100.0/24'] }, /^Product\(acme\)\.admin: \["198\.51\.100\.0\/24"\] is not allowed: it is a list, not an object of named values/],
    ['a single restore check', { backup: { restoreChecks: backup.restoreChecks[0] } }, /Product\(acme\)\.backup\.restoreChecks: .* is not allowed: it is a RestoreCheck, not a list/],
    ['a restore check as text', { backup: { restoreChecks: ['SELECT 1'] } }, /Product\(acme\)\.backup\.restoreChecks\[0\]: 'SELECT 1' is not allowed: it is not a RestoreCheck/],
  ])('%s is refused at the product', (_name, overrides, message) => {
    expect(refusal(() => new Product(props(overrides)))).toMatch(message);
  });

  test.each(['locationFor', 'sshPublicKeysFor', 'stateBucketFor', 'serverTypesFor', 'serverTypeFor'] as const)(
    "%s('test') is refused: the name fell through to production's answer", (method) => {
      const product = new Product(props({ locations: { test: Location.FSN1, production: Location.NBG1 }, stateBuckets: { production: 'acme-production-state' } }));
      expect(refusal(() => (product as any)[method]('test'))).toMatch(new RegExp(`^Product\\(acme\\)\\.${method === 'serverTypeFor' ? 'serverTypesFor' : method}\\.environment: 'test' is not allowed: it is not an Environment.*Fix: use Environment\\.TEST`));
      expect(product.locationFor(Environment.TEST)).toBe(Location.FSN1);
    });

  test("Phase.machineFor('test') is refused: it gave production's server types", () => {
    expect(refusal(() => Phase.ONE.machineFor('test' as any))).toMatch(/^Phase\.of\(1\)\.machineFor\.environment: 'test' is not allowed: it is not an Environment/);
    expect(Phase.ONE.machineFor(Environment.TEST)).not.toBe(Phase.ONE.machineFor(Environment.PRODUCTION));
  });

  test('a database volume size that is not a Size, or one Hetzner cannot make, is refused where it is written', () => {
    // Each was refused only in production's stack, at acme-production/DatabaseVolume, from Phase 3 on.
    expect(refusal(() => DatabaseStorage.volume(50 as any))).toMatch(/^DatabaseStorage\.volume\.size: 50 is not allowed: it is not a Size\. Fix: pass a Size, such as Size\.gibibytes\(50\)/);
    expect(refusal(() => DatabaseStorage.volume(Size.gibibytes(5)))).toMatch(/^DatabaseStorage\.volume\.size: '5 GiB' is not allowed: Hetzner volumes are 10 GiB to 10 TiB, in whole GiB/);
    expect(DatabaseStorage.volume(Size.gibibytes(100)).volumeSizeFor(Phase.ONE)?.toGibibytes()).toBe(100);
  });

  test('the valid declaration still builds its stacks', () => {
    const stacks = new ProductStacks(Testing.app(), new Product(props({ budget: Budget.monthly(Money.euros(200)), database: { storage: DatabaseStorage.rootDisk() } })));
    expect(() => Testing.synth(stacks.production, true)).not.toThrow();
  });
});

describe('ProductStacks and EnvironmentStack, from plain JavaScript', () => {
  const product = new Product(props());

  test.each([
    ['a product that is not a Product', () => new ProductStacks(Testing.app(), props() as any), /^ProductStacks\.product: .* is not allowed: it is not a Product/],
    ['no product', () => new ProductStacks(Testing.app(), undefined as any), /^ProductStacks\.product: missing: a Product is required/],
    ['a misspelt option', () => new ProductStacks(Testing.app(), product, { stagingExpiresAT: '2026-12-31' } as any), /props\.stagingExpiresAT: .*did you mean 'stagingExpiresAt'\?/],
    ['an expiry as a number', () => new ProductStacks(Testing.app(), product, { stagingExpiresAt: 20261231 } as any), /props\.stagingExpiresAt: 20261231 is not allowed: it is a number, not a text value/],
    // A retirement naming its environment by name, leaving it out or misspelling it retired nothing, without a word.
    ['a retirement of "production"', () => new ProductStacks(Testing.app(), product, { retire: { environment: 'production', reason: 'the pilot customer left; production is retired' } } as any),
      /props\.retire\.environment: 'production' is not allowed: it is not an Environment \(a string is not one, even with the same name\)/],
    ['a retirement without its environment', () => new ProductStacks(Testing.app(), product, { retire: { reason: 'the pilot customer left; production is retired' } } as any),
      /props\.retire\.environment: missing: an Environment is required/],
    ['EnvironmentStack without props', () => new EnvironmentStack(Testing.app(), 'acme-test', undefined as any), /^acme-test\.props: missing:/],
    ['EnvironmentStack without an environment', () => new EnvironmentStack(Testing.app(), 'acme-test', { product } as any), /^acme-test\.environment: missing: an Environment is required/],
    ['EnvironmentStack with a budget as a number', () => new EnvironmentStack(Testing.app(), 'acme-test', { product, environment: Environment.TEST, budget: 20 } as any),
      /^acme-test\.budget: 20 is not allowed: it is not a Budget/],
    ['EnvironmentStack with a misspelt retirement', () => new EnvironmentStack(Testing.app(), 'acme-test', { product, environment: Environment.TEST, retire: { reason: 'the pilot customer left; test is retired', includeBackup: true } } as any),
      /^acme-test\.retire\.includeBackup: .*did you mean 'includeBackups'\?/],
    // Audit (plain JavaScript): null was taken for "left out", and [] for "nothing declared", which the app machine read as
    // DataClass.SENSITIVE alone: the machine holding the database's credentials lost the SECRET of the stacks' default.
    // (null app data classes and ingress: under 'null for an optional property' below, with their whole messages.)
    ['no app data classes', () => new ProductStacks(Testing.app(), product, { dataClasses: [] }),
      /^acme-test\.dataClasses: \[\] is not allowed: an empty list declares nothing, and the machine would be judged by a default class\. Fix: list what the app machine holds/],
    ['one ingress rule, not a list', () => new EnvironmentStack(Testing.app(), 'acme-test', { product, environment: Environment.TEST, ingress: FirewallRule.httpsFromAnywhere() } as any),
      /^acme-test\.ingress: .* is not allowed: it is a FirewallRule, not a list/],
  ])('%s is refused with path, value and fix', (_name, build, message) => {
    expect(refusal(build)).toMatch(message);
  });

  test('no public entry point ([]) and the default data classes still build', () => {
    const stacks = new ProductStacks(Testing.app(), product, { ingress: [] });
    expect(stacks.production.app.ingressRules.every((r) => !r.isOpenToInternet)).toBe(true);
    expect(stacks.production.app.dataClasses).toEqual([DataClass.SENSITIVE, DataClass.SECRET]);
  });

  test('a retirement still retires only the environment it names', () => {
    const stacks = new ProductStacks(Testing.app(), product, { retire: { environment: Environment.TEST, reason: 'the test machine moves to another product' } });
    expect(Retirement.of(stacks.test)).toEqual({ reason: 'the test machine moves to another product', includeBackups: false });
    expect(Retirement.of(stacks.production)).toBeUndefined();
  });
});

describe('nested options, from plain JavaScript', () => {
  const mistral = Processor.mistralAi();

  test.each([
    // A misspelt allowance field would be read as "no data class" or "no form" by the rules.
    ['an egress allowance', () => new BoundaryPolicy({ aiActRoles: [], egress: [{ dataClass: DataClass.PUBLIC, to: [mistral], form: EgressForm.RAW, fromm: 'x' }] } as any),
      /^BoundaryPolicy\.egress\[0\]\.fromm: .*did you mean 'form'\?/],
    ['a legal seat', () => new Processor({ name: 'Acme AI', legalSeat: { city: 'Paris', country: 'FR', contry: 'US' }, hostnames: ['api.acme-ai.eu'] } as any),
      /^Processor\(Acme AI\)\.legalSeat\.contry: .*did you mean 'country'\?/],
    ['budget options', () => Budget.monthly(Money.euros(30), { warnat: 0.5 } as any), /^Budget\.monthly\.options\.warnat: .*did you mean 'warnAt'\?/],
    ['null budget options', () => Budget.monthly(Money.euros(30), null as any), /^Budget\.monthly\.options: null is not allowed/],
    ['a firewall rule option', () => FirewallRule.tcpIn(443, ['203.0.113.0/24'], { descripton: 'HTTPS' } as any), /^FirewallRule\.tcpIn\.options\.descripton: .*did you mean 'description'\?/],
  ])('%s: a misspelt field is refused by name', (_name, build, message) => {
    expect(refusal(build)).toMatch(message);
  });

  test('options given as a list of one object are refused, not ignored for the defaults', () => {
    // Audit: [{ hostKey }] left the host key unpinned, [{ name: 'crm' }] kept the database 'app'.
    expect(refusal(() => new Product(props({ database: [{ name: 'crm' }] })))).toMatch(/^Product\(acme\)\.database: \[\{"name":"crm"\}\] is not allowed: database options are an object/);
    expectRefused(() => {
      const stack = checkedStack();
      new Machine(stack, 'App', appProps(stack, { rollout: [{ hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr' }] }));
      return stack;
    }, /App\.rollout: .* is not allowed: rollout options are an object\. Fix: pass \{ hostKey, sshPrivateKey \} or nothing/);
  });

  test("a machine's misspelt rollout option is refused by name", () => {
    expectRefused(() => {
      const stack = checkedStack();
      new Machine(stack, 'App', appProps(stack, { rollout: { hostKye: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr' } }));
      return stack;
    }, /App\.rollout\.hostKye: 'hostKye' is not allowed: .*did you mean 'hostKey'\?/);
  });
});

describe('null for an optional property, from plain JavaScript', () => {
  // Audit: null for an optional list was refused as "missing: a list is required", untrue of an optional property, and
  // silent on leaving it out. null is still refused (it may mean "none" where leaving the property out means the
  // default), but as null, with leaving it out in the fix, the same for lists, text and instances, in every constructor.
  // Review: the fix must read right as a whole (a fix that already says to leave the property out is not told twice,
  // a property without a default is not sent "for its default"), so whole messages are asserted.
  const NULL_REFUSED = (path: string, fix: string) =>
    `${path}: null is not allowed: the property is optional, and null does not leave it out (null may mean "none", where leaving it out means the default). Fix: ${fix}`;

  test.each([
    ['Machine sshKeys', () => { const s = checkedStack(); new Machine(s, 'App', appProps(s, { sshKeys: null })); }, 'production/App.sshKeys',
      'leave sshKeys out (or undefined), or pass [new SshKey(...)] or [SshKey.fromName("admin")]'],
    ['Machine adminCidrs', () => { const s = checkedStack(); new Machine(s, 'App', appProps(s, { adminCidrs: null })); }, 'production/App.adminCidrs',
      "leave adminCidrs out (or undefined), or pass a list of CIDR blocks, such as ['203.0.113.0/24']"],
    ['Machine egress rules', () => { const s = checkedStack(); new Machine(s, 'App', appProps(s, { egress: null })); }, 'production/App.egress',
      "leave egress out (or undefined), or pass FirewallRule values, such as [FirewallRule.tcpOut(443, ['198.51.100.0/24'])]"],
    ['Product dataFlows', () => new Product(props({ dataFlows: null })), 'Product(acme).dataFlows', 'leave dataFlows out (or undefined), or list flows such as [{ processor, dataClass, form }]'],
    ['Product backup.storageBoxHostKeys', () => new Product(props({ backup: { ...backup, storageBoxHostKeys: null } })), 'Product(acme).backup.storageBoxHostKeys',
      "leave storageBoxHostKeys out (or undefined), or list the keys such as ['ssh-ed25519 AAAA…']"],
    // Review: the expected fix was '', so nothing after "or " was checked.
    ['BoundaryPolicy extraEgressHostnames', () => new BoundaryPolicy({ aiActRoles: [], egress: [], extraEgressHostnames: null } as unknown as ConstructorParameters<typeof BoundaryPolicy>[0]),
      'BoundaryPolicy.extraEgressHostnames', "leave extraEgressHostnames out (or undefined), or list hosts such as [EgressHost.publicOnly('registry.acme.eu', { reason: '…' })]"],
    // Not a list: the optional text and instances of a schema say the same.
    ['ProductStacks stagingExpiresAt', () => new ProductStacks(Testing.app(), new Product(props()), { stagingExpiresAt: null } as any), 'ProductStacks(acme).props.stagingExpiresAt',
      "leave stagingExpiresAt out (or undefined), or write the UTC date as YYYY-MM-DD, such as '2026-12-31'"],
    ['Product budget', () => new Product(props({ budget: null })), 'Product(acme).budget', 'leave budget out (or undefined), or use Budget.monthly(Money.euros(30))'],
    ['Machine hetznerBackups', () => { const s = checkedStack(); new Machine(s, 'App', appProps(s, { hetznerBackups: null })); }, 'production/App.hetznerBackups',
      'leave hetznerBackups out (or undefined), or write true or false (without quotes)'],
    ['Machine labels', () => { const s = checkedStack(); new Machine(s, 'App', appProps(s, { labels: null })); }, 'production/App.labels', "leave labels out (or undefined), or pass labels as { key: 'value' }"],
    // Review: these fixes already say to leave the property out; "leave X out (or undefined) for its default, or leave it out" said it twice.
    ['BoundaryChecks rules', () => new BoundaryChecks({ policy, rules: null } as any), 'BoundaryChecks.rules', 'pass rules from BOUNDARY_RULES, or leave it out'],
    ['MachineRollout image', () => { const s = checkedStack(); const m = new Machine(s, 'App', appProps(s, {})); new MachineRollout(s, 'Rollout', { bundle: m.bundle, host: '203.0.113.1', dependsOn: [], image: null } as any); },
      'production/Rollout.image', "pass the server's image attribute (server.image), or leave it out"],
    // Review: a rollout's null key was refused as a key that is not a sensitive variable, its port and host key as of the wrong kind.
    ['Machine rollout.sshPrivateKey', () => { const s = checkedStack(); new Machine(s, 'App', appProps(s, { rollout: { sshPrivateKey: null } })); }, 'production/App.rollout.sshPrivateKey',
      "pass a sensitive variable: new SecretVariable(stack, 'deploy_ssh_key', { description }), or leave it out for the SSH agent"],
    ['Machine rollout.port', () => { const s = checkedStack(); new Machine(s, 'App', appProps(s, { rollout: { port: null } })); }, 'production/App.rollout.port',
      'leave it out for 22, or pass the port sshd listens on, such as Port.of(2222)'],
    ['Machine rollout.hostKey', () => { const s = checkedStack(); new Machine(s, 'App', appProps(s, { rollout: { hostKey: null } })); }, 'production/App.rollout.hostKey',
      "pass the line of /etc/ssh/ssh_host_ed25519_key.pub without its comment, such as 'ssh-ed25519 AAAAC3Nza…', or leave it out (not pinned: synth warns in production)"],
    ['EnvironmentStack ingress', () => new EnvironmentStack(Testing.app(), 'acme-test', { product: new Product(props()), environment: Environment.TEST, ingress: null } as any),
      'acme-test.ingress', 'list the entry points, such as [FirewallRule.httpsFromAnywhere()], [] for none, or leave it out for HTTPS and HTTP'],
    ['ProductStacks dataClasses', () => new ProductStacks(Testing.app(), new Product(props()), { dataClasses: null } as any),
      'acme-test.dataClasses', 'list what the app machine holds, such as [DataClass.SENSITIVE, DataClass.SECRET], or leave it out for that default'],
    // No default, and no longer read: "for its default" was untrue, and leaving it out was said twice.
    ['Product backup.heartbeatHostname', () => new Product(props({ backup: { ...backup, heartbeatHostname: null } })), 'Product(acme).backup.heartbeatHostname',
      'leave it out (it is no longer read)'],
    // Review: a check without a fix of its own fell back to "give it a value as its documentation shows".
    ['PostgresDatabase port', () => { const s = checkedStack(); new PostgresDatabase(s, 'Database', databaseProps(s, { port: null })); }, 'production/Database.port',
      'leave port out (or undefined), or use a port such as 5432 or Port.of(5432)'],
    ['PostgresDump port', () => PostgresDump.allDatabases({ port: null } as any), 'PostgresDump.allDatabases.options.port', 'leave port out (or undefined), or use a port such as 5432 or Port.of(5432)'],
    ['PostgresDump dataDirectory', () => PostgresDump.databases(['app'], { dataDirectory: null } as any), 'PostgresDump.databases.options.dataDirectory',
      "leave dataDirectory out (or undefined), or use the absolute path of PostgreSQL's data directory, such as '/var/lib/postgresql' or '/srv/postgresql/15/main'"],
    ['EnvironmentStack networkClients', () => new EnvironmentStack(Testing.app(), 'acme-test', { product: new Product(props()), environment: Environment.TEST, networkClients: null } as any),
      'acme-test.networkClients', "leave networkClients out (or undefined), or pass a function that builds them in the stack: networkClients: (stack) => [new Machine(stack, 'Worker', { …, sshKeys: [...stack.adminSshKeys], privateNetwork: stack.network })]"],
    ['EnvironmentMonitoring monitoringMachine', () => {
      const s = checkedStack();
      new EnvironmentMonitoring(s, 'Monitoring', { phase: Phase.THREE, environment: Environment.PRODUCTION, machine: new Machine(s, 'App', appProps(s, {})), monitoringMachine: null } as any);
    }, 'production/Monitoring.monitoringMachine', 'leave monitoringMachine out (or undefined), or pass the Machine Prometheus and Alertmanager run on in Phase 3 production, built with new Machine(…)'],
    // Review: null for an options argument, or for a database's name, was "missing: … is required".
    ['Schedule.everyHours options', () => Schedule.everyHours(6, null as any), 'Schedule.everyHours.options', 'leave options out (or undefined), or pass { minute: 15 }'],
    ['PostgresDump.allDatabases options', () => PostgresDump.allDatabases(null as any), 'PostgresDump.allDatabases.options', 'leave options out (or undefined), or pass { port: 5432 }'],
    ['ProductStacks options', () => new ProductStacks(Testing.app(), new Product(props()), null as any), 'ProductStacks(acme).props',
      'leave props out (or undefined), or pass { stagingExpiresAt, dataClasses, ingress, retire, networkClients }'],
    ['Product database', () => new Product(props({ database: null })), 'Product(acme).database', "leave database out (or undefined), or pass { name: 'app' }"],
    ['Product database.name', () => new Product(props({ database: { name: null } })), 'Product(acme).database.name', "leave name out (or undefined), or use a name such as 'app'"],
  ])('%s: null is refused as null, never as a required value that is missing', (_name, build, path, fix) => {
    expect(refusal(build)).toBe(NULL_REFUSED(path, fix));
  });

  test.each([
    ['outdir', "leave outdir out (or undefined), or pass a directory such as 'report'"],
    ['title', "leave title out (or undefined), or pass a title such as 'Acme: operator report'"],
  ])('writeOperatorReport %s: null is refused with the option\'s own fix', async (option, fix) => {
    await expect(writeOperatorReport(Testing.app(), { [option]: null } as any)).rejects.toThrow(NULL_REFUSED(`writeOperatorReport.options.${option}`, fix));
  });
});

function databaseProps(stack: TerraformStack, extra: Record<string, unknown>): any {
  return {
    machine: new Machine(stack, 'App', appProps(stack, {})), privateAddress: '10.0.1.2', privateSubnet: '10.0.1.0/24',
    password: new SecretVariable(stack, 'database_app_password', { description: 'x' }), ...extra,
  };
}

function appProps(stack: TerraformStack, extra: Record<string, unknown>): any {
  const network = new PrivateNetwork(stack, 'Network', { environment: Environment.PRODUCTION, name: 'acme-production-network', location: Location.FSN1 });
  return {
    environment: Environment.PRODUCTION, role: 'app', name: 'acme-production-app', serverType: ServerType.CX33, location: Location.FSN1,
    sshKeys: [SshKey.fromName('admin')], adminCidrs: ['203.0.113.0/24'], dataClasses: [DataClass.SENSITIVE], privateNetwork: network, privateIp: '10.0.1.2', ...extra,
  };
}
