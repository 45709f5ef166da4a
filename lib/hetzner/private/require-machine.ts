import { IConstruct } from 'constructs';
import { CheckWithFix, withFix } from '../../core/runtime-checks';
import { invalidValue, ValidationError } from '../../core/validation-message';
import { IMachine, Machine } from '../machine';

const MACHINE_FIX = 'pass the Machine itself (an IMachine is implemented by Machine only)';

/**
 * The machine a construct builds on, checked at runtime: an `IMachine` must be a `Machine` (of any
 * copy of the library), so that a look-alike object from JavaScript never skips what `Machine`
 * enforces (protection, SSH exposure, EU placement). `prop` names the prop in the message; `scope`
 * is the construct that takes the machine, or a written-out path for a static method such as
 * `EgressAllowlist.apply`.
 */
export function requireMachine(scope: IConstruct | string, prop: string, value: unknown): IMachine {
  if (!Machine.isMachine(value)) {
    throw new ValidationError(invalidValue(scope, prop, value, 'it is not a machine built with new Machine(…)', MACHINE_FIX));
  }
  return value;
}

/**
 * `requireMachine` as a props schema's check (`checkProps`, `is.list`), at the construct the props are checked for.
 * `fix` is what `is.optional` tells a null: how to pass the machine that prop is for.
 */
export function machineCheck(fix: string = MACHINE_FIX): CheckWithFix {
  return withFix(fix, (at, prop, value) => { requireMachine(at, prop, value); });
}
