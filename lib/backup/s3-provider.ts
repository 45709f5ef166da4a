import { EU_COUNTRIES } from '../boundary/eu-countries';
import { fail, requireString } from '../core/runtime-checks';

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
    // The name is what the boundary document and the messages show, and what tells a Hetzner endpoint apart.
    if (name.trim() === '') fail('S3Provider.of', 'name', name, 'the provider needs a name', "name the company, such as 'Acme Storage'");
    requireString(`S3Provider.of(${name})`, 'country', country, "write the country of its headquarters as ISO 3166, such as 'NL'");
    // '' or 'France' was judged "not in the EU" at the plan, which sent the reader looking for another provider.
    if (!/^[A-Za-z]{2}$/.test(country.trim())) {
      fail(`S3Provider.of(${name})`, 'country', country, 'a country is an ISO 3166-1 alpha-2 code, and the provider is judged in or outside the EU by it',
        "write the two letters of its headquarters' country, such as 'NL' or 'FR'");
    }
    return new S3Provider(name, country.trim().toUpperCase());
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
