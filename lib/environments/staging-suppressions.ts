import { IConstruct } from 'constructs';
import { SuppressionRegistry } from '../core/private/suppression-registry';

/** The warning a staging stack gives a labelled resource of a type the staging reaper does not remove. */
export const STAGING_NOT_REAPED = 'Staging-NotReaped';

/** A resource of a staging stack accepted as outliving a rehearsal that died before its destroy, with the reason. */
export interface StagingSuppression {
  /** The warning's id: `Staging-NotReaped` (STAGING_NOT_REAPED). */
  readonly id: string;
  /**
   * Why it may stay, billed, when the rehearsal dies: at least 20 characters counting letters only (spaces, punctuation
   * and invisible characters do not count), 8 of them different, specific enough for whoever pays for it.
   */
  readonly reason: string;
}

/**
 * Where staging suppressions are kept, checked as boundary suppressions are (SuppressionRegistry): one way of
 * accepting a finding in the library. Each accepted resource's own info annotation records the suppression.
 * @internal
 */
export const stagingSuppressionRegistry = new SuppressionRegistry(() => [{ id: STAGING_NOT_REAPED }], {
  className: 'StagingSuppressions', exampleId: STAGING_NOT_REAPED, ruleKind: 'a staging warning that can be accepted',
  // Each accepted resource carries its own info annotation, naming where the suppression was placed and its reason.
  // Only staging stacks raise the warning, so those are the ones it would reach; nothing at a stack records it.
  aboveEveryStack: 'so the suppression would accept the warning in every staging stack below it, stacks added later included, while no '
    + "stack lists it: only each accepted resource's info annotation would name it and its reason",
  appliedShownBy: 'the info annotation of each accepted resource names',
  rule: 'warning', finding: 'warned resource', unusedFix: 'what a staging stack leaves billed is accepted only where it really does',
});

/**
 * Accepted `Staging-NotReaped` warnings, cdk-nag style: a suppression on a construct (or its stack) covers it and
 * everything below it, needs a real reason, turns the warning into an info annotation that records the reason and
 * where it was accepted, and is itself an error when it covers no such resource.
 */
export class StagingSuppressions {
  /** Accepts the named warnings on `scope` (a staging stack or a construct in one) and everything below it, each with its reason. */
  public static add(scope: IConstruct, entries: StagingSuppression[]): void {
    stagingSuppressionRegistry.add(scope, entries);
  }
}
