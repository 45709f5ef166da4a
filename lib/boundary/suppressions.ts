import { IConstruct } from 'constructs';
import { TerraformStack } from 'cdktf';
import { quote, ValidationError } from '../core/validation-message';
import { suppressionCoverage } from './private/suppression-coverage';
import { BOUNDARY_RULES } from './rules';
import { checkProps, fail, is, optionalArray, propNames, refuseUnknownProps, requireArray, requireProps } from '../core/runtime-checks';
import { isReason, MIN_DIFFERENT_REASON_LETTERS } from '../core/reason';

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


const suppressions = new WeakMap<IConstruct, BoundarySuppression[]>();

/**
 * Suppressions of boundary rules, cdk-nag style. A suppression applies to the construct and
 * everything below it, needs a known rule id and a real reason, is listed in the boundary
 * document, and is itself an error when it suppresses nothing.
 */
export class BoundarySuppressions {
  /** Accepts findings of the named rules on `scope` (a stack or a construct in one) and everything below it, each with a reason the boundary document lists. */
  public static add(scope: IConstruct, entries: BoundarySuppression[]): void {
    const at = `${scope?.node?.path ?? 'BoundarySuppressions'}.suppressions`;
    // Each entry is read once, into a frozen copy that is checked and kept: a getter (from JavaScript)
    // could otherwise answer the checks with a real reason and the boundary document with another.
    const copies = requireArray(at, 'entries', entries, "list suppressions such as [{ id: 'Boundary-EuPlacement', reason: '…' }]", (e, prop) => {
      const fix = `write ${prop} as { id: 'Boundary-EuPlacement', reason: '…' }`;
      requireProps(at, e, fix, prop);
      // A plain object is read whole, once (its unknown keys are refused from the copy); an instance by its two fields.
      const read: Record<string, unknown> = Object.getPrototypeOf(e) === Object.prototype
        ? Object.fromEntries(Object.entries(e as object))
        : { id: (e as BoundarySuppression).id, reason: (e as BoundarySuppression).reason, appliesTo: (e as BoundarySuppression).appliesTo };
      refuseUnknownProps(at, prop, read, propNames<BoundarySuppression>({ id: true, reason: true, appliesTo: true }));
      // null (from JavaScript) is refused, never read as left out: that would widen the suppression to every finding of the rule.
      const appliesTo = optionalArray(at, `${prop}.appliesTo`, read.appliesTo, "list what it covers, such as ['TCP 587']; left out, the suppression covers every finding of the rule", (t, tProp) => {
        if (typeof t !== 'string' || t.trim() === '') fail(at, tProp, t, 'it does not name what a finding is about', "write it as the finding names it, such as 'TCP 587'");
        return t as string;
      });
      if (appliesTo?.length === 0) {
        throw new ValidationError(`${at}.${prop}.appliesTo: [] is not allowed: a suppression that covers nothing is no exception. Fix: name what it covers, such as ['TCP 587'], or leave appliesTo out to cover every finding of the rule`);
      }
      return Object.freeze(checkProps<BoundarySuppression>(at, { id: read.id as string, reason: read.reason as string, ...(appliesTo ? { appliesTo: Object.freeze(appliesTo) } : {}) }, {
        id: is.text("use a rule id such as 'Boundary-EuPlacement'"),
        reason: is.text('say why the finding is acceptable, in at least 20 characters'),
        appliesTo: is.checkedLater(), // above, element by element
      }, fix));
    });
    // Findings and the boundary document are per stack; a suppression above every stack would
    // silence the rule in all of them while no stack's document listed it.
    if (!scope.node.scopes.some((c) => TerraformStack.isStack(c))) {
      const where = scope.node.path || 'App';
      throw new ValidationError(`${where}.suppressions: ${quote(copies.map((e) => e.id).join(', '))} is not allowed: ${where === 'App' ? 'the App' : `'${where}'`} is above every stack, `
        + 'so the suppression would apply to every stack below it while no stack\'s boundary document lists it. '
        + 'Fix: add it to the stack, or to the construct the finding is on, such as BoundarySuppressions.add(stack, [...])');
    }
    const placed = [...(suppressions.get(scope) ?? [])];
    for (const entry of copies) {
      const rule = BOUNDARY_RULES.find((r) => r.id === entry.id);
      if (!rule) {
        throw new ValidationError(`${scope.node.path}.suppressions: '${entry.id}' is not allowed: it is not a boundary rule. Fix: use one of ${BOUNDARY_RULES.map((r) => r.id).join(', ')}`);
      }
      // appliesTo names what a finding is about: a rule whose findings name nothing would leave it matching no finding.
      if (entry.appliesTo && rule.targets === undefined) {
        throw new ValidationError(`${scope.node.path}.suppressions: '${entry.id}' appliesTo ${quote(entry.appliesTo.join(', '))} is not allowed: ${entry.id}'s findings name nothing appliesTo can match. `
          + 'Fix: leave appliesTo out; the suppression then covers every finding of the rule on the construct and below it');
      }
      // Two of one rule on one construct: the first found covers the findings both name, and the other was refused later as matching none.
      const twin = placed.find((p) => p.id === entry.id && (!p.appliesTo || !entry.appliesTo || p.appliesTo.some((t) => entry.appliesTo!.includes(t))));
      if (twin) {
        throw new ValidationError(`${scope.node.path}.suppressions: '${entry.id}' (${suppressionCoverage(entry)}, reason ${quote(entry.reason)}) is not allowed: `
          + `${scope.node.path} has a suppression of '${entry.id}' covering the same findings already (${suppressionCoverage(twin)}, reason ${quote(twin.reason)}), so one of them would match no finding. `
          + 'Fix: keep one suppression of the rule on the construct (list every port it covers in its appliesTo), or give each its own appliesTo entries');
      }
      placed.push(entry);
      // Letters, not characters: twenty spaces, dots or zero-width characters say nothing to an auditor,
      // nor does one letter or word repeated ('xxxxxxxxxxxxxxxxxxxx', 'TODO TODO TODO TODO TODO').
      if (!isReason(entry.reason)) {
        throw new ValidationError(`${scope.node.path}.suppressions: '${entry.id}' is not allowed: a suppression needs a specific reason of at least 20 characters (letters, at least ${MIN_DIFFERENT_REASON_LETTERS} different ones; spaces, punctuation and invisible characters do not count). Fix: say why the exception is safe here`);
      }
    }
    // The checked copies: the caller's objects stay editable from JavaScript after this check.
    suppressions.set(scope, [...(suppressions.get(scope) ?? []), ...copies]);
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
    return [...scope.node.scopes].reverse().flatMap((owner) => {
      const suppression = suppressions.get(owner)?.find((s) => s.id === ruleId && (s.appliesTo === undefined || (target !== undefined && s.appliesTo.includes(target))));
      return suppression ? [{ owner, suppression }] : [];
    });
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
    return scope.node.findAll().flatMap((c) => (suppressions.get(c) ?? []).map((suppression) => ({ path: c.node.path, suppression })));
  }
}
