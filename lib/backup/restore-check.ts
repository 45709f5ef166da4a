import { ValidationError } from '../core/validation-message';

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
const DATABASE = /^[A-Za-z0-9_.-]+$/;

/**
 * A verification query the team supplies for the restore drill, on top of the row counts and
 * checksums the drill always compares. It states what "the data is usable" means for the product.
 */
export class RestoreCheck {
  public static sql(name: string, options: SqlCheckOptions): RestoreCheck {
    if (!NAME.test(name)) {
      throw new ValidationError(`RestoreCheck.sql: '${name}' is not allowed: a check name is lowercase letters, digits and "-". Fix: use a name such as "recent-invoices".`);
    }
    if (!DATABASE.test(options.database)) {
      throw new ValidationError(`RestoreCheck.sql(${name}).database: '${options.database}' is not allowed: dumps carry only letters, digits, "_", "." and "-". Fix: name the database as production does, such as "app".`);
    }
    const query = options.query.trim();
    if (query === '') {
      throw new ValidationError(`RestoreCheck.sql(${name}).query: '' is not allowed: an empty query verifies nothing. Fix: pass a query that returns true, such as "SELECT count(*) > 0 FROM users".`);
    }
    return new RestoreCheck(name, options.database, query);
  }

  private constructor(
    public readonly name: string,
    public readonly database: string,
    public readonly query: string,
  ) {}

  /** The file the drill runs: the database in a header comment, then the query. */
  public renderFile(): string {
    return `-- database: ${this.database}\n-- check: ${this.name}\n${this.query}${this.query.endsWith(';') ? '' : ';'}\n`;
  }
}
