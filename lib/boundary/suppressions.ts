import { IConstruct } from 'constructs';
import { SuppressionRegistry } from '../core/private/suppression-registry';
import { BOUNDARY_RULES } from './rules';

/** A deliberate exception to one boundary rule, with the reason it is safe. */
export interface BoundarySuppression {
  /** The rule id, such as `Boundary-RestrictedEgress`. */
  readonly id: string;
  /** Why it is safe here: at least 20 characters, specific enough for an auditor. */
  readonly reason: string;
  /**
   * The findings it covers, by what they are about, as the rule's message names it (cdk-nag's `appliesTo`): for
   * `Boundary-PortToEveryHost`, the ports, such as `['TCP 587']`. A finding of the rule about anything else (a port
   * opened later) is reported again; an entry that matches no finding is refused, as an unused suppression is.
   * @default - every finding of the rule on the construct and below it, later ones included
   */
  readonly appliesTo?: readonly string[];
}

/** A suppression and the construct it was added to. */
export interface PlacedSuppression extends BoundarySuppression {
  /** The construct path the suppression was placed on. */
  readonly path: string;
}


/**
 * Where boundary suppressions are kept, and how each is checked (the same way as every suppression of the library).
 * @internal
 */
export const boundarySuppressionRegistry = new SuppressionRegistry(() => BOUNDARY_RULES, {
  className: 'BoundarySuppressions', exampleId: 'Boundary-EuPlacement', ruleKind: 'a boundary rule',
  aboveEveryStack: "so the suppression would apply to every stack below it while no stack's boundary document lists it",
  appliedShownBy: 'the boundary document lists',
  rule: 'rule', finding: 'finding', unusedFix: 'the boundary document lists only real exceptions',
});

/**
 * Suppressions of boundary rules, cdk-nag style. A suppression applies to the construct and
 * everything below it, needs a known rule id and a real reason, is listed in the boundary
 * document, and is itself an error when it suppresses nothing.
 */
export class BoundarySuppressions {
  /** Accepts findings of the named rules on `scope` (a stack or a construct in one) and everything below it, each with a reason the boundary document lists. */
  public static add(scope: IConstruct, entries: BoundarySuppression[]): void {
    boundarySuppressionRegistry.add(scope, entries);
  }

  /**
   * The suppression of `ruleId` that applies to `scope` (on it or an ancestor), if any, with where it was placed: for a
   * finding about `target` (`Finding.target`), one whose `appliesTo` names it or that has none.
   */
  public static find(scope: IConstruct, ruleId: string, target?: string): {
    /** Where it was placed. */
    owner: IConstruct;
    /** The suppression. */
    suppression: BoundarySuppression;
  } | undefined {
    return BoundarySuppressions.covering(scope, ruleId, target)[0];
  }

  /**
   * Every suppression of `ruleId` that covers a finding about `target` at `scope`, nearest first: the first is the one
   * that applies (see `find`), the others are shadowed by it there. At most one per construct (`add` refuses a second).
   * @internal
   */
  public static covering(scope: IConstruct, ruleId: string, target?: string): Array<{ owner: IConstruct; suppression: BoundarySuppression }> {
    return boundarySuppressionRegistry.covering(scope, ruleId, target);
  }

  /** Every suppression placed on `scope` or below it. */
  public static placedIn(scope: IConstruct): PlacedSuppression[] {
    return BoundarySuppressions.keptIn(scope).map(({ path, suppression }) => ({ ...suppression, path }));
  }

  /**
   * Every suppression placed on `scope` or below it, as it was kept (the same object `find` returns), with where.
   * @internal
   */
  public static keptIn(scope: IConstruct): Array<{ readonly path: string; readonly suppression: BoundarySuppression }> {
    return boundarySuppressionRegistry.keptIn(scope);
  }
}
