import { EU_COUNTRIES } from './eu-countries';

/** Where a processor is legally established. */
export interface LegalSeat {
  readonly city: string;
  /** ISO 3166-1 alpha-2 country code, such as `FR`. */
  readonly country: string;
}

export interface ProcessorProps {
  /** The processor's name, as in the data processing agreement. */
  readonly name: string;
  /** Its legal seat; decides whether it is an EU processor. */
  readonly legalSeat: LegalSeat;
  /** The API hostnames workloads call; they become the host-level egress allowlist. */
  readonly hostnames: string[];
  /**
   * What the team uses it for.
   * @default - not stated
   */
  readonly purpose?: string;
  /**
   * Anything a reader of the boundary document should know (ownership, data regions).
   * @default - none
   */
  readonly note?: string;
}

/**
 * An external processor data may be sent to, such as an EU model API.
 *
 * The catalogue entries carry their public facts; a team still checks its own contract
 * (DPA, data region, retention) and records it in `note`.
 */
export class Processor {
  /** Mistral AI SAS, Paris: chat and embedding models. */
  public static mistralAi(purpose?: string): Processor {
    return new Processor({
      name: 'Mistral AI', legalSeat: { city: 'Paris', country: 'FR' }, hostnames: ['api.mistral.ai'],
      purpose: purpose ?? 'LLM and embedding API',
    });
  }

  /** Jina AI GmbH, Berlin: embeddings and rerankers. */
  public static jinaAi(purpose?: string): Processor {
    return new Processor({
      name: 'Jina AI', legalSeat: { city: 'Berlin', country: 'DE' }, hostnames: ['api.jina.ai'],
      purpose: purpose ?? 'embedding and reranking API',
      note: 'Part of Elastic since 2025: check the current contracting entity and data region in your DPA.',
    });
  }

  public readonly name: string;
  public readonly legalSeat: LegalSeat | undefined;
  public readonly hostnames: readonly string[];
  public readonly purpose?: string;
  public readonly note?: string;

  constructor(props: ProcessorProps) {
    this.name = props.name;
    this.legalSeat = props.legalSeat;
    this.hostnames = [...(props.hostnames ?? [])];
    this.purpose = props.purpose;
    this.note = props.note;
  }

  /** Whether the legal seat is in an EU member state. */
  public get inEu(): boolean {
    return this.legalSeat !== undefined && EU_COUNTRIES.has(this.legalSeat.country);
  }

  public toString(): string {
    return this.name;
  }
}
