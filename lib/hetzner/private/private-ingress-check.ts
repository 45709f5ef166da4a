import type { BundleFile } from '../machine-bundle';
import { PRIVATE_INGRESS_NFTABLES_LOADER, PRIVATE_INGRESS_RULESET, PRIVATE_INGRESS_TABLE } from './private-ingress-table';
import { TableCheckOptions, tableCheckFiles, tableCheckRuntimeFiles, tableCheckScript } from './table-check';

// The private-network table's check (`tableCheckFiles`), as the egress allowlist has its own.

export const PRIVATE_INGRESS_CHECK = 'sovereign-private-ingress-check';
/** The metric: whether the table was there after the last check (1) or not (0). */
export const PRIVATE_INGRESS_PRESENT_METRIC = 'sovereign_private_ingress_table_present';
/**
 * When the last check ran: node exporter keeps exporting the last file written, so a timer that stopped, or a check
 * killed before it wrote, left "present 1" standing forever; the alert reads this to tell a stale answer.
 */
export const PRIVATE_INGRESS_CHECK_TIMESTAMP_METRIC = 'sovereign_private_ingress_check_timestamp_seconds';
/** How many times the check found the table missing and loaded it again: "present" never shows a flush it repaired. */
export const PRIVATE_INGRESS_REPAIRS_METRIC = 'sovereign_private_ingress_check_repairs_total';
/** When the check last found the table missing and loaded it again (0: never); the repair alert reads it. */
export const PRIVATE_INGRESS_LAST_REPAIR_METRIC = 'sovereign_private_ingress_check_last_repair_timestamp_seconds';
/** What the check writes (the textfile, its repairs' state): they go when the part does. */
export const PRIVATE_INGRESS_RUNTIME_FILES = tableCheckRuntimeFiles({ textfile: 'sovereign_private_ingress' });

/** A function: the table's module imports this one. */
function options(): TableCheckOptions {
  return {
    name: PRIVATE_INGRESS_CHECK,
    owner: 'PrivateIngress',
    table: PRIVATE_INGRESS_TABLE,
    loader: PRIVATE_INGRESS_NFTABLES_LOADER,
    what: 'Private-network ingress',
    presentMetric: PRIVATE_INGRESS_PRESENT_METRIC,
    timestampMetric: PRIVATE_INGRESS_CHECK_TIMESTAMP_METRIC,
    repairsMetric: PRIVATE_INGRESS_REPAIRS_METRIC,
    lastRepairMetric: PRIVATE_INGRESS_LAST_REPAIR_METRIC,
    textfile: 'sovereign_private_ingress',
    textfileDirVariable: 'PRIVATE_INGRESS_TEXTFILE_DIR',
    variables: [`RULESET_FILE=\${PRIVATE_INGRESS_RULESET_FILE:-${PRIVATE_INGRESS_RULESET}}`],
    load: 'nft -f "$RULESET_FILE"',
    loading: 'loading $RULESET_FILE',
  };
}

/**
 * The check: loads the table when it is missing, then writes `sovereign_private_ingress.prom`. Fails when the table
 * is still missing, so the unit shows it too. `PRIVATE_INGRESS_RULESET_FILE` and `PRIVATE_INGRESS_TEXTFILE_DIR`
 * override its paths.
 */
export function privateIngressCheckScript(): string {
  return tableCheckScript(options());
}

/** The check's files: the script, its service, and the timer that runs it every 2 minutes. */
export function privateIngressCheckFiles(): BundleFile[] {
  return tableCheckFiles(options());
}
