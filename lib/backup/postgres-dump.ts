import { ValidationError } from '../core/validation-message';

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
   * The cluster's port.
   * @default 5432
   */
  readonly port?: number;
}

const NAME = /^[A-Za-z0-9_.-]+$/;

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
    return new PostgresDump(undefined, options, true);
  }

  /** Only the named databases. */
  public static databases(names: string[], options: PostgresDumpOptions = {}): PostgresDump {
    if (names.length === 0) throw new ValidationError('PostgresDump.databases: [] is not allowed: it dumps nothing. Fix: name the databases, or use PostgresDump.allDatabases().');
    const bad = names.find((n) => !NAME.test(n));
    if (bad !== undefined) {
      throw new ValidationError(`PostgresDump.databases: '${bad}' is not allowed: dump files carry only letters, digits, "_", "." and "-". Fix: rename the database or dump it some other way.`);
    }
    return new PostgresDump(names, options, true);
  }

  public readonly dataDirectory: string;
  public readonly osUser: string;
  public readonly port: number;

  private constructor(
    /** The databases, or `undefined` for all. */
    public readonly databaseNames: readonly string[] | undefined,
    options: PostgresDumpOptions,
    /** False for `PostgresDump.NONE`. */
    public readonly enabled: boolean,
  ) {
    this.dataDirectory = options.dataDirectory ?? '/var/lib/postgresql';
    this.osUser = options.osUser ?? 'postgres';
    this.port = options.port ?? 5432;
  }

  public toString(): string {
    if (!this.enabled) return 'no database';
    return this.databaseNames ? `PostgreSQL databases ${this.databaseNames.join(', ')}` : 'every PostgreSQL database';
  }
}
