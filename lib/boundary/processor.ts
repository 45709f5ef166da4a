import { Token } from 'cdktf';
import { fail, optionalString, propNames, refuseUnknownProps, requireArray, requireProps, requireString } from '../core/runtime-checks';
import { EU_COUNTRIES } from './eu-countries';
import { ADDRESS_ENDING, HOST_NAME_RULE, isHostName } from './private/host-name';

/** Why a hostname is invalid for the egress allowlist, or `undefined`. */
export function hostnameProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'a hostname is text, such as api.mistral.ai';
  // Where a literal is needed (a processor, the policy's extra hosts): the policy is judged and published at synth.
  if (Token.isUnresolved(value)) {
    return 'the boundary policy is judged and published at synth, so it names its hosts as text, not as a value known only later';
  }
  // A top-level domain is never all digits: '203.0.113.7' is an address, which names no company in
  // the boundary document and which the allowlist (it resolves names) cannot look up.
  if (new RegExp(ADDRESS_ENDING).test(value)) return 'an IP address is not a hostname: the allowlist resolves DNS names, and the boundary document must name who is reached';
  // The rule Terraform holds a host derived from a secret URL to (urlHostPrecondition), so neither accepts what the other refuses.
  return isHostName(value) ? undefined
    : `a hostname is ${HOST_NAME_RULE}, without a trailing dot or a port, such as api.mistral.ai (no scheme or path)`;
}

/** Processors this module's constructor built and checked. */
const checked = new WeakSet<object>();

/**
 * Whether `value` is a processor the constructor built and checked, and exactly a `Processor`: not a
 * copy made with `Object.create` and frozen, which skipped every check, nor an instance of a
 * subclass, whose getters (`inEu`, `key`) or `equals` could change how the policy judges it.
 */
export function isCheckedProcessor(value: unknown): value is Processor {
  return value instanceof Processor && checked.has(value) && Object.getPrototypeOf(value) === Processor.prototype;
}

/** Where a processor is legally established. */
export interface LegalSeat {
  /** The city of the company's registered seat. */
  readonly city: string;
  /** ISO 3166-1 alpha-2 country code, such as `FR`. */
  readonly country: string;
}

/** Who a processor is: its name, its legal seat and the hostnames workloads call. */
export interface ProcessorProps {
  /** The processor's name, as in the data processing agreement. */
  readonly name: string;
  /** Its legal seat; decides whether it is an EU processor. */
  readonly legalSeat: LegalSeat;
  /**
   * The API hostnames workloads call; they become the host-level egress allowlist. Written as text:
   * a token (a `Lazy`, a variable) is refused, since the policy is judged and published at synth.
   */
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
 *
 * Build it with `new Processor({ … })` or a catalogue entry; do not subclass it: a policy and a data
 * flow refuse an instance of a subclass (its getters could change how it is judged). A team's own
 * catalogue is a function returning `new Processor({ … })`.
 */
export class Processor {
  /** Mistral AI SAS, Paris: chat and embedding models. */
  public static mistralAi(purpose?: string): Processor {
    optionalString('Processor.mistralAi', 'purpose', purpose, "say what it is used for, such as 'chat completions'");
    return new Processor({
      name: 'Mistral AI', legalSeat: { city: 'Paris', country: 'FR' }, hostnames: ['api.mistral.ai'],
      purpose: purpose ?? 'LLM and embedding API',
    });
  }

  /** Jina AI GmbH, Berlin: embeddings and rerankers. */
  public static jinaAi(purpose?: string): Processor {
    optionalString('Processor.jinaAi', 'purpose', purpose, "say what it is used for, such as 'embeddings'");
    return new Processor({
      name: 'Jina AI', legalSeat: { city: 'Berlin', country: 'DE' }, hostnames: ['api.jina.ai'],
      purpose: purpose ?? 'embedding and reranking API',
      note: 'Part of Elastic since 2025: check the current contracting entity and data region in your DPA.',
    });
  }

  /** The company's name. */
  public readonly name: string;
  /** Where the company is seated (decides whether it is in the EU). */
  public readonly legalSeat: LegalSeat | undefined = undefined;
  /** The API hostnames workloads call; they join the egress allowlist. */
  public readonly hostnames: readonly string[];
  /** What the team uses it for, for the boundary document. */
  public readonly purpose?: string;
  /** A note for the boundary document, such as a change of owner to check in the DPA. */
  public readonly note?: string;

  constructor(props: ProcessorProps) {
    const at = `Processor(${typeof props?.name === 'string' ? props.name : '?'})`;
    requireProps(at, props, "pass { name, legalSeat: { city, country }, hostnames }");
    refuseUnknownProps(at, undefined, props, propNames<ProcessorProps>({ name: true, legalSeat: true, hostnames: true, purpose: true, note: true }));
    this.name = requireString(at, 'name', props.name, "name it as in the data processing agreement, such as 'Mistral AI'");
    if (this.name.trim() === '') fail(at, 'name', this.name, 'a processor needs a name', "name it as in the data processing agreement, such as 'Mistral AI'");
    // A missing seat is judged by the policy ("a processor needs a legal seat"); a malformed one fails here.
    if (props.legalSeat !== undefined) {
      const seat = props.legalSeat as unknown;
      if (seat === null || typeof seat !== 'object') fail(at, 'legalSeat', seat, 'a legal seat is a city and a country', "write { city: 'Paris', country: 'FR' }");
      refuseUnknownProps(at, 'legalSeat', seat, propNames<LegalSeat>({ city: true, country: true }));
      const city = requireString(at, 'legalSeat.city', props.legalSeat.city, "name the city, such as 'Paris'");
      const country = requireString(at, 'legalSeat.country', props.legalSeat.country, "use the ISO 3166-1 alpha-2 code, such as 'FR'");
      if (!/^[A-Z]{2}$/.test(country)) {
        // A token's placeholder ('${TfToken[…]}') would give a fix of '${'.
        const suggestion = Token.isUnresolved(country) ? 'FR' : country.trim().toUpperCase().slice(0, 2) || 'FR';
        fail(at, 'legalSeat.country', country, 'a country is an ISO 3166-1 alpha-2 code in capitals, written as text: the seat decides at synth whether the processor is in the EU', `write it as '${suggestion}'`);
      }
      this.legalSeat = { city, country };
    }
    this.hostnames = requireArray(at, 'hostnames', props.hostnames, "list the API hostnames workloads call, such as ['api.mistral.ai']", (h, prop) => {
      const problem = hostnameProblem(h);
      if (problem) fail(at, prop, h, problem, "write only the host, such as 'api.mistral.ai'");
      return h as string;
    });
    this.purpose = optionalString(at, 'purpose', props.purpose, "say what it is for, such as 'LLM API'");
    this.note = optionalString(at, 'note', props.note, 'write the note as text');
    // Checked here, once: frozen, so that no later edit from JavaScript (a US seat, another
    // hostname) changes a processor a policy has already judged and the allowlist trusts.
    if (this.legalSeat) Object.freeze(this.legalSeat);
    Object.freeze(this.hostnames);
    Object.freeze(this);
    checked.add(this);
  }

  /**
   * Whether `other` is the same processor: the same name, legal seat and hostnames. Processors are
   * values, so `Processor.mistralAi()` called twice is one processor (purpose and note do not count).
   */
  public equals(other: unknown): boolean {
    return other instanceof Processor && other.key === this.key;
  }

  /** What identifies the processor, for comparisons and maps. */
  public get key(): string {
    return JSON.stringify([this.name.trim(), this.legalSeat?.city.trim() ?? null, this.legalSeat?.country ?? null, [...this.hostnames].sort()]);
  }

  /** Whether the legal seat is in an EU member state. */
  public get inEu(): boolean {
    return this.legalSeat !== undefined && EU_COUNTRIES.has(this.legalSeat.country);
  }

  /** Its name and seat, such as `Mistral AI (Paris, FR)`. */
  public toString(): string {
    return this.name;
  }
}
