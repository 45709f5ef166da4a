// Public API of cdktf-sovereign-hetzner/testing: the local Hetzner Cloud stand-in, its harness and
// jest matchers. Re-exports only; the harness's own plumbing (the provider's install details, the
// reattach daemon, file names) is imported by relative path where it is needed.
export { HetznerStandIn, stackJson } from './stand-in';
export type { HetznerStandInOptions, StackSource, WorkspaceOptions } from './stand-in';
export { StandInWorkspace } from './harness/workspace';
export type { PlanOutcome, TerraformEnvironment } from './harness/workspace';
export { PlannedChanges } from './harness/planned-changes';
export type { ResourceChange } from './harness/planned-changes';
export { terraformBinary } from './harness/terraform-cli';
export type { TerraformRun, TerraformDiagnostic } from './harness/terraform-cli';
export { synthesizedBundle } from './bundle';
export { LoopbackMachine } from './loopback-machine';
export type { LoopbackMachineOptions } from './loopback-machine';
export { PrepareRefusedError } from './prepare-refused-error';
export type { PrepareRefusedErrorOptions } from './prepare-refused-error';
export type { SynthesizedBundle, SynthesizedBundleFile, SynthesizedBundlePart } from './bundle';
export { writeStandInOverride } from './harness/override';
export type { RolloutTarget, RolloutTargets, StandInOverrideOptions } from './harness/override';
export { placeholderVariables } from './harness/variables';
export { installStandIn, STAND_IN_TOKEN } from './harness/provider-install';
export type { CloudState } from './provider/cloud/store';
export type { ObjectValue, Value } from './provider/values';
export { standInMatchers, setupStandInMatchers } from './jest-matchers';
export type { MatcherResult, Received } from './jest-matchers';
