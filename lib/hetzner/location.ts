/**
 * A Hetzner Cloud location, with the network zone its private networks live in.
 *
 * The operating model keeps the application and data plane in the EU, so whether
 * a location is in the EU is part of the catalog, not something callers decide.
 *
 * @see https://docs.hetzner.com/cloud/general/locations/
 */
export class Location {
  /** Falkenstein, Germany. */
  public static readonly FSN1 = new Location('fsn1', 'Falkenstein', 'DE', 'eu-central', true);
  /** Nuremberg, Germany. */
  public static readonly NBG1 = new Location('nbg1', 'Nuremberg', 'DE', 'eu-central', true);
  /** Helsinki, Finland. */
  public static readonly HEL1 = new Location('hel1', 'Helsinki', 'FI', 'eu-central', true);
  /** Ashburn, Virginia, USA. Not in the EU. */
  public static readonly ASH = new Location('ash', 'Ashburn, VA', 'US', 'us-east', false);
  /** Hillsboro, Oregon, USA. Not in the EU. */
  public static readonly HIL = new Location('hil', 'Hillsboro, OR', 'US', 'us-west', false);
  /** Singapore. Not in the EU. */
  public static readonly SIN = new Location('sin', 'Singapore', 'SG', 'ap-southeast', false);

  /** Every location in the catalog. */
  public static all(): Location[] {
    return [Location.FSN1, Location.NBG1, Location.HEL1, Location.ASH, Location.HIL, Location.SIN];
  }

  /** The EU locations, in order of preference. */
  public static eu(): Location[] {
    return Location.all().filter((l) => l.inEu);
  }

  /**
   * Looks a location up by its Hetzner name.
   *
   * An unknown name does not throw here: it returns a location whose `isKnown` is
   * false, and the construct that uses it reports the error at synth, with its path.
   */
  public static of(name: string): Location {
    return Location.all().find((l) => l.name === name)
      ?? new Location(name, 'unknown', 'unknown', 'unknown', false, false);
  }

  private constructor(
    /** The API name, such as `fsn1`. */
    public readonly name: string,
    /** The city, such as `Falkenstein`. */
    public readonly city: string,
    /** ISO 3166 country code. */
    public readonly country: string,
    /** The network zone a private subnet in this location must use. */
    public readonly networkZone: string,
    /** Whether the location is inside the EU. */
    public readonly inEu: boolean,
    /** False for a name that is not in the catalog. */
    public readonly isKnown: boolean = true,
  ) {}

  /** The API name, such as `fsn1`. */
  public toString(): string {
    return this.name;
  }
}
