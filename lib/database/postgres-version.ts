import { Token } from 'cdktf';
import { requireInstance } from '../core/runtime-checks';
import { invalidValue, ValidationError } from '../core/validation-message';

/** The image the library's machines run unless told otherwise (see `MachineProps.image`). */
export const DEFAULT_IMAGE = 'debian-12';

// The PostgreSQL major each image's own archive ships: the server comes from the distribution, so
// security updates arrive with the OS's, and every machine built from one image runs one major.
const MAJOR_BY_IMAGE: Readonly<Record<string, number>> = {
  'debian-12': 15,
  'debian-13': 17,
  'ubuntu-22.04': 14,
  'ubuntu-24.04': 16,
};

/**
 * A PostgreSQL major version as the OS image packages it: `postgresql-<major>`, its binaries under
 * `/usr/lib/postgresql/<major>/bin` and its Debian cluster `<major>/main`.
 *
 * The major is pinned per image, never "latest": a restore drill restores into the test machine's
 * server, and a dump taken by a newer major does not restore into an older one.
 */
export class PostgresVersion {
  /** Debian 12 (bookworm): PostgreSQL 15. */
  public static readonly V15 = new PostgresVersion(15);

  /**
   * The major the image ships. An image given as a Terraform reference (a snapshot ID, as staging
   * uses) is built from a machine of the default image, so it carries that image's major.
   * Throws for an image the library does not know.
   */
  public static forImage(image: string = DEFAULT_IMAGE): PostgresVersion {
    if (Token.isUnresolved(image)) return PostgresVersion.forImage(DEFAULT_IMAGE);
    const shipped = PostgresVersion.shippedBy(image);
    if (shipped === undefined) {
      throw new ValidationError(`PostgresVersion.forImage: '${image}' is not allowed: the library knows which PostgreSQL major only these images ship: `
        + `${Object.entries(MAJOR_BY_IMAGE).map(([i, m]) => `${i} (${m})`).join(', ')}. Fix: use one of these images, or pass the major the image ships explicitly.`);
    }
    return shipped;
  }

  /**
   * The major an image's own archive ships, or undefined for an image the library does not know or one given as a
   * Terraform reference (a snapshot ID, whose image only the deploy knows).
   */
  public static shippedBy(image: string): PostgresVersion | undefined {
    if (Token.isUnresolved(image)) return undefined;
    const major = MAJOR_BY_IMAGE[image];
    return major === undefined ? undefined : PostgresVersion.of(major);
  }

  /** A major by number (10 or later). */
  public static of(major: number): PostgresVersion {
    if (!Number.isInteger(major) || major < 10 || major > 99) {
      throw new ValidationError(invalidValue('PostgresVersion.of', 'major', major, 'a PostgreSQL major is a whole number from 10 on', 'pass the major, such as 15'));
    }
    return major === 15 ? PostgresVersion.V15 : new PostgresVersion(major);
  }

  private constructor(
    /** The major version, such as 15. */
    public readonly major: number,
  ) {}

  /** The Debian server package. */
  public get serverPackage(): string {
    return `postgresql-${this.major}`;
  }

  /** The Debian client package of the same major. */
  public get clientPackage(): string {
    return `postgresql-client-${this.major}`;
  }

  /** Where the server binaries live. */
  public get binDirectory(): string {
    return `/usr/lib/postgresql/${this.major}/bin`;
  }

  /** The configuration directory of the Debian cluster `main`. */
  public get configDirectory(): string {
    return `/etc/postgresql/${this.major}/main`;
  }

  /** Where Debian's package creates the `main` cluster. */
  public get packageDataDirectory(): string {
    return `/var/lib/postgresql/${this.major}/main`;
  }

  /** The systemd unit of the `main` cluster. */
  public get serviceName(): string {
    return `postgresql@${this.major}-main.service`;
  }

  /** Whether `other` is the same major (versions compare by value: `PostgresVersion.of(15)` equals `V15`). */
  public equals(other: PostgresVersion): boolean {
    // From JavaScript, 15 (the major, not PostgresVersion.of(15)) answered false for every version.
    requireInstance('PostgresVersion.equals', 'other', other, PostgresVersion, 'pass a PostgresVersion, such as PostgresVersion.of(15), not a bare number');
    return this.major === other.major;
  }

  /** The major as people write it, such as `PostgreSQL 15`. */
  public toString(): string {
    return `PostgreSQL ${this.major}`;
  }
}
