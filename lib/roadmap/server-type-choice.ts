import { requireInstance } from '../core/runtime-checks';
import { missingValue, ValidationError } from '../core/validation-message';
import { ServerType } from '../hetzner/server-type';

/**
 * An ordered list of server types for one role: the first that Hetzner can deliver wins.
 *
 * Cost-optimized types (CX, CAX) are often sold out in the EU, so a preset never bets on one
 * type. Terraform cannot retry with another type by itself; the team lists what is sold out
 * (for example from a failed apply's `resource_unavailable`) and synth picks the next.
 */
export class ServerTypeChoice {
  /** The server types, in order of preference: the first offered in a location is used. */
  public static of(...types: ServerType[]): ServerTypeChoice {
    const fix = 'pass the preferred type first, then its fallbacks, such as ServerTypeChoice.of(ServerType.CX33, ServerType.CPX32)';
    if (types.length === 0) throw new ValidationError(missingValue('ServerTypeChoice.of', 'types', 'at least one server type is needed', fix));
    types.forEach((t, i) => requireInstance('ServerTypeChoice.of', `types[${i}]`, t, ServerType, fix));
    return new ServerTypeChoice(types);
  }

  private constructor(
    /** The server types, in order of preference. */
    public readonly types: readonly ServerType[],
  ) {}

  /** The preferred type. */
  public get preferred(): ServerType {
    return this.types[0];
  }

  /**
   * The first type not listed as unavailable.
   * @returns `undefined` when every type is unavailable
   */
  public pick(unavailable: ReadonlySet<string> = new Set()): ServerType | undefined {
    return this.types.find((t) => !unavailable.has(t.name));
  }

  /** The types in order, such as `cx33 → cpx32`. */
  public toString(): string {
    return this.types.map((t) => t.name).join(' → ');
  }
}
