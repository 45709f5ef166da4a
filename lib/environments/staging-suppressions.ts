import { IConstruct } from 'constructs';
import { quote } from '../core/validation-message';
import { RuleSuppression, SuppressionRegistry } from '../core/private/suppression-registry';

/** The warning a staging stack gives a labelled resource of a type the staging reaper does not remove. */
export const STAGING_NOT_REAPED = 'Staging-NotReaped';

/** A resource of a staging stack accepted as outliving a rehearsal that died before its destroy, with the reason. */
export interface StagingSuppression {
  /** The warning's id: `Staging-NotReaped`. */
  readonly id: string;
  /** Why it may stay, billed, when the rehearsal dies: at least 20 letters, specific enough for whoever pays for it. */
  readonly reason: string;
}

/** Checked and kept as boundary suppressions are (SuppressionRegistry): one way of accepting a finding in the library. */
const registry = new SuppressionRegistry(() => [{ id: STAGING_NOT_REAPED }], {
  className: 'StagingSuppressions', exampleId: STAGING_NOT_REAPED, ruleKind: 'a staging warning that can be accepted', record: 'synth output',
});

/**
 * Accepted `Staging-NotReaped` warnings, cdk-nag style: a suppression on a construct (or its stack) covers it and
 * everything below it, needs a real reason, turns the warning into an info annotation that records the reason and
 * where it was accepted, and is itself an error when it covers no such resource.
 */
export class StagingSuppressions {
  /** Accepts the named warnings on `scope` (a staging stack or a construct in one) and everything below it, each with its reason. */
  public static add(scope: IConstruct, entries: StagingSuppression[]): void {
    registry.add(scope, entries);
  }

  /**
   * Every suppression of `id` that covers `scope` (on it or an ancestor), nearest first, with where it was placed: the
   * first applies, the others are shadowed by it there. At most one per construct (`add` refuses a second).
   * @internal
   */
  public static covering(scope: IConstruct, id: string): Array<{ owner: IConstruct; suppression: StagingSuppression }> {
    return registry.covering(scope, id);
  }

  /**
   * The refusals of the suppressions placed on `scope` or below it that covered no warning (not in `used`): one a
   * nearer suppression took everywhere (`shadowedBy`: the nearer ones, with where they are) is told so, naming them.
   * @internal
   */
  public static unused(scope: IConstruct, used: ReadonlySet<RuleSuppression>, why: string,
    shadowedBy: ReadonlyMap<RuleSuppression, ReadonlyMap<RuleSuppression, string>> = new Map()): string[] {
    return registry.keptIn(scope).filter(({ suppression }) => !used.has(suppression)).map(({ path, suppression }) => {
      const nearer = [...shadowedBy.get(suppression) ?? []].map(([s, at]) => `${at} (reason ${quote(s.reason)})`);
      if (nearer.length === 0) {
        return `${path}.suppressions: '${suppression.id}' is not allowed: the suppression matches no finding (${why}). `
          + 'Fix: remove it, so that what a staging stack leaves billed is accepted only where it really does';
      }
      const one = nearer.length === 1;
      return `${path}.suppressions: '${suppression.id}' is not allowed: every resource it covers is covered by ${one ? 'the suppression' : 'suppressions'} of the warning on `
        + `${nearer.join(' and ')}, the nearer ${one ? 'one, which applies' : 'ones, which apply'} there and whose reason the info annotation records. `
        + `Fix: keep one suppression for each resource (remove this one, or ${one ? 'the nearer one' : 'the nearer ones'} if this reason is the one to keep)`;
    });
  }
}
