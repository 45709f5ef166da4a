import { IConstruct } from 'constructs';
import { Aspects, IAspect, TerraformStack, TerraformVariable } from 'cdktf';
import { ValidationError } from '../validation-message';

/** A secret as a construct took it: where it came in (construct and prop), and the variable it is. */
interface TakenSecret {
  readonly at: IConstruct;
  readonly prop: string;
  readonly variable: TerraformVariable;
}

/**
 * Re-checks at synth every secret the stack's constructs took. The construction-time check holds for that moment only:
 * a JavaScript caller can set `sensitive` to false afterwards, and cdktf renders the variable as it is at synth.
 *
 * An Aspect, not a validation: cdktf invokes a stack's aspects before anything renders it, also under skipValidation
 * and in `Testing.synth` (which runs no validations by default); a validation would be skipped in both.
 */
class SecretsStillSensitive implements IAspect {
  public readonly taken: TakenSecret[] = [];

  constructor(private readonly stack: TerraformStack, private readonly refuse: (at: IConstruct, prop: string, value: unknown) => void) {}

  public visit(node: IConstruct): void {
    if (node !== this.stack) return;
    const errors: string[] = [];
    for (const { at, prop, variable } of this.taken) {
      try {
        this.refuse(at, prop, variable);
      } catch (e) {
        if (!(e instanceof ValidationError)) throw e;
        errors.push(e.message);
      }
    }
    if (errors.length > 0) throw new ValidationError(errors.join('\n'));
  }
}

const checks = new WeakMap<TerraformStack, SecretsStillSensitive>();

/**
 * Registers a secret `scope` took through `prop`, to be refused again at the synth of its stack unless it is still a
 * sensitive variable. `refuse` is the construction-time check, for one wording (passed in: its module imports this one).
 * Each secret once per place.
 * @internal
 */
export function recheckAtSynth(scope: IConstruct, prop: string, variable: TerraformVariable, refuse: (at: IConstruct, prop: string, value: unknown) => void): void {
  const stack = TerraformStack.of(scope);
  let check = checks.get(stack);
  if (!check) {
    check = new SecretsStillSensitive(stack, refuse);
    checks.set(stack, check);
    Aspects.of(stack).add(check);
  }
  if (!check.taken.some((t) => t.at === scope && t.prop === prop && t.variable === variable)) check.taken.push({ at: scope, prop, variable });
}
