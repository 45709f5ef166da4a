import type { BundleFile } from '../../hetzner/machine-bundle';
import { hostTableNames } from '../../hetzner/private/nftables-table';
import { TableCheckOptions, tableCheckFiles, tableCheckRuntimeFiles } from '../../hetzner/private/table-check';

// The metadata guard's check (`tableCheckFiles`), as the egress allowlist and the private-network ingress have theirs:
// a load that left it out, or `nft delete table`, let every process read the backup secrets in the user data until boot.

export const METADATA_GUARD_CHECK = 'sovereign-metadata-guard-check';
/** The table's names among the host tables: its loader copy's, its definition's, its drop-in's, the table's own. */
export const METADATA_GUARD_HOST_TABLE = hostTableNames('inet', 'sovereign-metadata-guard');
/** The table: only root reaches the metadata service. */
export const METADATA_GUARD_TABLE = METADATA_GUARD_HOST_TABLE.table;
/** Whether the table was there after the last check (1) or not (0). */
export const METADATA_GUARD_PRESENT_METRIC = 'sovereign_metadata_guard_table_present';
/** When the last check ran: the alert reads it to tell a stale answer (a stopped timer, a killed check). */
export const METADATA_GUARD_CHECK_TIMESTAMP_METRIC = 'sovereign_metadata_guard_check_timestamp_seconds';
/** How many times the check found the table missing and loaded it again. */
export const METADATA_GUARD_REPAIRS_METRIC = 'sovereign_metadata_guard_check_repairs_total';
/** When the check last found the table missing and loaded it again (0: never); the repair alert reads it. */
export const METADATA_GUARD_LAST_REPAIR_METRIC = 'sovereign_metadata_guard_check_last_repair_timestamp_seconds';
const TEXTFILE = 'sovereign_metadata_guard';
/** What the check writes (the textfile, its repairs' state): they go when the part does. */
export const METADATA_GUARD_RUNTIME_FILES = tableCheckRuntimeFiles({ textfile: TEXTFILE });

/**
 * The check's files: the script, its service, and the timer that runs it every 2 minutes. It loads `rulesetFile`
 * (`METADATA_GUARD_RULESET_FILE` overrides it, `METADATA_GUARD_TEXTFILE_DIR` the textfile directory).
 */
export function metadataGuardCheckFiles(rulesetFile: string): BundleFile[] {
  const options: TableCheckOptions = {
    name: METADATA_GUARD_CHECK,
    owner: 'backup tooling',
    table: METADATA_GUARD_TABLE,
    loader: METADATA_GUARD_HOST_TABLE.loader,
    what: 'Metadata guard',
    presentMetric: METADATA_GUARD_PRESENT_METRIC,
    timestampMetric: METADATA_GUARD_CHECK_TIMESTAMP_METRIC,
    repairsMetric: METADATA_GUARD_REPAIRS_METRIC,
    lastRepairMetric: METADATA_GUARD_LAST_REPAIR_METRIC,
    textfile: TEXTFILE,
    textfileDirVariable: 'METADATA_GUARD_TEXTFILE_DIR',
    variables: [`RULESET_FILE=\${METADATA_GUARD_RULESET_FILE:-${rulesetFile}}`],
    load: 'nft -f "$RULESET_FILE"',
    loading: 'loading $RULESET_FILE',
  };
  return tableCheckFiles(options);
}
