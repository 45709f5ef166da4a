// Public API of cdktf-sovereign-hetzner: what a team declares its product with. Re-exports only.
//
// A module whose every export is public is re-exported whole; a module that also holds the
// library's own plumbing (helpers of the CLI, the report or the rules, constants the tooling
// shares) is re-exported by name, so that plumbing added to it stays internal. Internals are
// imported by relative path (the CLI, the stacks, the tests), never from here.

// Core value types
export * from './core/data-class';
export * from './core/duration';
export * from './core/environment';
export { Peer } from './core/peer';
export * from './core/port';
export * from './core/retirement';
export * from './core/size';
export { ValidationError } from './core/validation-message';

// Hetzner building blocks
export { HetznerAccountLimits } from './hetzner/account-limits';
export type { DeclaredFirewallCount, RaisedFirewallLimit } from './hetzner/account-limits';
export { CloudInit } from './hetzner/cloud-init';
export type { CloudInitFile, CloudInitPart } from './hetzner/cloud-init';
export * from './hetzner/firewall-rule';
export * from './hetzner/location';
export { Machine } from './hetzner/machine';
export type { IMachine, MachineProps, UserDataSize } from './hetzner/machine';
export { MachineBundle } from './hetzner/machine-bundle';
export type {
  BundleFile, BundleFiles, BundlePart, ProducedBundleFile, RenderedBundle, TemplateResolver,
} from './hetzner/machine-bundle';
export * from './hetzner/machine-rollout';
export { ObjectStorageBackend } from './hetzner/object-storage-backend';
export type { ObjectStorageBackendProps } from './hetzner/object-storage-backend';
export * from './hetzner/private-network';
export { PrivateIngress } from './hetzner/private-ingress';
export type { PrivateIngressRule } from './hetzner/private/private-ingress-table';
export * from './hetzner/server-type';
export * from './hetzner/ssh-key';
export * from './hetzner/data-volume';
export {
  STORAGE_BOX_LOCATIONS, STORAGE_BOX_SSH_PORT, StorageBox, StorageBoxAccount, StorageBoxSubaccount, StorageBoxType,
} from './hetzner/storage-box';
export type {
  IStorageBoxAccount, StorageBoxAccountAttributes, StorageBoxProps, StorageBoxSubaccountOptions, StorageBoxSubaccountProps,
} from './hetzner/storage-box';

// Environments: the product declaration, staging on demand
export * from './environments/admin-access';
export * from './environments/product';
export { StagingMode } from './environments/staging';
export { STAGING_NOT_REAPED, StagingSuppressions } from './environments/staging-suppressions';
export type { StagingSuppression } from './environments/staging-suppressions';
export type { EnvironmentDatabaseRecord, EnvironmentRecord } from './environments/product-documents';

// Roadmap: phases, thresholds, the honest list
export * from './roadmap/component';
export * from './roadmap/phase';
export * from './roadmap/postponed';
export * from './roadmap/roadmap';
export * from './roadmap/server-type-choice';

// The data boundary: policy, flows, enforcement
export * from './boundary/boundary-checks';
export type { ChecklistItem } from './boundary/boundary-document';
export * from './boundary/boundary-policy';
export * from './boundary/data-flow';
export { EgressAllowlist } from './boundary/egress-allowlist';
export { EgressHost } from './boundary/egress-host';
export type { PublicOnlyEgressHostOptions } from './boundary/egress-host';
export type { EgressAllowlistOptions, RequiredDestination } from './boundary/egress-allowlist';
export { LegalSeat, Processor } from './boundary/processor';
export type { ProcessorProps } from './boundary/processor';
export * from './boundary/secret-variable';
export { BoundarySuppressions } from './boundary/suppressions';
export type { BoundarySuppression, PlacedSuppression } from './boundary/suppressions';
export { BOUNDARY_RULES } from './boundary/rules';
export type { BoundaryRule, Finding, RuleContext, SynthesizedResource } from './boundary/rules';

// Cost: dated prices, the estimator, the budget guard
export * from './cost/money';
export type { PriceConfidence, PriceListSpec, SourceSpec } from './cost/price-data';
export * from './cost/price-list';
export { CostKind } from './cost/cost-estimate';
export type {
  CostEstimate, CostLine, EnvironmentCost, FreeResource, PhaseCost, ProductCost, RehearsalCost, StagingComparison, UntilExpiryCost,
} from './cost/cost-estimate';
export { estimateCost } from './cost/estimator';
export type { CostEstimateOptions } from './cost/estimator';
export * from './cost/budget';
export { UnknownPriceError } from './cost/unknown-price-error';

// The operator's report
export { writeOperatorReport } from './report/operator-report';
export type { OperatorReport, OperatorReportOptions } from './report/operator-report';
export type { ReportModelOptions } from './report/report-model';

// Backups that restore
export * from './backup/backup-plan';
export * from './backup/backup-target';
export * from './backup/heartbeat';
export * from './backup/heartbeat-check';
export * from './backup/postgres-dump';
export * from './backup/restore-check';
export * from './backup/restore-drill';
export * from './backup/retention';
export * from './backup/s3-provider';
export * from './backup/schedule';

// The product's PostgreSQL: pinned major, configured through the bundle, tuned by server type
export * from './database/database-storage';
export { PostgresDatabase } from './database/postgres-database';
export type { PostgresDatabaseProps } from './database/postgres-database';
export * from './database/postgres-tuning';
export { PostgresVersion } from './database/postgres-version';

// Monitoring: uptime checks from another machine, alerts, error monitoring under the boundary
export * from './monitoring/alert-receiver';
export * from './monitoring/dead-mans-switch';
export { EnvironmentMonitoring } from './monitoring/environment-monitoring';
export type { EnvironmentMonitoringProps } from './monitoring/environment-monitoring';
export * from './monitoring/error-monitoring';
export * from './monitoring/error-monitoring-endpoint';
export * from './monitoring/monitoring-alert';
export * from './monitoring/monitoring-plan';
export * from './monitoring/uptime-check';
