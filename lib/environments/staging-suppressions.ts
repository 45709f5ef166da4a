import { IConstruct } from 'constructs';
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

  /** The suppression of `id` that applies to `scope` (on it or the nearest ancestor that has one), with where it was placed. */
  public static find(scope: IConstruct, id: string): { owner: IConstruct; suppression: StagingSuppression } | undefined {
    return registry.covering(scope, id)[0];
  }

  /**
   * The refusals of the suppressions placed on `scope` or below it that covered no warning (not in `used`).
   * @internal
   */
  public static unused(scope: IConstruct, used: ReadonlySet<RuleSuppression>, why: string): string[] {
    return registry.keptIn(scope).filter(({ suppression }) => !used.has(suppression)).map(({ path, suppression }) =>
      `${path}.suppressions: '${suppression.id}' is not allowed: the suppression matches no finding (${why}). `
      + 'Fix: remove it, so that what a staging stack leaves billed is accepted only where it really does');
  }
}
