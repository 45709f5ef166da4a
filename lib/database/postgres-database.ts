import { Construct } from 'constructs';
import { TerraformVariable, Token } from 'cdktf';
import { PostgresDump } from '../backup/postgres-dump';
import { cidrProblem } from '../core/cidr';
import { onePortProp, Port } from '../core/port';
import { DataClass } from '../core/data-class';
import { holdsOnlyPublic } from '../core/private/only-public';
import { libraryDocAtSynth } from '../core/private/library-doc';
import { Environment } from '../core/environment';
import { isReason, REASON_RULE } from '../core/reason';
import { invalidValue, ValidationError } from '../core/validation-message';
import { checkProps, is } from '../core/runtime-checks';
import { DataVolume } from '../hetzner/data-volume';
import { IMachine } from '../hetzner/machine';
import { PrivateIngress } from '../hetzner/private-ingress';
import { privateAddressOf } from '../hetzner/private/private-address';
import { machineCheck } from '../hetzner/private/require-machine';
import { volumeBackupsOf } from '../hetzner/private/volume-coverage';
import { protectCheckedSecret } from '../core/private/sensitive-variable';
import { checkNetworkClients, NETWORK_CLIENTS_FIX } from './private/network-clients';
import { renderDropIn, renderHba, renderSetupConf, renderUnitDropIn, RenderInput } from './private/render';
import { SETUP_CONF, SETUP_SCRIPT, SETUP_SCRIPT_PATH } from './private/setup-script';
import { PostgresTuning } from './postgres-tuning';
import { DEFAULT_IMAGE, PostgresVersion } from './postgres-version';
import { guardStack } from '../core/private/guard-stack';

/** What the product's PostgreSQL is made of: its machine, where it listens, and the app's password. */
export interface PostgresDatabaseProps {
  /** The machine the server runs on (a `Machine`). */
  readonly machine: IMachine;
  /** The machine's address in its environment's private network; the server listens on it and on localhost only. */
  readonly privateAddress: string;
  /**
   * The environment's private subnet, which holds `privateAddress`. The app role connects from localhost, from this
   * address and from the `networkClients` in it, from nowhere else.
   */
  readonly privateSubnet: string;
  /** The app role's password, from a sensitive variable (at least 16 characters; checked on the machine). */
  readonly password: TerraformVariable;
  /**
   * The app's database.
   * @default 'app'
   */
  readonly database?: string;
  /**
   * The app's role, owner of the database.
   * @default - the database's name
   */
  readonly role?: string;
  /**
   * The PostgreSQL major: for an image the library knows, the one it ships (any other is refused); for another
   * image, the one it carries.
   * @default - the major the machine's image ships (debian-12: 15)
   */
  readonly version?: PostgresVersion;
  /**
   * A volume for the data directory (`<mount>/<major>/main`). On the first deploy with it, the
   * setup moves the existing cluster there with the server stopped and keeps the old directory.
   * @default - the root disk (`/var/lib/postgresql/<major>/main`)
   */
  readonly dataVolume?: DataVolume;
  /**
   * The port it listens on, from 1024: `Port.of(5433)`, or the number.
   * @default 5432
   */
  readonly port?: Port | number;
  /**
   * Create an empty cluster when the data directory holds none, for a server built from a snapshot that does not
   * hold the data: staging from production's snapshot when production's data directory is on a volume, which a
   * Hetzner snapshot skips (EnvironmentStack sets it then). Restore a backup into it before relying on it.
   * @default false - a missing cluster fails the deploy: it means the data is gone
   */
  readonly createEmptyClusterIfMissing?: boolean;
  /**
   * Machines whose apps connect to the database over the private network (a worker on a machine of its own). The
   * machine's private-network table admits them on the database's port, and `pg_hba.conf` their private addresses,
   * and no one else: the app on the database's own machine connects over localhost. A peer declared later with
   * `PrivateIngress.allowTcp(machine, peer, port)` on the database's port is admitted by both the same way.
   * @default - none: nothing reaches the database over the private network
   */
  readonly networkClients?: IMachine[];
  /**
   * Why production's database may go without a dump of a `BackupPlan`: at least 20 letters, 8 of them different.
   * Hetzner's server backups are a week of whole-disk images taken while PostgreSQL writes, and skip volumes.
   * @default - production's database must be dumped by a `BackupPlan` (`plan.protect(machine, { postgres: database.dump() })`), or synth fails
   */
  readonly withoutBackup?: string;
}

const NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const databases = new WeakMap<IMachine, PostgresDatabase>();
/** The files the database part writes on the machine. */
export const POSTGRES_FILES = { setupConf: SETUP_CONF, setupScript: SETUP_SCRIPT_PATH, passwordFile: '/etc/sovereign/postgres/app-password' } as const;

/**
 * The product's PostgreSQL: Debian's server package of the major the image ships, configured
 * through the machine's bundle, so every deploy rolls a configuration change out and a rescale
 * re-tunes it.
 *
 * - listens on localhost and the environment's private address only (no firewall rule opens its
 *   port, and synth fails if one does);
 * - `pg_hba.conf` admits the app role with SCRAM-SHA-256 from localhost, the machine's private address and the
 *   private addresses of its `networkClients`, `postgres` over the Unix socket by peer, and rejects everything else;
 * - over the private network, which Hetzner's firewalls do not filter, the machine's table (`PrivateIngress`)
 *   admits only the `networkClients` to its port: two layers, so that a machine of the subnet nobody declared is
 *   refused by PostgreSQL too when the table is gone;
 * - the app's role and database are created if missing, and the role's password comes from a
 *   sensitive variable through a root-only file, set as a SCRAM verifier computed on the machine
 *   (never in argv, SQL text or logs);
 * - memory and connections follow the server type (`PostgresTuning`);
 * - the data directory is on the root disk, or on a `DataVolume` (moved there once, never replaced);
 * - it holds the product's users and their data, never public data: synth fails on a machine declared to hold only
 *   public data (a machine holds sensitive data by default).
 *
 * Back it up with `plan.protect(machine, { postgres: database.dump() })`: the dump covers the data
 * directory, and so a volume it lives on.
 */
export class PostgresDatabase extends Construct {
  /** The database on a machine, if any. */
  public static of(machine: IMachine): PostgresDatabase | undefined {
    return databases.get(machine);
  }

  /** The machine the server runs on. */
  public readonly machine: IMachine;
  /** The PostgreSQL major it runs (the image's). */
  public readonly version: PostgresVersion;
  /** Memory and connection settings, from the machine's server type. */
  public readonly tuning: PostgresTuning;
  /** The app's database. */
  public readonly database: string;
  /** The app's role, owner of the database. */
  public readonly role: string;
  /** The port it listens on: one port, such as `Port.of(5432)` (`port.from` is its number). */
  public readonly port: Port;
  /** Where the cluster's data lives on the machine. */
  public readonly dataDirectory: string;
  /** The private address it listens on (besides localhost). */
  public readonly privateAddress: string;
  /** The private subnet the app role may connect from. */
  public readonly privateSubnet: string;
  /** The volume the data directory is on, if any. */
  public readonly dataVolume?: DataVolume;

  /** Configures PostgreSQL in the machine's bundle; fails on a name, port, address or subnet the operating model refuses. */
  constructor(scope: Construct, id: string, props: PostgresDatabaseProps) {
    super(scope, id);
    guardStack(this);
    // The props checked are the props built from: one frozen snapshot, taken first (a JavaScript getter answered the
    // check with port 5432 and the build with another port; later edits of the caller's object do not reach it).
    props = checkProps<PostgresDatabaseProps>(this, props, {
      machine: machineCheck(),
      privateAddress: is.text("pass the machine's private address, such as '10.0.1.2'"),
      privateSubnet: is.text("pass the private subnet, such as '10.0.1.0/24'"),
      password: is.secret("pass a sensitive variable: new SecretVariable(stack, 'database_app_password', { description })"),
      database: is.optional(is.text("name it such as 'app'")),
      role: is.optional(is.text("name it such as 'app'")),
      version: is.optional(is.instance(PostgresVersion, 'use PostgresVersion.of(15)')),
      dataVolume: is.optional(is.instance(DataVolume, 'pass the DataVolume the data directory is on', 'a DataVolume')),
      port: is.optional(onePortProp('PostgreSQL listens on', 'use a port such as 5432 or Port.of(5432)')),
      createEmptyClusterIfMissing: is.optional(is.boolean()),
      withoutBackup: is.optional(is.text("say why losing its data is harmless, such as 'demo data, reloaded from fixtures on every deploy'")),
      networkClients: is.optional(is.list(machineCheck(), NETWORK_CLIENTS_FIX)),
    }, "pass { machine, privateAddress: '10.0.1.2', privateSubnet: '10.0.1.0/24', password: <sensitive variable> }");
    this.machine = props.machine;
    const image = props.machine.server.imageInput ?? DEFAULT_IMAGE;
    this.version = props.version ?? PostgresVersion.forImage(image);
    // The server comes from the image's archive, which has no other major: the deploy would ask apt for a package
    // it cannot find, or (where one exists) start a second, empty cluster beside the one holding the data.
    const shipped = PostgresVersion.shippedBy(image);
    if (shipped && !shipped.equals(this.version)) {
      throw new ValidationError(invalidValue(this, 'version', this.version.toString(),
        `the machine's image ${image} ships ${shipped}, and the server comes from the image's own archive (a running server's cluster is never upgraded by a deploy)`,
        `leave version out (${shipped}), or change the major as ${libraryDocAtSynth('database.md', 'Changing the PostgreSQL major')} says`));
    }
    // The machine reports an unknown type at synth; the tuning needs its memory and cores now.
    if (!props.machine.serverType.isKnown) {
      throw new ValidationError(invalidValue(this, 'machine', `${props.machine.node.path} (server type '${props.machine.serverType.name}')`,
        "its server type is not in the catalog, and the database's memory and connections are tuned to the type's memory and cores",
        'give the machine a ServerType constant such as ServerType.CX33'));
    }
    this.tuning = PostgresTuning.forServerType(props.machine.serverType);
    this.database = props.database ?? 'app';
    this.role = props.role ?? this.database;
    // Checked above (onePortProp): a Port of one port, or a port's number.
    const port = props.port instanceof Port ? props.port.from : props.port ?? 5432;
    this.privateAddress = props.privateAddress;
    this.privateSubnet = props.privateSubnet;
    this.dataVolume = props.dataVolume;
    this.dataDirectory = props.dataVolume ? `${props.dataVolume.mountPath}/${this.version.major}/main` : this.version.packageDataDirectory;

    if (databases.has(props.machine)) {
      throw new ValidationError(invalidValue(this, 'machine', props.machine.node.path, `it runs ${databases.get(props.machine)!.node.path} already`,
        'create one PostgresDatabase per machine; more databases are created in it by the app'));
    }
    for (const [prop, value] of [['database', this.database], ['role', this.role]] as const) {
      if (!NAME.test(value)) {
        throw new ValidationError(invalidValue(this, prop, value, 'a name is lowercase letters, digits and "_", starting with a letter or "_", at most 63 characters', "use a name such as 'app'"));
      }
    }
    if (this.role === 'postgres') throw new ValidationError(invalidValue(this, 'role', this.role, 'the app must not be the superuser', "use a role of its own such as 'app'"));
    if (!Number.isInteger(port) || port < 1024 || port > 65535) {
      throw new ValidationError(invalidValue(this, 'port', port, 'a port is a whole number from 1024 to 65535', 'use 5432'));
    }
    this.port = Port.of(port, this.node.path);
    const subnetProblem = privateBlockProblem(props.privateSubnet);
    if (subnetProblem) throw new ValidationError(invalidValue(this, 'privateSubnet', props.privateSubnet, subnetProblem, "pass the environment's private subnet, such as '10.0.1.0/24'"));
    if (Token.isUnresolved(props.privateAddress) || !inBlock(props.privateAddress, props.privateSubnet)) {
      throw new ValidationError(invalidValue(this, 'privateAddress', props.privateAddress, `it is not an address of the private subnet ${props.privateSubnet}`,
        "pin the machine's private address (MachineProps.privateIp) and pass it here, such as '10.0.1.2'"));
    }
    if (props.dataVolume && props.dataVolume.machine !== props.machine) {
      throw new ValidationError(invalidValue(this, 'dataVolume', props.dataVolume.node.path, `it is attached to ${props.dataVolume.machine.node.path}, not to ${props.machine.node.path}`,
        "pass a DataVolume of the database's machine"));
    }
    protectCheckedSecret(this, 'password', props.password);
    if (props.withoutBackup !== undefined && !isReason(props.withoutBackup)) {
      throw new ValidationError(invalidValue(this, 'withoutBackup', props.withoutBackup,
        `opting production's database out of backups needs a specific reason (${REASON_RULE})`,
        "say why losing its data is harmless, such as 'demo data, reloaded from fixtures on every deploy'"));
    }
    const clients = checkNetworkClients(this, 'networkClients', props.machine, props.networkClients ?? []);
    for (const client of clients) {
      PrivateIngress.allowTcp(props.machine, client, this.port, `PostgreSQL ${this.node.path}, for the app on ${client.serverName}`);
    }
    // Registered once its clients are accepted: a refused database leaves the machine free for a corrected one.
    databases.set(props.machine, this);

    const input: RenderInput = {
      version: this.version, tuning: this.tuning, privateAddress: this.privateAddress, privateSubnet: this.privateSubnet,
      database: this.database, role: this.role, port: this.port.from, dataDirectory: this.dataDirectory, source: this.node.path,
    };
    const conf = this.version.configDirectory;
    props.machine.addBundlePart({
      name: `postgresql ${this.version.major}`,
      packages: [this.version.serverPackage, this.version.clientPackage],
      files: [
        { path: `${conf}/conf.d/50-sovereign.conf`, content: renderDropIn(input), owner: 'postgres:postgres', permissions: '0644' },
        // At synth: the peers on the database's port include those declared after it (PrivateIngress.allowTcp).
        { path: `${conf}/pg_hba.conf`, content: () => renderHba(input, this.networkClientAddresses()), owner: 'postgres:postgres', permissions: '0640' },
        { path: `/etc/systemd/system/postgresql@.service.d/50-sovereign-network.conf`, content: renderUnitDropIn(this.privateAddress, props.dataVolume?.mountPath) },
        { path: POSTGRES_FILES.passwordFile, content: `${props.password.stringValue}\n`, permissions: '0600' },
        {
          path: SETUP_CONF,
          content: renderSetupConf({
            ...input, passwordFile: POSTGRES_FILES.passwordFile, passwordVariable: props.password.friendlyUniqueId, requireMount: props.dataVolume?.mountPath,
            createEmptyClusterIfMissing: props.createEmptyClusterIfMissing === true,
          }),
          permissions: '0644',
        },
        { path: SETUP_SCRIPT_PATH, content: SETUP_SCRIPT, permissions: '0755' },
      ],
      commands: [
        ['systemctl', 'daemon-reload'],
        ['systemctl', 'enable', this.version.serviceName],
        [SETUP_SCRIPT_PATH],
      ],
    });

    this.node.addValidation({
      validate: () => [
        ...this.heldDataProblems(),
        ...props.machine.ingressRules
          .filter((r) => r.port === String(this.port.from))
          .map((r) => invalidValue(props.machine, 'ingress', r.description, `it opens the database port ${this.port} on the public interface`,
            "remove the rule: the app reaches the database over localhost or the private network, admins through an SSH tunnel")),
        ...(props.withoutBackup === undefined && props.machine.environment === Environment.PRODUCTION && !this.isDumped()
          ? [invalidValue(this, 'machine', props.machine.node.path,
            "production's database is dumped by no backup plan, and Hetzner's server backups are a week of whole-disk images taken while PostgreSQL writes, without volumes",
            `protect the machine with a BackupPlan: plan.protect(machine, { postgres: database.dump() }) (EnvironmentStack does); or pass withoutBackup with the reason its data may be lost`)]
          : []),
      ],
    });
  }

  /**
   * A database holds the product's users and what they write, never public data, and the rules judge its machine by
   * the classes the machine declares: on a machine declared public, the database got no error of its own and the
   * machine could run outside the EU, with open egress. (Pseudonymized, a product that keeps only scrubbed data,
   * stays allowed.) Read at synth, so a class declared on the machine later counts.
   */
  private heldDataProblems(): string[] {
    const why = "a database holds the product's users and their data, which are not public, and the data boundary judges where it lives by the classes declared there (where it may run, where it may send)";
    const problems: string[] = [];
    const held = DataClass.declaredFor(this.machine) ?? this.machine.dataClasses;
    if (holdsOnlyPublic(held)) {
      problems.push(invalidValue(this, 'machine', `${this.machine.node.path} (${held.map((c) => c.name).join(', ')})`, why,
        'declare on the machine the classes the database holds, such as dataClasses: [DataClass.SENSITIVE] (the default), and keep public work on a machine of its own'));
    }
    // The data directory's volume, declared public, is listed and judged as public data however its machine is declared.
    if (this.dataVolume && holdsOnlyPublic(this.dataVolume.dataClasses)) {
      problems.push(invalidValue(this, 'dataVolume', `${this.dataVolume.node.path} (${this.dataVolume.dataClasses.map((c) => c.name).join(', ')})`, why,
        "leave the volume's dataClasses out (it holds its machine's), or declare what the database holds, such as [DataClass.SENSITIVE]"));
    }
    return problems;
  }

  /** Whether a backup plan dumps this server: a dump recorded for the machine whose data directory holds this one's. */
  private isDumped(): boolean {
    const within = (dir: string) => this.dataDirectory === dir || this.dataDirectory.startsWith(`${dir.replace(/\/+$/, '')}/`);
    return volumeBackupsOf(this.machine).some((c) => (c.databaseDirectories ?? []).some(within));
  }

  /** The private addresses of the machines the machine's table admits to the database's port, as pg_hba.conf admits them. */
  private networkClientAddresses(): string[] {
    return PrivateIngress.rulesFor(this.machine).filter((r) => r.port === this.port.from).flatMap((r) => privateAddressOf(r.from) ?? []);
  }

  /** What the backup plan dumps: every database of this server, its data directory covered (a volume included), with the server's major's client programs. */
  public dump(): PostgresDump {
    return PostgresDump.allDatabases({ dataDirectory: this.dataDirectory, port: this.port, version: this.version });
  }

  /**
   * The port it listens on, as a number.
   * @deprecated use `port`, a `Port` since 0.2.0 (`port.from` is this number)
   */
  public get portNumber(): number {
    return this.port.from;
  }
}

function toNumber(address: string): number | undefined {
  const parts = address.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

function inBlock(address: string, block: string): boolean {
  const [base, prefix] = block.split('/');
  const a = toNumber(address);
  const b = toNumber(base);
  if (a === undefined || b === undefined) return false;
  const size = 2 ** (32 - Number(prefix));
  return Math.floor(a / size) === Math.floor(b / size) && a % size !== 0 && a % size !== size - 1;
}

function privateBlockProblem(block: string): string | undefined {
  if (Token.isUnresolved(block)) return 'it is only known at deploy, and the configuration needs it at synth';
  const problem = cidrProblem(block);
  if (problem) return problem;
  if (block.includes(':')) return 'the private network is IPv4';
  const [base, prefix] = block.split('/');
  const n = toNumber(base)!;
  const isPrivate = ([['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16]] as const)
    .some(([range, bits]) => Number(prefix) >= bits && Math.floor(n / 2 ** (32 - bits)) === Math.floor(toNumber(range)! / 2 ** (32 - bits)));
  return isPrivate ? undefined : 'it is not a private (RFC 1918) block, and the database must never listen on a public network';
}
