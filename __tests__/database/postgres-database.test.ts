import { TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import {
  BackupPlan, BackupTarget, DataClass, DataVolume, Environment, FirewallRule, Heartbeat, Location, Machine, Port, PostgresDatabase, PostgresDump, PostgresTuning, PostgresVersion, SecretVariable,
  ServerType, Size, SshKey, StorageBox,
} from '../../lib';
import { refusal } from '../boundary/refusal';
import { synthDatabase } from './helpers/fixture';
import { waitForAddressCommand } from '../../lib/hetzner/private/private-address';
import { spawnSync } from 'child_process';

const DROP_IN = '/etc/postgresql/15/main/conf.d/50-sovereign.conf';

function machineIn(stack: TerraformStack, props: Partial<{ image: string; ingress: FirewallRule[]; dataClasses: DataClass[] }> = {}) {
  new HcloudProvider(stack, 'hcloud', {});
  return new Machine(stack, 'App', {
    environment: Environment.TEST, role: 'app', serverType: ServerType.CX23, location: Location.FSN1,
    sshKeys: [SshKey.fromName('admin')], adminCidrs: ['203.0.113.0/24'], ...props,
  });
}

describe('PostgresDatabase', () => {
  test("pins the major the image ships: Debian 12's PostgreSQL 15, server and client", () => {
    const { bundle, database } = synthDatabase();
    expect(database.version.major).toBe(15);
    const part = bundle.parts.find((p) => p.name === 'postgresql 15')!;
    expect(part.packages).toEqual(['postgresql-15', 'postgresql-client-15']);
    expect(PostgresVersion.forImage('debian-13').major).toBe(17);
    expect(() => PostgresVersion.forImage('fedora-40')).toThrow(/'fedora-40' is not allowed: .*debian-12 \(15\)/);
  });

  test('refuses a major the machine\'s image does not ship, naming the database, the major and the fix', () => {
    // Before: PostgresVersion.of(16) on debian-12 synthesized, and the deploy asked apt for postgresql-16, which
    // bookworm does not carry ("check that the machine reaches the Debian mirrors"); where a package existed, it
    // put a second, empty cluster beside the data.
    const make = (image: string | undefined, version: PostgresVersion | undefined) => {
      const stack = new TerraformStack(Testing.app(), 's');
      const machine = machineIn(stack, image === undefined ? {} : { image });
      return new PostgresDatabase(stack, 'Database', {
        machine, privateAddress: '10.0.1.2', privateSubnet: '10.0.1.0/24', password: new SecretVariable(stack, 'pw', { description: 'x' }), version,
      });
    };
    expect(refusal(() => make(undefined, PostgresVersion.of(16)))).toMatch(new RegExp("^s/Database\\.version: 'PostgreSQL 16' is not allowed: the machine's image debian-12 ships PostgreSQL 15, "
      + '.*Fix: leave version out \\(PostgreSQL 15\\), or change the major as docs/database\\.md, section Changing the PostgreSQL major, of cdktf-sovereign-hetzner '
      // Thrown at synth, not written to a machine: it names the package it runs in (the cdktn build renames it), not both.
      + '\\(node_modules/cdktf-sovereign-hetzner/docs/database\\.md in your IaC repo\\) says$'));
    expect(refusal(() => make('debian-13', PostgresVersion.of(15)))).toMatch(/^s\/Database\.version: 'PostgreSQL 15' is not allowed: the machine's image debian-13 ships PostgreSQL 17/);
    // The image's own major, said explicitly, and an image the library does not know (the caller names its major).
    expect(make('debian-13', PostgresVersion.of(17)).version.major).toBe(17);
    expect(make('my-golden-image', PostgresVersion.of(16)).version.major).toBe(16);
  });

  test('listens on localhost and the private address, hashes with SCRAM, and admits the app from localhost and its own private address only (no networkClients)', () => {
    const { bundle } = synthDatabase();
    const dropIn = bundle.files.get(DROP_IN)!;
    expect(dropIn.owner).toBe('postgres:postgres');
    expect(dropIn.content).toMatch(/^listen_addresses = 'localhost,10\.0\.1\.2'$/m);
    expect(dropIn.content).toMatch(/^password_encryption = 'scram-sha-256'$/m);
    const hba = bundle.files.get('/etc/postgresql/15/main/pg_hba.conf')!.content!;
    const rules = hba.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/\s+/));
    expect(rules).toEqual([
      ['local', 'all', 'postgres', 'peer'],
      ['local', 'app', 'app', 'scram-sha-256'],
      ['host', 'app', 'app', '127.0.0.1/32', 'scram-sha-256'],
      ['host', 'app', 'app', '::1/128', 'scram-sha-256'],
      ['host', 'app', 'app', '10.0.1.2/32', 'scram-sha-256'],
      ['host', 'all', 'all', '0.0.0.0/0', 'reject'],
      ['host', 'all', 'all', '::/0', 'reject'],
    ]);
  });

  test('the password travels as a deploy-time file, root-only; no command, no synthesized value holds it', () => {
    const { bundle, json } = synthDatabase();
    const file = bundle.files.get('/etc/sovereign/postgres/app-password')!;
    expect(file.permissions).toBe('0600');
    expect(file.owner).toBe('root:root');
    expect(file.content).toBeUndefined();
    expect(file.template).toBe('${var.database_app_password}\n');
    const part = bundle.parts.find((p) => p.name === 'postgresql 15')!;
    expect(JSON.stringify(part.commands)).not.toMatch(/password|\$\{/);
    expect(part.commands).toContainEqual(['/usr/local/sbin/sovereign-postgres-setup']);
    expect(json.variable.database_app_password).toMatchObject({ sensitive: true });
    expect(json.variable.database_app_password.default).toBeUndefined();
  });

  test('memory and connections follow the server type, so a rescale changes the bundle and re-tunes through the rollout', () => {
    const small = synthDatabase({ serverType: ServerType.CX23 });
    const large = synthDatabase({ serverType: ServerType.CX43 });
    expect(small.bundle.files.get(DROP_IN)!.content).toMatch(/^shared_buffers = '1024MB'$/m);
    expect(large.bundle.files.get(DROP_IN)!.content).toMatch(/^shared_buffers = '4096MB'$/m);
    expect(small.bundle.files.get(DROP_IN)!.content).toMatch(/^max_connections = 60$/m);
    expect(large.bundle.files.get(DROP_IN)!.content).toMatch(/^max_connections = 180$/m);
    expect(large.bundle.version).not.toBe(small.bundle.version);
    const t = PostgresTuning.forServerType(ServerType.CCX63);
    expect(t.maxConnections).toBe(400);
    expect(t.sharedBuffersMb).toBe(192 * 1024 / 4);
  });

  test('on a volume, the data directory is <mount>/<major>/main and the setup refuses to run without the mount', () => {
    const { bundle, database } = synthDatabase({ volumeMount: '/srv/postgresql' });
    expect(database.dataDirectory).toBe('/srv/postgresql/15/main');
    expect(bundle.files.get(DROP_IN)!.content).toMatch(/^data_directory = '\/srv\/postgresql\/15\/main'$/m);
    expect(JSON.parse(bundle.files.get('/etc/sovereign/postgres/setup.json')!.content!)).toMatchObject({
      dataDirectory: '/srv/postgresql/15/main', packageDataDirectory: '/var/lib/postgresql/15/main', requireMount: '/srv/postgresql',
    });
    expect(database.dump().dataDirectory).toBe('/srv/postgresql/15/main');
    expect(database.dump().version).toBe(database.version);
    const names = bundle.parts.map((p) => p.name);
    expect(names.indexOf('volume /srv/postgresql')).toBeLessThan(names.indexOf('postgresql 15'));
    // After a reboot the server waits for the volume (fstab mounts it with nofail) and never starts without it.
    const unitDropIn = bundle.files.get('/etc/systemd/system/postgresql@.service.d/50-sovereign-network.conf')!.content!;
    expect(unitDropIn).toMatch(/^RequiresMountsFor=\/srv\/postgresql$/m);
    expect(synthDatabase({}).bundle.files.get('/etc/systemd/system/postgresql@.service.d/50-sovereign-network.conf')!.content).not.toContain('RequiresMountsFor');
  });

  test('after a reboot the server waits for its private address (up to 2 minutes), so it does not start on localhost alone', () => {
    const unitDropIn = synthDatabase({}).bundle.files.get('/etc/systemd/system/postgresql@.service.d/50-sovereign-network.conf')!.content!;
    const line = /^ExecStartPre=-(.*)$/m.exec(unitDropIn)![1];
    expect(line).toContain('grep -qF " 10.0.1.2/"');
    // The command as systemd runs it ($$ is its escape of $): done at once for an address this machine has, and
    // failing (ignored by the '-') after its limit for one it has not.
    const asRun = (command: string) => command.replace(/\$\$/g, '$');
    const run = (command: string) => spawnSync('sh', ['-c', asRun(command)], { encoding: 'utf8', timeout: 20_000 });
    expect(run(line.replace('10.0.1.2', '127.0.0.1')).status).toBe(0);
    expect(run(waitForAddressCommand('192.0.2.254', 1)).status).toBe(1);
  });

  test('refuses an address outside the subnet, a public subnet, a plain variable, and the superuser as app role', () => {
    const make = (props: Partial<{ privateAddress: string; privateSubnet: string; role: string; sensitive: boolean; port: number }>) => {
      const stack = new TerraformStack(Testing.app(), 's');
      const machine = machineIn(stack);
      return new PostgresDatabase(stack, 'Database', {
        machine, privateAddress: props.privateAddress ?? '10.0.1.2', privateSubnet: props.privateSubnet ?? '10.0.1.0/24', role: props.role, port: props.port,
        password: props.sensitive === false ? new TerraformVariable(stack, 'pw', { type: 'string' }) : new SecretVariable(stack, 'pw', { description: 'x' }),
      });
    };
    expect(() => make({ privateAddress: '10.0.2.2' })).toThrow(/s\/Database\.privateAddress: '10\.0\.2\.2' is not allowed: it is not an address of the private subnet 10\.0\.1\.0\/24\. Fix: pin/);
    expect(() => make({ privateAddress: '203.0.113.5', privateSubnet: '203.0.113.0/24' })).toThrow(/privateSubnet: '203\.0\.113\.0\/24' is not allowed: it is not a private \(RFC 1918\) block/);
    expect(() => make({ sensitive: false })).toThrow(/password: 'var\.pw' is not allowed: the variable is not marked sensitive/);
    expect(() => make({ role: 'postgres' })).toThrow(/role: 'postgres' is not allowed: the app must not be the superuser/);
    // Port 0 or 70000 passed as a whole number, and failed only when PostgreSQL (and the dumps) first ran.
    expect(() => make({ port: 0 })).toThrow(/s\/Database\.port: 0 is not allowed: a port is a whole number from 1 to 65535\. Fix: use a port such as 5432/);
    expect(() => make({ port: 70000 })).toThrow(/s\/Database\.port: 70000 is not allowed: a port is a whole number from 1 to 65535/);
    expect(() => make({ port: 5433 })).not.toThrow();
    expect(() => PostgresDump.allDatabases({ port: 0 })).toThrow(/^PostgresDump\.allDatabases\.options\.port: 0 is not allowed: a port is a whole number from 1 to 65535/);
    expect(() => make({})).not.toThrow();
  });

  // The port was a bare number where UptimeCheck.port and the firewall's props are a Port: a typed caller could not ask
  // it Port's questions, and the prop refused Port.of(5433) as "not a number".
  test('its port is a Port, taken as a Port or a number; portNumber (deprecated) and plain JavaScript read the number', () => {
    const make = (port: Port | number | undefined) => {
      const stack = new TerraformStack(Testing.app(), 's');
      return new PostgresDatabase(stack, 'Database', {
        machine: machineIn(stack), privateAddress: '10.0.1.2', privateSubnet: '10.0.1.0/24', port, password: new SecretVariable(stack, 'pw', { description: 'x' }),
      });
    };
    for (const [given, number] of [[undefined, 5432], [5433, 5433], [Port.of(5433), 5433]] as const) {
      const database = make(given);
      expect(database.port).toBeInstanceOf(Port);
      expect(database.port.from).toBe(number);
      expect(`${database.port}`).toBe(String(number));
      expect(database.portNumber).toBe(number);
      expect(database.dump().port).toEqual(database.port);
      // What a JavaScript caller of 0.1 writes: the number read as a number.
      expect(new Function('database', 'return database.portNumber + 1')(database)).toBe(number + 1);
    }
    expect(refusal(() => make(Port.range(5432, 5434)))).toBe("s/Database.port: '5432-5434' is not allowed: PostgreSQL listens on one port, and this is a range. Fix: pass one port of it, such as Port.of(5432)");
    expect(refusal(() => make(Port.of(80)))).toBe('s/Database.port: 80 is not allowed: a port is a whole number from 1024 to 65535. Fix: use 5432');
    expect(refusal(() => make('5432' as never))).toMatch(/^s\/Database\.port: '5432' is not allowed: .*Fix: use a port such as 5432 or Port\.of\(5432\)$/);
  });

  test('on a machine whose server type is not in the catalog, is refused naming the database and the type', () => {
    // Before: a plain Error from the tuning ("ServerType 'cx99' is not in the catalog"), naming no construct.
    const stack = new TerraformStack(Testing.app(), 's');
    new HcloudProvider(stack, 'hcloud', {});
    const machine = new Machine(stack, 'App', {
      environment: Environment.TEST, role: 'app', serverType: ServerType.of('cx99'), location: Location.FSN1, sshKeys: [SshKey.fromName('admin')], adminCidrs: ['203.0.113.0/24'],
    });
    const message = refusal(() => new PostgresDatabase(stack, 'Database', {
      machine, privateAddress: '10.0.1.2', privateSubnet: '10.0.1.0/24', password: new SecretVariable(stack, 'pw', { description: 'x' }),
    }));
    expect(message).toMatch(/^s\/Database\.machine: 's\/App \(server type 'cx99'\)' is not allowed: its server type is not in the catalog.*Fix: give the machine a ServerType constant such as ServerType\.CX33/);
  });

  test('from plain JavaScript: a server type given as its name on the machine is refused at the machine, never reaching the tuning', () => {
    const stack = new TerraformStack(Testing.app(), 's');
    new HcloudProvider(stack, 'hcloud', {});
    expect(refusal(() => new Machine(stack, 'App', {
      environment: Environment.TEST, role: 'app', serverType: 'cx33' as any, location: Location.FSN1, sshKeys: [SshKey.fromName('admin')], adminCidrs: ['203.0.113.0/24'],
    }))).toMatch(/^s\/App\.serverType: 'cx33' is not allowed: it is not a ServerType/);
  });

  test('synth fails when a firewall rule opens the database port to the public interface', () => {
    const stack = new TerraformStack(Testing.app(), 's');
    const machine = machineIn(stack, { ingress: [FirewallRule.tcpIn('5432', ['198.51.100.0/24'], { description: 'psql from the office' })] });
    new PostgresDatabase(stack, 'Database', { machine, privateAddress: '10.0.1.2', privateSubnet: '10.0.1.0/24', password: new SecretVariable(stack, 'pw', { description: 'x' }) });
    expect(() => Testing.synth(stack, true)).toThrow(/s\/App\.ingress: 'psql from the office' is not allowed: it opens the database port 5432 on the public interface/);
  });

  // A production database outside EnvironmentStack, dumped by no plan, synthesized without a word: its only copies were
  // Hetzner's week of whole-disk images, taken while PostgreSQL writes, and none of a volume.
  describe("production's database must be dumped by a backup plan, or say why not", () => {
    function production(options: { protect?: (plan: BackupPlan, machine: Machine, database: PostgresDatabase) => void; withoutBackup?: string; environment?: Environment } = {}) {
      const stack = new TerraformStack(Testing.app(), 'acme-production');
      new HcloudProvider(stack, 'hcloud', {});
      const environment = options.environment ?? Environment.PRODUCTION;
      const machine = new Machine(stack, 'App', {
        environment, role: 'app', serverType: ServerType.CX33, location: Location.FSN1, sshKeys: [SshKey.fromName('admin')], adminCidrs: ['203.0.113.0/24'],
      });
      const database = new PostgresDatabase(stack, 'Database', {
        machine, privateAddress: '10.0.1.2', privateSubnet: '10.0.1.0/24', password: new SecretVariable(stack, 'pw', { description: 'x' }),
        ...(options.withoutBackup !== undefined ? { withoutBackup: options.withoutBackup } : {}),
      });
      if (options.protect) {
        const box = new StorageBox(stack, 'Box', { environment, location: Location.FSN1, password: new SecretVariable(stack, 'box_pw', { description: 'x' }) })
          .addSubaccount('App', { homeDirectory: 'backups/app', password: new SecretVariable(stack, 'box_app_pw', { description: 'x' }) });
        const plan = BackupPlan.phase1(stack, 'Backups', {
          environment, resticPassword: new SecretVariable(stack, 'restic_pw', { description: 'x' }),
          heartbeat: Heartbeat.healthchecks(new SecretVariable(stack, 'hb', { description: 'x' })), targets: [BackupTarget.storageBox(box)],
        });
        options.protect(plan, machine, database);
      }
      return stack;
    }
    const errors = (stack: TerraformStack) => stack.node.findAll().flatMap((c) => c.node.validate()).join('\n');

    test('no plan: synth fails, naming the database, its machine and the fix', () => {
      expect(errors(production())).toMatch(new RegExp("acme-production/Database\\.machine: 'acme-production/App' is not allowed: production's database is dumped by no backup plan, .*"
        + 'Fix: protect the machine with a BackupPlan: plan\\.protect\\(machine, \\{ postgres: database\\.dump\\(\\) \\}\\) .*or pass withoutBackup with the reason'));
    });

    test("a plan that dumps it passes; one that backs up only files does not", () => {
      expect(errors(production({ protect: (plan, machine, database) => plan.protect(machine, { postgres: database.dump() }) }))).not.toMatch(/dumped by no backup plan/);
      expect(errors(production({ protect: (plan, machine) => plan.protect(machine) }))).not.toMatch(/dumped by no backup plan/);
      expect(errors(production({ protect: (plan, machine) => plan.protect(machine, { postgres: PostgresDump.NONE, paths: ['/srv/uploads'] }) })))
        .toMatch(/production's database is dumped by no backup plan/);
    });

    test('withoutBackup lifts it with a reason a reader can check; test needs none', () => {
      expect(errors(production({ withoutBackup: 'demo data, reloaded from fixtures on every deploy' }))).not.toMatch(/dumped by no backup plan/);
      expect(() => production({ withoutBackup: '....................' }))
        .toThrow(/acme-production\/Database\.withoutBackup: '\.{20}' is not allowed: opting production's database out of backups needs a specific reason \(at least 20 letters/);
      expect(errors(production({ environment: Environment.TEST }))).not.toMatch(/dumped by no backup plan/);
    });
  });

  // Second pass: a database on a machine declared public got no error of its own, and the rules judged the machine
  // public: outside the EU, egress open to every address, the tenants' rows on it.
  describe('its machine is never declared public', () => {
    const errors = (stack: TerraformStack) => stack.node.findAll().flatMap((c) => c.node.validate()).join('\n');
    function on(dataClasses?: DataClass[], widen?: DataClass[]) {
      const stack = new TerraformStack(Testing.app(), 'acme-test');
      const machine = machineIn(stack, dataClasses ? { dataClasses } : {});
      if (widen) DataClass.declare(machine, widen);
      new PostgresDatabase(stack, 'Database', {
        machine, privateAddress: '10.0.1.2', privateSubnet: '10.0.1.0/24', password: new SecretVariable(stack, 'pw', { description: 'x' }),
      });
      return stack;
    }

    test('on a machine declared public, synth fails naming the database, the machine, its classes and the fix', () => {
      expect(errors(on([DataClass.PUBLIC]))).toMatch(new RegExp("^acme-test/Database\\.machine: 'acme-test/App \\(public\\)' is not allowed: a database holds the product's users and their data, which are not public, .*"
        + 'Fix: declare on the machine the classes the database holds, such as dataClasses: \\[DataClass\\.SENSITIVE\\]', 'm'));
      expect(() => Testing.synth(on([DataClass.PUBLIC]), true)).toThrow(/acme-test\/Database\.machine: 'acme-test\/App \(public\)' is not allowed/);
    });

    test('its data directory on a volume declared public is refused too, under dataVolume', () => {
      const stack = new TerraformStack(Testing.app(), 'acme-test');
      const machine = machineIn(stack);
      const volume = new DataVolume(stack, 'DatabaseVolume', { machine, size: Size.gibibytes(20), mountPath: '/mnt/db', dataClasses: [DataClass.PUBLIC], withoutBackup: 'the test has no backup plan' });
      new PostgresDatabase(stack, 'Database', {
        machine, privateAddress: '10.0.1.2', privateSubnet: '10.0.1.0/24', dataVolume: volume, password: new SecretVariable(stack, 'pw', { description: 'x' }),
      });
      expect(errors(stack)).toMatch(/^acme-test\/Database\.dataVolume: 'acme-test\/DatabaseVolume \(public\)' is not allowed: a database holds the product's users .* Fix: leave the volume's dataClasses out/m);
    });

    test('a machine left at its default, declared sensitive, secret or pseudonymized, or widened before synth, passes', () => {
      expect(errors(on())).toBe('');
      expect(errors(on([DataClass.SENSITIVE, DataClass.SECRET]))).toBe('');
      expect(errors(on([DataClass.PSEUDONYMIZED]))).toBe('');
      expect(errors(on([DataClass.PUBLIC], [DataClass.PUBLIC, DataClass.SENSITIVE]))).toBe('');
    });
  });
});
