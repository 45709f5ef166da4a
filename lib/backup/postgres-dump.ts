import { onePortProp, Port } from '../core/port';
import { ValidationError } from '../core/validation-message';
import { frozenSnapshot } from '../core/private/frozen-snapshot';
import { checkOptions, fail, is, orNothing, requireArray, requireString, Schema, withFix } from '../core/runtime-checks';
import { PostgresVersion } from '../database/postgres-version';

/** How the machine's PostgreSQL cluster is reached and where it keeps its data. */
export interface PostgresDumpOptions {
  /**
   * Where the cluster keeps its data; a volume mounted there (or below) counts as covered by the dump.
   * @default '/var/lib/postgresql'
   */
  readonly dataDirectory?: string;
  /**
   * The OS user the dump connects as, over the Unix socket (peer authentication).
   * @default 'postgres'
   */
  readonly osUser?: string;
  /**
   * The cluster's port (its Unix socket's number): `Port.of(5433)`, or the number.
   * @default Port.of(5432)
   */
  readonly port?: Port | number;
  /**
   * The server's major: the jobs run that major's `pg_dump`, `pg_restore` and `psql`
   * (`/usr/lib/postgresql/<major>/bin`), and fail naming the directory when it is missing.
   * `PostgresDatabase.dump()` sets it.
   * @default - the programs Debian's pg_wrapper picks, which with PGHOST set is the newest major installed: a
   * newer client installed beside the server writes dumps an older pg_restore cannot read
   */
  readonly version?: PostgresVersion;
}

// The names a dump carries (DB_NAME_RE of the tooling): they become parts of file names on the machine.
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/;

/** An absolute directory below the root: named parts (none starting with "."), no spaces, no trailing "/". */
const DATA_DIRECTORY = /^(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)+$/;
const DATA_DIRECTORY_FIX = "use the absolute path of PostgreSQL's data directory, such as '/var/lib/postgresql' or '/srv/postgresql/15/main'";

/**
 * The data directory decides which volumes the dump counts as backed up (DataVolume's backup check): '' or '/' would
 * contain every mount path, so a volume of plain files passed synth as covered by a dump that never reads it.
 */
const dataDirectory = withFix(DATA_DIRECTORY_FIX, (at, prop, value) => {
  const path = requireString(at, prop, value, DATA_DIRECTORY_FIX);
  if (!DATA_DIRECTORY.test(path)) {
    fail(at, prop, path, 'a data directory is an absolute path below the root, without spaces, "." or ".." parts or a trailing "/" '
      + '(the root, or a relative path, would count every volume of the machine as backed up by this dump)', DATA_DIRECTORY_FIX);
  }
});

const DUMP_OPTIONS: Schema<PostgresDumpOptions> = {
  dataDirectory: is.optional(dataDirectory),
  osUser: is.optional(is.text("use the operating-system user, such as 'postgres'")),
  port: is.optional(onePortProp('PostgreSQL listens on', 'use a port such as 5432 or Port.of(5432)')),
  version: is.optional(is.instance(PostgresVersion, 'use PostgresVersion.of(15), or the database\'s dump()')),
};

/**
 * The PostgreSQL databases a machine's backup dumps: `pg_dump -Fc` per database, with row
 * counts and checksums taken in the same snapshot, plus the roles (`pg_dumpall --globals-only`,
 * without password hashes).
 */
export class PostgresDump {
  /** No database on the machine: only file paths are backed up. */
  public static readonly NONE = new PostgresDump(undefined, {}, false);

  /** Every database that accepts connections, except the templates; new databases are covered without a change. */
  public static allDatabases(options: PostgresDumpOptions = {}): PostgresDump {
    // The options checked are the options built from (a getter answered the check with 5432 and the dump with a range).
    options = checkOptions<PostgresDumpOptions>('PostgresDump.allDatabases', 'options', options, DUMP_OPTIONS, orNothing('pass { port: 5432 }')) ?? {};
    return new PostgresDump(undefined, options, true);
  }

  /** Only the named databases. */
  public static databases(names: string[], options: PostgresDumpOptions = {}): PostgresDump {
    // Copied first and kept: the caller's list, edited after the check, was the dump's list ('../etc' dumped unchecked).
    names = frozenSnapshot(names) as string[];
    requireArray('PostgresDump', 'databases', names, "name the databases, such as ['app']", (n, prop) => requireString('PostgresDump', prop, n, 'name the database, such as "app"'));
    options = checkOptions<PostgresDumpOptions>('PostgresDump.databases', 'options', options, DUMP_OPTIONS, orNothing('pass { port: 5432 }')) ?? {};
    if (names.length === 0) throw new ValidationError('PostgresDump.databases: [] is not allowed: it dumps nothing. Fix: name the databases, or use PostgresDump.allDatabases().');
    const bad = names.find((n) => !NAME.test(n));
    if (bad !== undefined) {
      throw new ValidationError(`PostgresDump.databases: '${bad}' is not allowed: dump files carry only letters, digits, "_", "." and "-", starting with a letter, a digit or "_", at most 63 bytes. Fix: rename the database or dump it some other way.`);
    }
    // Names as PostgreSQL compares them: 'App' and 'app' are two databases. A name listed twice was dumped twice into
    // one dump, whose manifest then named it twice, which the drill and backup-restore refuse (check_manifest).
    const again = names.findIndex((n, i) => names.indexOf(n) !== i);
    if (again !== -1) {
      fail('PostgresDump', `databases[${again}]`, names[again], `the database is already listed (as databases[${names.indexOf(names[again])}]), `
        + 'and a dump that names a database twice holds it twice, which the restore drill and backup-restore refuse as a tampered manifest', 'list each database once');
    }
    return new PostgresDump(names, options, true);
  }

  /** Where the cluster keeps its data: a volume mounted there (or below) counts as covered by the dump. */
  public readonly dataDirectory: string;
  /** The OS user the dump connects as, over the Unix socket (peer authentication). */
  public readonly osUser: string;
  /** The port of the cluster (its Unix socket's number): one port, such as `Port.of(5432)` (`port.from` is its number). */
  public readonly port: Port;
  /** The server's major, whose client programs the jobs run; undefined: Debian's pg_wrapper picks them. */
  public readonly version?: PostgresVersion;

  private constructor(
    /** The databases, or `undefined` for all. */
    public readonly databaseNames: readonly string[] | undefined,
    options: PostgresDumpOptions,
    /** False for `PostgresDump.NONE`. */
    public readonly enabled: boolean,
  ) {
    this.dataDirectory = options.dataDirectory ?? '/var/lib/postgresql';
    this.osUser = options.osUser ?? 'postgres';
    // Checked by the factories (onePortProp): a Port of one port, or a port's number. Read once.
    const port = options.port;
    this.port = port instanceof Port ? port : Port.of(port ?? 5432);
    this.version = options.version;
  }

  /**
   * The port of the cluster, as a number.
   * @deprecated use `port`, a `Port` since 0.2.0 (`port.from` is this number)
   */
  public get portNumber(): number {
    return this.port.from;
  }

  /** What is dumped, such as `PostgreSQL databases app, analytics` or `every PostgreSQL database`. */
  public toString(): string {
    if (!this.enabled) return 'no database';
    return this.databaseNames ? `PostgreSQL databases ${this.databaseNames.join(', ')}` : 'every PostgreSQL database';
  }
}
