/**
 * The three environments of the operating model: "test runs all the time, staging
 * exists on demand before releases, production stays stable and boring".
 *
 * What an environment is decides how its resources are protected: production is
 * guarded against accidental loss, test and staging are cheap to rebuild.
 */
export class Environment {
  /** Always on: migrations, releases and restore drills run here continuously. */
  public static readonly TEST = new Environment('test', { alwaysOn: true, protectedFromLoss: false });
  /** On demand before a release, then torn down. */
  public static readonly STAGING = new Environment('staging', { alwaysOn: false, protectedFromLoss: false });
  /** Stable and boring: delete-protected, backed up, never replaced by an edit. */
  public static readonly PRODUCTION = new Environment('production', { alwaysOn: true, protectedFromLoss: true });

  /** Every environment: test, staging and production. */
  public static all(): Environment[] {
    return [Environment.TEST, Environment.STAGING, Environment.PRODUCTION];
  }

  /** Whether resources of this environment carry delete protection, `prevent_destroy` and backups. */
  public readonly protectedFromLoss: boolean;
  /** Whether the environment runs permanently (false: it exists on demand). */
  public readonly alwaysOn: boolean;

  private constructor(
    /** The name used in labels and resource names. */
    public readonly name: string,
    traits: { alwaysOn: boolean; protectedFromLoss: boolean },
  ) {
    this.alwaysOn = traits.alwaysOn;
    this.protectedFromLoss = traits.protectedFromLoss;
  }

  /** The name, such as `production`. */
  public toString(): string {
    return this.name;
  }
}
