import { EU_COUNTRIES } from '../boundary/eu-countries';
import { requireString } from '../core/runtime-checks';

/**
 * The company behind an S3-compatible offsite target. An offsite copy exists to survive the loss
 * of Hetzner, so it must be another company; it holds the same data as production, so that
 * company must be in the EU (and its bucket in an EU region).
 */
export class S3Provider {
  /** IONOS SE, Montabaur, Germany. */
  public static readonly IONOS = new S3Provider('IONOS', 'DE');
  /** Scaleway SAS, Paris, France. */
  public static readonly SCALEWAY = new S3Provider('Scaleway', 'FR');
  /** OVH Groupe SA, Roubaix, France. */
  public static readonly OVHCLOUD = new S3Provider('OVHcloud', 'FR');

  /** Another provider, named with the country of its headquarters (ISO 3166, such as `NL`). */
  public static of(name: string, country: string): S3Provider {
    requireString('S3Provider.of', 'name', name, "name the company, such as 'Acme Storage'");
    requireString(`S3Provider.of(${name})`, 'country', country, "write the country of its headquarters as ISO 3166, such as 'NL'");
    return new S3Provider(name, country.toUpperCase());
  }

  private constructor(
    /** The company's name, such as `Scaleway`. */
    public readonly name: string,
    /** Country of the headquarters. */
    public readonly country: string,
  ) {}

  /** Whether the company is headquartered in an EU member state. */
  public get inEu(): boolean {
    return EU_COUNTRIES.has(this.country);
  }

  /** Whether this is Hetzner itself, which an offsite copy must not be. */
  public get isHetzner(): boolean {
    return /hetzner/i.test(this.name);
  }

  /** The name and country, such as `Scaleway (FR)`. */
  public toString(): string {
    return `${this.name} (${this.country})`;
  }
}
