import { Construct, IConstruct } from 'constructs';
import { TerraformStack } from 'cdktf';
import { missingValue, quote, ValidationError } from '../validation-message';
import { suppressionCoverage } from './suppression-coverage';
import { aType, checkProps, fail, is, optionalArray, propNames, refuseUnknownProps, requireArray, requireProps } from '../runtime-checks';
import { isReason, MIN_DIFFERENT_REASON_LETTERS } from '../reason';

/** A deliberate exception to one rule, with the reason it is safe (cdk-nag's shape). */
export interface RuleSuppression {
  readonly id: string;
  readonly reason: string;
  readonly appliesTo?: readonly string[];
}

/** A rule a suppression may name; `targets` set when its findings name what they are about (so `appliesTo` can match). */
export interface SuppressibleRule {
  readonly id: string;
  readonly targets?: unknown;
}

/** What the refusals of one kind of suppression call things. */
export interface SuppressionWording {
  /** The class whose `add` places them, such as `BoundarySuppressions`. */
  readonly className: string;
  /** A rule id to show in a fix, such as `Boundary-EuPlacement`. */
  readonly exampleId: string;
  /** What the rules are, such as `a boundary rule`. */
  readonly ruleKind: string;
  /**
   * What is wrong with a suppression above every stack, as it follows "is above every stack, ": such as `so the
   * suppression would apply to every stack below it while no stack's boundary document lists it`.
   */
  readonly aboveEveryStack: string;
  /**
   * Where the user sees the suppressions that applied, as it follows "the nearer one, which applies there and which ":
   * such as `the boundary document lists`.
   */
  readonly appliedShownBy: string;
  /** What a rule is called in the refusals: `rule`, or `warning`. */
  readonly rule: string;
  /** What one finding of a rule is called in the refusals (`finding`, or `warned resource`), made plural with an s. */
  readonly finding: string;
  /** Why an unused suppression is removed, as it follows "so that": `the boundary document lists only real exceptions`. */
  readonly unusedFix: string;
}

/**
 * What the suppressions of a stack matched while its findings were checked: each finding is taken by the nearest
 * suppression that covers it, and the farther ones are shadowed there. Read by `unusedRefusals`.
 */
export class SuppressionUse {
  /** Each suppression that matched, with what of it matched (an appliesTo entry, or '' for the whole rule). */
  public readonly used = new Map<RuleSuppression, Set<string>>();
  /** What of a suppression a nearer one took, by which ones, with where each was placed. */
  public readonly shadowed = new Map<RuleSuppression, Map<string, Map<RuleSuppression, string>>>();

  /**
   * Records a finding about `target` covered by `covering` (nearest first, as `SuppressionRegistry.covering` returns):
   * the first applies, the others are shadowed by it. Returns the one that applies, if any.
   */
  public take<S extends RuleSuppression>(covering: ReadonlyArray<{ owner: IConstruct; suppression: S }>, target?: string): { owner: IConstruct; suppression: S } | undefined {
    const [applied, ...farther] = covering;
    if (!applied) return undefined;
    const partOf = (suppression: RuleSuppression) => (suppression.appliesTo ? target! : '');
    this.used.set(applied.suppression, (this.used.get(applied.suppression) ?? new Set()).add(partOf(applied.suppression)));
    for (const { suppression } of farther) {
      const parts = this.shadowed.get(suppression) ?? new Map<string, Map<RuleSuppression, string>>();
      const part = partOf(suppression);
      parts.set(part, (parts.get(part) ?? new Map()).set(applied.suppression, applied.owner.node.path));
      this.shadowed.set(suppression, parts);
    }
    return applied;
  }
}

/**
 * Suppressions of one set of rules, cdk-nag style: placed on a construct (in a stack), they apply to it and everything
 * below it; each names a known rule and a real reason. BoundarySuppressions and StagingSuppressions are each one, so
 * that both check an entry the same way.
 */
export class SuppressionRegistry {
  private readonly placed = new WeakMap<IConstruct, RuleSuppression[]>();

  constructor(private readonly rules: () => readonly SuppressibleRule[], private readonly wording: SuppressionWording) {}

  public add(scope: IConstruct, entries: readonly RuleSuppression[]): void {
    const { className, exampleId, ruleKind, aboveEveryStack, rule: ruleNoun, finding } = this.wording;
    // From JavaScript: a TypeError from reading scope.node told neither which call nor what to pass.
    const scopeFix = `pass the construct the finding is on, or its stack: ${className}.add(stack, [{ id: '${exampleId}', reason: '…' }])`;
    if (scope === undefined || scope === null) throw new ValidationError(missingValue(`${className}.add`, 'scope', 'a suppression is placed on a construct (a stack, or a construct in one)', scopeFix));
    if (!Construct.isConstruct(scope)) fail(`${className}.add`, 'scope', scope, `it is ${aType(scope)}, not a construct`, scopeFix);
    const at = `${scope.node.path}.suppressions`;
    const rules = this.rules();
    // appliesTo narrows a suppression to what findings name: where no rule's findings name anything (Staging-NotReaped),
    // it is no property at all, and its refusals do not speak of ports.
    const targeted = rules.some((r) => r.targets !== undefined);
    // Each entry is read once, into a frozen copy that is checked and kept: a getter (from JavaScript)
    // could otherwise answer the checks with a real reason and the stack's record with another.
    const copies = requireArray(at, 'entries', entries, `list suppressions such as [{ id: '${exampleId}', reason: '…' }]`, (e, prop) => {
      const fix = `write ${prop} as { id: '${exampleId}', reason: '…' }`;
      requireProps(at, e, fix, prop);
      // A plain object is read whole, once (its unknown keys are refused from the copy); an instance by its fields.
      const read: Record<string, unknown> = Object.getPrototypeOf(e) === Object.prototype
        ? Object.fromEntries(Object.entries(e as object))
        : { id: (e as RuleSuppression).id, reason: (e as RuleSuppression).reason, appliesTo: (e as RuleSuppression).appliesTo };
      refuseUnknownProps(at, prop, read, targeted ? propNames<RuleSuppression>({ id: true, reason: true, appliesTo: true }) : ['id', 'reason']);
      // null (from JavaScript) is refused, never read as left out: that would widen the suppression to every finding of the rule.
      const appliesTo = optionalArray(at, `${prop}.appliesTo`, read.appliesTo, `list what it covers, such as ['TCP 587']; left out, the suppression covers every ${finding} of the ${ruleNoun}`, (t, tProp) => {
        if (typeof t !== 'string' || t.trim() === '') fail(at, tProp, t, 'it does not name what a finding is about', "write it as the finding names it, such as 'TCP 587'");
        return t as string;
      });
      if (appliesTo?.length === 0) {
        throw new ValidationError(`${at}.${prop}.appliesTo: [] is not allowed: a suppression that covers nothing is no exception. Fix: name what it covers, such as ['TCP 587'], or leave appliesTo out to cover every ${finding} of the ${ruleNoun}`);
      }
      return Object.freeze(checkProps<RuleSuppression>(at, { id: read.id as string, reason: read.reason as string, ...(appliesTo ? { appliesTo: Object.freeze(appliesTo) } : {}) }, {
        id: is.text(`use a rule id such as '${exampleId}'`),
        reason: is.text(`say why the ${finding} is acceptable, in at least 20 characters`),
        appliesTo: is.checkedLater(), // above, element by element
      }, fix));
    });
    // Findings and what records their suppressions are per stack (or per resource); a suppression above every stack
    // would silence the rule in all of them, stacks added later included.
    if (!scope.node.scopes.some((c) => TerraformStack.isStack(c))) {
      const where = scope.node.path || 'App';
      throw new ValidationError(`${where}.suppressions: ${quote(copies.map((e) => e.id).join(', '))} is not allowed: ${where === 'App' ? 'the App' : `'${where}'`} is above every stack, `
        + `${aboveEveryStack}. `
        + `Fix: add it to the stack, or to the construct the finding is on, such as ${className}.add(stack, [...])`);
    }
    const placed = [...(this.placed.get(scope) ?? [])];
    for (const entry of copies) {
      const rule = rules.find((r) => r.id === entry.id);
      if (!rule) {
        throw new ValidationError(`${scope.node.path}.suppressions: '${entry.id}' is not allowed: it is not ${ruleKind}. Fix: use one of ${rules.map((r) => r.id).join(', ')}`);
      }
      // appliesTo names what a finding is about: a rule whose findings name nothing would leave it matching no finding.
      if (entry.appliesTo && rule.targets === undefined) {
        throw new ValidationError(`${scope.node.path}.suppressions: '${entry.id}' appliesTo ${quote(entry.appliesTo.join(', '))} is not allowed: ${entry.id}'s findings name nothing appliesTo can match. `
          + `Fix: leave appliesTo out; the suppression then covers every ${finding} of the ${ruleNoun} on the construct and below it`);
      }
      // Two of one rule on one construct: the first found covers the findings both name, and the other was refused later as matching none.
      const twin = placed.find((p) => p.id === entry.id && (!p.appliesTo || !entry.appliesTo || p.appliesTo.some((t) => entry.appliesTo!.includes(t))));
      if (twin) {
        throw new ValidationError(`${scope.node.path}.suppressions: '${entry.id}' (${suppressionCoverage(entry, finding)}, reason ${quote(entry.reason)}) is not allowed: `
          + `${scope.node.path} has a suppression of '${entry.id}' covering the same ${finding}s already (${suppressionCoverage(twin, finding)}, reason ${quote(twin.reason)}), so one of them would match no ${finding}. `
          + `Fix: keep one suppression of the ${ruleNoun} on the construct`
          + (targeted ? ' (list every port it covers in its appliesTo), or give each its own appliesTo entries' : ''));
      }
      placed.push(entry);
      // Letters, not characters: twenty spaces, dots or zero-width characters say nothing to an auditor,
      // nor does one letter or word repeated ('xxxxxxxxxxxxxxxxxxxx', 'TODO TODO TODO TODO TODO').
      if (!isReason(entry.reason)) {
        throw new ValidationError(`${scope.node.path}.suppressions: '${entry.id}' is not allowed: a suppression needs a specific reason of at least 20 characters (letters, at least ${MIN_DIFFERENT_REASON_LETTERS} different ones; spaces, punctuation and invisible characters do not count). Fix: say why the exception is safe here`);
      }
    }
    // The checked copies: the caller's objects stay editable from JavaScript after this check.
    this.placed.set(scope, [...(this.placed.get(scope) ?? []), ...copies]);
  }

  /** Every suppression of `ruleId` that covers a finding about `target` at `scope`, nearest first (at most one per construct). */
  public covering(scope: IConstruct, ruleId: string, target?: string): Array<{ owner: IConstruct; suppression: RuleSuppression }> {
    return [...scope.node.scopes].reverse().flatMap((owner) => {
      const suppression = this.placed.get(owner)?.find((s) => s.id === ruleId && (s.appliesTo === undefined || (target !== undefined && s.appliesTo.includes(target))));
      return suppression ? [{ owner, suppression }] : [];
    });
  }

  /** Every suppression placed on `scope` or below it, as it was kept (the object `covering` returns), with where. */
  public keptIn(scope: IConstruct): Array<{ readonly path: string; readonly suppression: RuleSuppression }> {
    return scope.node.findAll().flatMap((c) => (this.placed.get(c) ?? []).map((suppression) => ({ path: c.node.path, suppression })));
  }

  /**
   * The refusals of the suppressions placed on `scope` or below it (of `ruleIds`, by default every rule) that matched
   * no finding, as `use` recorded: what a nearer suppression took everywhere is told so, naming the nearer ones; what
   * matched nothing at all is told that, with `why` when given.
   */
  public unusedRefusals(scope: IConstruct, use: SuppressionUse, options: { readonly ruleIds?: readonly string[]; readonly why?: string } = {}): string[] {
    const { appliedShownBy, rule: ruleNoun, finding, unusedFix } = this.wording;
    const targeted = this.rules().some((r) => r.targets !== undefined);
    const errors: string[] = [];
    for (const { path, suppression } of this.keptIn(scope)) {
      if (options.ruleIds && !options.ruleIds.includes(suppression.id)) continue;
      const matched = use.used.get(suppression) ?? new Set<string>();
      const unused = suppression.appliesTo ? suppression.appliesTo.filter((t) => !matched.has(t)) : matched.size === 0 ? [''] : [];
      const what = (parts: string[]) => (suppression.appliesTo ? `'${suppression.id}' ${suppressionCoverage({ appliesTo: parts })}` : `'${suppression.id}'`);
      // An entry nearer suppressions took everywhere does match findings: it says so, and names them.
      const taken: string[] = [];
      const none: string[] = [];
      const nearerOnes = new Map<RuleSuppression, string>();
      for (const t of unused) {
        const by = use.shadowed.get(suppression)?.get(t);
        (by ? taken : none).push(t);
        for (const [nearer, at] of by ?? []) nearerOnes.set(nearer, at);
      }
      if (taken.length > 0) {
        const nearer = [...nearerOnes].map(([s, at]) => `${at} (${targeted ? `${suppressionCoverage(s)}, ` : ''}reason ${quote(s.reason)})`);
        const one = nearer.length === 1;
        errors.push(`${path}.suppressions: ${what(taken)} is not allowed: every ${finding} it covers is covered by ${one ? 'the suppression' : 'suppressions'} of the ${ruleNoun} on ${nearer.join(' and ')}, `
          + `the nearer ${one ? 'one, which applies' : 'ones, which apply'} there and which ${appliedShownBy}. Fix: keep one suppression for each ${finding} (remove this one, `
          + `or ${one ? 'the nearer one' : 'the nearer ones'} if this reason is the one to keep`
          + (targeted ? `, narrowing ${one ? 'it' : 'them'} to ${one ? 'its' : 'their'} other ${finding}s if ${one ? 'it covers' : 'they cover'} others)` : ')'));
      }
      if (none.length === 0) continue;
      errors.push(suppression.appliesTo
        ? `${path}.suppressions: ${what(none)} is not allowed: it matches no ${finding} of the ${ruleNoun} there. Fix: remove it from appliesTo, so that ${unusedFix}`
        : `${path}.suppressions: '${suppression.id}' is not allowed: the suppression matches no ${finding}${options.why ? ` (${options.why})` : ''}. Fix: remove it, so that ${unusedFix}`);
    }
    return errors;
  }
}
