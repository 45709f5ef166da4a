import { TEXTFILE_DIR } from '../../monitoring/private/paths';
import type { BundleFile } from '../machine-bundle';
import { PRIVATE_INGRESS_RULESET, PRIVATE_INGRESS_TABLE } from './private-ingress-table';

// The private-network table's health, as the egress allowlist's refresh keeps its own: the table is loaded again
// when something flushed the ruleset between boots and deploys (`nft flush ruleset`, `systemctl stop nftables`,
// which no drop-in follows), and whether it is there is recorded for node exporter, where an alert reads it.

export const PRIVATE_INGRESS_CHECK = 'sovereign-private-ingress-check';
const SCRIPT = `/usr/local/sbin/${PRIVATE_INGRESS_CHECK}`;
/** The metric: whether the table was there after the last check (1) or not (0). */
export const PRIVATE_INGRESS_PRESENT_METRIC = 'sovereign_private_ingress_table_present';
/**
 * When the last check ran: node exporter keeps exporting the last file written, so a timer that stopped, or a check
 * killed before it wrote, left "present 1" standing forever; the alert reads this to tell a stale answer.
 */
export const PRIVATE_INGRESS_CHECK_TIMESTAMP_METRIC = 'sovereign_private_ingress_check_timestamp_seconds';
/** The file the check writes for node exporter; it goes when the part does (`BundlePart.runtimeFiles`). */
export const PRIVATE_INGRESS_TEXTFILE = `${TEXTFILE_DIR}/sovereign_private_ingress.prom`;

/**
 * The check: loads the table when it is missing, then writes `sovereign_private_ingress.prom`. Fails when the table
 * is still missing, so the unit shows it too. `PRIVATE_INGRESS_RULESET_FILE` and `PRIVATE_INGRESS_TEXTFILE_DIR`
 * override its paths. A function: the table's module imports this one.
 */
export function privateIngressCheckScript(): string {
  return `#!/bin/sh
# ${PRIVATE_INGRESS_CHECK}: rendered by cdktf-sovereign-hetzner (PrivateIngress).
# Loads the table ${PRIVATE_INGRESS_TABLE} when it is missing (the ruleset was flushed) and records whether
# it is there for node exporter's textfile collector.
set -u
RULESET_FILE=\${PRIVATE_INGRESS_RULESET_FILE:-${PRIVATE_INGRESS_RULESET}}
TEXTFILE_DIR=\${PRIVATE_INGRESS_TEXTFILE_DIR:-${TEXTFILE_DIR}}
present() { nft list table ${PRIVATE_INGRESS_TABLE} >/dev/null 2>&1; }
if ! present; then
  echo "${PRIVATE_INGRESS_CHECK}: table ${PRIVATE_INGRESS_TABLE} is missing; loading $RULESET_FILE" >&2
  nft -f "$RULESET_FILE"
fi
value=0; rc=1
if present; then value=1; rc=0; fi
out="$TEXTFILE_DIR/sovereign_private_ingress.prom"
if mkdir -p "$TEXTFILE_DIR" && tmp=$(mktemp "$TEXTFILE_DIR/.sovereign_private_ingress.XXXXXX"); then
  printf '%s\\n' \\
    "# HELP ${PRIVATE_INGRESS_PRESENT_METRIC} Whether the nftables table ${PRIVATE_INGRESS_TABLE} was loaded after the last check (1) or not (0)." \\
    "# TYPE ${PRIVATE_INGRESS_PRESENT_METRIC} gauge" \\
    "${PRIVATE_INGRESS_PRESENT_METRIC} $value" \\
    "# HELP ${PRIVATE_INGRESS_CHECK_TIMESTAMP_METRIC} When the last check ran (Unix time)." \\
    "# TYPE ${PRIVATE_INGRESS_CHECK_TIMESTAMP_METRIC} gauge" \\
    "${PRIVATE_INGRESS_CHECK_TIMESTAMP_METRIC} $(date +%s)" >"$tmp" && chmod 0644 "$tmp" && mv -f "$tmp" "$out" || { rm -f "$tmp"; echo "${PRIVATE_INGRESS_CHECK}: cannot write $out" >&2; }
else
  echo "${PRIVATE_INGRESS_CHECK}: cannot write $out" >&2
fi
exit "$rc"
`;
}

/** The check's files: the script, its service, and the timer that runs it every 2 minutes. */
export function privateIngressCheckFiles(): BundleFile[] {
  return [
    { path: SCRIPT, content: privateIngressCheckScript(), permissions: '0755' },
    {
      path: `/etc/systemd/system/${PRIVATE_INGRESS_CHECK}.service`,
      content: `[Unit]
Description=Private-network ingress: load the nftables table ${PRIVATE_INGRESS_TABLE} if it is missing, and record whether it is there

[Service]
Type=oneshot
ExecStart=${SCRIPT}
`,
    },
    {
      path: `/etc/systemd/system/${PRIVATE_INGRESS_CHECK}.timer`,
      content: `[Unit]
Description=Check the private-network ingress table every 2 minutes

[Timer]
OnBootSec=1min
OnUnitActiveSec=2min

[Install]
WantedBy=timers.target
`,
    },
  ];
}
