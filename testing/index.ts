// Public API of cdktf-sovereign-hetzner/testing: the local Hetzner Cloud stand-in, its harness and
// jest matchers. Re-exports only.
export { HetznerStandIn, stackJson } from './stand-in';
export type { HetznerStandInOptions, StackSource, WorkspaceOptions } from './stand-in';
export { StandInWorkspace } from './harness/workspace';
export type { PlanOutcome } from './harness/workspace';
export { PlannedChanges } from './harness/planned-changes';
export type { ResourceChange } from './harness/planned-changes';
export { terraformBinary } from './harness/terraform-cli';
export type { TerraformRun, TerraformDiagnostic } from './harness/terraform-cli';
export { synthesizedBundle } from './bundle';
export { LoopbackMachine } from './loopback-machine';
export type { SynthesizedBundle, SynthesizedBundleFile, SynthesizedBundlePart } from './bundle';
export { writeStandInOverride, OVERRIDE_FILE } from './harness/override';
export type { RolloutTarget, StandInOverrideOptions } from './harness/override';
export { placeholderVariables } from './harness/variables';
export { cliConfig, installStandIn, PROVIDER_SOURCE, PROVIDER_VERSION } from './harness/provider-install';
export { ReattachDaemon } from './harness/reattach-daemon';
export type { CloudState } from './provider/cloud/store';
export { standInMatchers, setupStandInMatchers } from './jest-matchers';
