// Public API of cdktf-sovereign-hetzner. Re-exports only.

// Core value types
export * from './core/data-class';
export * from './core/duration';
export * from './core/environment';
export * from './core/port';
export * from './core/retirement';
export * from './core/size';
export { ValidationError } from './core/validation-message';

// Hetzner building blocks
export * from './hetzner/cloud-init';
export * from './hetzner/firewall-rule';
export * from './hetzner/location';
export * from './hetzner/machine';
export * from './hetzner/machine-bundle';
export * from './hetzner/machine-rollout';
export * from './hetzner/object-storage-backend';
export * from './hetzner/private-network';
export * from './hetzner/server-type';
export * from './hetzner/ssh-key';

// Environments: the product declaration, staging on demand
export * from './environments/admin-access';
export * from './environments/product';
export * from './environments/product-documents';
export * from './environments/staging';

// Roadmap: phases, thresholds, the honest list
export * from './roadmap/component';
export * from './roadmap/phase';
export * from './roadmap/postponed';
export * from './roadmap/roadmap';
export * from './roadmap/server-type-choice';
export * from './environments/hcloud-api-client';
export * from './environments/release-plan';
export * from './environments/staging-reaper';

// The data boundary: policy, flows, enforcement, publication
export * from './boundary/boundary-checks';
export * from './boundary/boundary-document';
export * from './boundary/boundary-policy';
export * from './boundary/data-flow';
export * from './boundary/egress-allowlist';
export * from './boundary/processor';
export * from './boundary/secret-patterns';
export * from './boundary/secret-variable';
export * from './boundary/suppressions';
export { BOUNDARY_RULES } from './boundary/rules';
export type { BoundaryRule, Finding, RuleContext, SynthesizedResource } from './boundary/rules';
export * from './environments/ninety-day-checklist';

// Cost: dated prices, the estimator, the budget guard
export * from './cost/money';
export * from './cost/price-data';
export * from './cost/price-list';
export * from './cost/cost-estimate';
export * from './cost/estimator';
export * from './cost/synthesized-stacks';
export * from './cost/budget';
export { UnknownPriceError } from './cost/unknown-price-error';

// The operator's report
export * from './report/report-model';
export * from './report/operator-report';
export { costFigures } from './report/report-document';

// Backups that restore
export * from './backup/backup-plan';
export * from './backup/backup-target';
export * from './backup/heartbeat';
export * from './backup/postgres-dump';
export * from './backup/restore-check';
export * from './backup/restore-drill';
export * from './backup/retention';
export * from './backup/s3-provider';
export * from './backup/schedule';
export * from './hetzner/data-volume';
export * from './hetzner/storage-box';

// The product's PostgreSQL: pinned major, configured through the bundle, tuned by server type
export * from './database/database-storage';
export * from './database/postgres-database';
export * from './database/postgres-tuning';
export * from './database/postgres-version';
export * from './cost/price-gpu';

// Monitoring: uptime checks from another machine, alerts, error monitoring under the boundary
export * from './monitoring/alert-receiver';
export * from './monitoring/dead-mans-switch';
export * from './monitoring/environment-monitoring';
export * from './monitoring/error-monitoring';
export * from './monitoring/error-monitoring-endpoint';
export * from './monitoring/monitoring-alert';
export * from './monitoring/monitoring-document';
export * from './monitoring/monitoring-plan';
export * from './monitoring/uptime-check';
