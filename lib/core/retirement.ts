import { IConstruct } from 'constructs';
import { Annotations, TerraformStack } from 'cdktf';
import { invalidValue, ValidationError } from './validation-message';
import { optionalBoolean, propNames, refuseUnknownProps } from './runtime-checks';
import { isReason, REASON_RULE } from './reason';

/** Why and how an environment is retired. */
export interface RetirementOptions {
  /** Why the environment goes, for the plan's reader and the warning synth prints (at least 20 letters, 8 of them different). */
  readonly reason: string;
  /**
   * Lift the protection of the backups' Storage Box too, so that `cdktf destroy` deletes the backups.
   * @default false - the backups outlive the environment; keep them until their retention runs out
   */
  readonly includeBackups?: boolean;
}

const CONTEXT_KEY = 'cdktf-sovereign-hetzner:retiring';
/**
 * Marks a retirement that `declare` recorded. Node context also comes from outside the code (cdktf.json's
 * "context", the CDKTF_CONTEXT_JSON variable), and a value under the key there lifted every production
 * protection below the app with no reason checked and no warning; JSON cannot carry a symbol.
 */
const DECLARED = Symbol.for('cdktf-sovereign-hetzner/Retirement.declared');

/**
 * The first of the two deliberate steps that retire a protected environment: while declared on a
 * stack, its resources drop their delete protection and `prevent_destroy` (deploy that: the plan shows
 * only protections going off), so that the second step, `cdktf destroy`, can delete them. What would
 * replace a server (`ignore_changes`) stays, and so does the backups' protection unless included.
 *
 * A fact on the construct tree (node context), read by every construct below the scope.
 */
export class Retirement {
  /** Declares `scope` (a stack) retiring. Declare it before the stack's resources are created. */
  public static declare(scope: IConstruct, options: RetirementOptions): void {
    const reason = typeof options?.reason === 'string' ? options.reason.trim() : '';
    // Letters, not characters: 20 dots or zero-width spaces lifted production's delete protection with no reason to read.
    if (!isReason(reason)) {
      throw new ValidationError(invalidValue(scope, 'retire.reason', options?.reason,
        `retiring lifts the protections that keep production from being deleted, so it needs a reason someone can read later (${REASON_RULE})`,
        "say why in a sentence, such as 'Product discontinued; customers migrated to acme-v2 on 2026-12-01'"));
    }
    refuseUnknownProps(scope, 'retire', options, propNames<RetirementOptions>({ reason: true, includeBackups: true }));
    // Left out means false; anything but true or false is a mistake that would keep the backups protected silently.
    optionalBoolean(scope, 'retire.includeBackups', options.includeBackups);
    // One environment at a time: on the App (or a construct grouping stacks) it would retire every production below.
    if (!TerraformStack.isStack(scope)) {
      throw new ValidationError(invalidValue(scope, 'retire', scope.node.path || '(the app)',
        'a retirement is declared on one environment\'s stack, and this is not a stack: it would lift the protections of every stack below it',
        'declare it on the stack that retires (EnvironmentStack and ProductStacks do so with their retire prop)'));
    }
    if (scope.node.children.length > 0) {
      throw new ValidationError(invalidValue(scope, 'retire', reason,
        'the stack already has resources, which were created protected',
        'declare the retirement first, before anything is added to the stack (EnvironmentStack does so with its retire prop)'));
    }
    const record = { reason, includeBackups: options.includeBackups === true };
    Object.defineProperty(record, DECLARED, { value: true });
    scope.node.setContext(CONTEXT_KEY, Object.freeze(record));
    Annotations.of(scope).addWarning(`Environment-Retiring: ${scope.node.path} is retiring (${reason}): its delete protection and prevent_destroy are off`
      + `${options.includeBackups === true ? ', the backups\' Storage Box included' : '; the backups\' Storage Box stays protected'}. `
      // Hetzner deletes a server's own backups with the server; a snapshot outlives it.
      + "Hetzner's daily server backups are deleted with the servers: snapshot each server first (cdktf-sovereign-hetzner snapshot --server <name>) to keep an image. "
      + 'Next: deploy this (protections off), then cdktf destroy. Fix, if this is not meant: remove the retirement and deploy again.');
  }

  /** The retirement that applies to `scope`, if any; one that `declare` did not record is refused. */
  public static of(scope: IConstruct): Required<RetirementOptions> | undefined {
    const retirement: unknown = scope.node.tryGetContext(CONTEXT_KEY);
    if (retirement === undefined) return undefined;
    if (retirement === null || typeof retirement !== 'object' || (retirement as { [DECLARED]?: unknown })[DECLARED] !== true) {
      throw new ValidationError(invalidValue(scope, 'retire', retirement,
        "a retirement lifts production's delete protection and prevent_destroy, and this one was not declared: it came from the app's context "
        + '(cdktf.json "context", the CDKTF_CONTEXT_JSON variable or node.setContext), with no reason checked and no warning',
        `remove the context key '${CONTEXT_KEY}', and retire the environment with its stack's retire prop (EnvironmentStack, ProductStacks)`));
    }
    return retirement as Required<RetirementOptions>;
  }

  /** Whether a resource of an environment that is protected from loss keeps its protections. */
  public static keepsProtection(scope: IConstruct, protectedFromLoss: boolean, options: {
    /**
     * Whether the resource holds backups, which a retirement keeps unless it includes them.
     * @default false
     */
    readonly backups?: boolean;
  } = {}): boolean {
    if (!protectedFromLoss) return false;
    const retirement = Retirement.of(scope);
    if (!retirement) return true;
    return options.backups === true && !retirement.includeBackups;
  }
}
