import { ValidationError } from '../core/validation-message';
import { checkProps, is, requireString } from '../core/runtime-checks';

/** A verification query of `RestoreCheck.sql`: the database it runs against and the query. */
export interface SqlCheckOptions {
  /** The database (as named in production) the query runs against, after its restore. */
  readonly database: string;
  /**
   * One SQL statement returning one row with one boolean column; the check passes only on `true`.
   * For example `SELECT count(*) > 0 FROM invoices WHERE created_at > now() - interval '2 days'`.
   */
  readonly query: string;
}

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
// The names a dump carries (DB_NAME_RE of the tooling).
const DATABASE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/;

/**
 * A verification query the team supplies for the restore drill, on top of the row counts and
 * checksums the drill always compares. It states what "the data is usable" means for the product.
 */
export class RestoreCheck {
  /**
   * A query that must return `true` on the restored `database`; `name` (lowercase letters, digits and
   * "-") names it in the drill's report and failure pings.
   */
  public static sql(name: string, options: SqlCheckOptions): RestoreCheck {
    requireString('RestoreCheck.sql', 'name', name, 'use a name such as "recent-invoices"');
    // What is checked is what is built from: a frozen snapshot, each field read once (a getter answers once).
    options = checkProps<SqlCheckOptions>(`RestoreCheck.sql(${name})`, options, {
      database: is.text('name the database as production does, such as "app"'),
      query: is.text('pass a query that returns true, such as "SELECT count(*) > 0 FROM users"'),
    }, "pass { database: 'app', query: 'SELECT count(*) > 0 FROM users' }");
    if (!NAME.test(name)) {
      throw new ValidationError(`RestoreCheck.sql: '${name}' is not allowed: a check name is lowercase letters, digits and "-". Fix: use a name such as "recent-invoices".`);
    }
    if (!DATABASE.test(options.database)) {
      throw new ValidationError(`RestoreCheck.sql(${name}).database: '${options.database}' is not allowed: dumps carry only letters, digits, "_", "." and "-", starting with a letter, a digit or "_", at most 63 bytes. Fix: name the database as production does, such as "app".`);
    }
    const query = options.query.trim();
    if (query === '') {
      throw new ValidationError(`RestoreCheck.sql(${name}).query: '' is not allowed: an empty query verifies nothing. Fix: pass a query that returns true, such as "SELECT count(*) > 0 FROM users".`);
    }
    return new RestoreCheck(name, options.database, query);
  }

  private constructor(
    /** The check's name, in the drill's report and failure pings. */
    public readonly name: string,
    /** The database, as named in production, the query runs against after its restore. */
    public readonly database: string,
    /** The SQL query (trimmed), which must return one row with `true`. */
    public readonly query: string,
  ) {}

  /** The file the drill runs: the database in a header comment, then the query. */
  public renderFile(): string {
    return `-- database: ${this.database}\n-- check: ${this.name}\n${this.query}${this.query.endsWith(';') ? '' : ';'}\n`;
  }
}
