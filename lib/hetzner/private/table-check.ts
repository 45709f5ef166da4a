import { TEXTFILE_DIR } from '../../monitoring/private/paths';
import type { BundleFile } from '../machine-bundle';
import { LOADERS_DIR } from './nftables-table';
import { TEXTFILE_CD_FUNCTION } from '../../monitoring/private/textfile-dir-shell';

// A host table's check (the egress allowlist, the private-network ingress, the metadata guard): the table is loaded again when something
// flushed the ruleset between boots and deploys (`nft flush ruleset`, a firewall tool: nothing loads it again with
// them, as nftables.service's drop-ins do), and whether it is there is recorded for node exporter, where an alert reads it. A repair is recorded too
// (counted, and when): the check loads the table at once, so "present" alone never showed that it had been gone.

/** What a table's check is made of. */
export interface TableCheckOptions {
  /** The script's and its units' name (`sovereign-private-ingress-check`). */
  readonly name: string;
  /** The construct that renders it, for the script's header. */
  readonly owner: string;
  /** The table (`inet sovereign_private_ingress`). */
  readonly table: string;
  /** What the table is, for the units' descriptions (`Private-network ingress`). */
  readonly what: string;
  /** Whether the table was there after the last check (1) or not (0). */
  readonly presentMetric: string;
  /** When the last check ran: the alert reads it to tell a stale answer (a stopped timer, a killed check). */
  readonly timestampMetric: string;
  /** How many times a check found the table missing and loaded it again (a counter, kept across runs in the state file beside the textfile). */
  readonly repairsMetric: string;
  /** When a check last found the table missing and loaded it again (Unix time; 0: never): the repair alert reads it. */
  readonly lastRepairMetric: string;
  /** The textfile's name without `.prom`. */
  readonly textfile: string;
  /** The variable that overrides the textfile directory. */
  readonly textfileDirVariable: string;
  /** Shell lines that set the variables `load` reads (each overridable). */
  readonly variables: readonly string[];
  /** The part's copy of nftables.service's loader (`HostTableNames.loader`), which the check's messages name. */
  readonly loader: string;
  /** The shell command that loads the table. */
  readonly load: string;
  /** What `load` does, for the message (`loading $RULESET_FILE`). */
  readonly loading: string;
}

/**
 * Whether nftables.service runs the host tables' loader for its start, reload and stop (1) or not (0: a drop-in read
 * after the parts' resets one of them, and every restart drops the host tables until the checks load them again).
 * Every check writes it, labelled with its own name (`check`), so the series of one machine never collide. Not written
 * where nftables.service never runs (masked, not installed) or `systemctl show` cannot tell: neither is a bypass.
 */
export const HOST_TABLES_LOADER_METRIC = 'sovereign_host_tables_loader_in_place';

/** Where a check keeps its repairs beside the textfile: hidden and not `.prom`, so node exporter never reads it. */
function tableCheckStateName(options: Pick<TableCheckOptions, 'textfile'>): string {
  return `.${options.textfile}.repairs`;
}

/** The files a check writes: its textfile and its repairs' state; they go when the part does (`BundlePart.runtimeFiles`). */
export function tableCheckRuntimeFiles(options: Pick<TableCheckOptions, 'textfile'>): string[] {
  return [tableCheckTextfile(options), `${TEXTFILE_DIR}/${tableCheckStateName(options)}`];
}

/** The file a check writes for node exporter; it goes when the part does (`BundlePart.runtimeFiles`). */
function tableCheckTextfile(options: Pick<TableCheckOptions, 'textfile'>): string {
  return `${TEXTFILE_DIR}/${options.textfile}.prom`;
}

/** The check: loads the table when it is missing, then writes its textfile. Fails when the table is still missing, so the unit shows it too. */
export function tableCheckScript(o: TableCheckOptions): string {
  return `#!/bin/sh
# ${o.name}: rendered by cdktf-sovereign-hetzner (${o.owner}).
# Loads the table ${o.table} when it is missing (the ruleset was flushed) and records whether
# it is there for node exporter's textfile collector.
set -u
${o.variables.join('\n')}
TEXTFILE_DIR=\${${o.textfileDirVariable}:-${TEXTFILE_DIR}}
present() { nft list table ${o.table} >/dev/null 2>&1; }
${TEXTFILE_CD_FUNCTION}
out="$TEXTFILE_DIR/${o.textfile}.prom"
state="$TEXTFILE_DIR/${tableCheckStateName(o)}"
missing=0
if ! present; then
  echo "${o.name}: table ${o.table} is missing; ${o.loading}" >&2
  missing=1
  ${o.load}
fi
# Whether nftables.service still runs the loader (one command each, an executable copy's \`start\`, \`reload\`, \`stop\`): a
# drop-in that sorts after the parts' and resets ExecStart= drops the host tables from every restart, silently. Not in
# the exit code: the table is there now; the metric's alert names the fix. Not asked where systemd is not running (a
# container, a test: no nftables.service), and not recorded where nftables.service never runs (masked, not
# installed: its restarts drop nothing); one that cannot be read is no bypass (the alert would name the wrong fix).
LOADERS=\${SOVEREIGN_HOST_TABLES_LOADERS:-${LOADERS_DIR}}
loader=''
if [ -z "\${SOVEREIGN_SYSTEMCTL:-}" ] && [ ! -d /run/systemd/system ]; then
  :
elif ! show=$(\${SOVEREIGN_SYSTEMCTL:-systemctl} show -p LoadState -p ExecStart -p ExecReload -p ExecStop nftables.service 2>&1); then
  echo "${o.name}: cannot read nftables.service's commands (systemctl show: $show); the last record of whether it runs the host tables' loader is kept" >&2
  loader=kept
else
  case $(printf '%s\\n' "$show" | sed -n 's/^LoadState=//p') in
    loaded)
      bypassed=''; unusable=''
      for kv in ExecStart:start ExecReload:reload ExecStop:stop; do
        key=\${kv%%:*}
        p=$(printf '%s\\n' "$show" | sed -n "s/^$key={.* argv\\[\\]=\\([^ ]*\\) \${kv#*:} ;.*/\\1/p")
        if [ "$(printf '%s\\n' "$show" | grep -c "^$key=")" != 1 ]; then
          bypassed="$bypassed $key="
        else
          case "$p" in
            "$LOADERS"/sovereign-*-nftables) [ -x "$p" ] || unusable="$unusable $key=$p" ;;
            *) bypassed="$bypassed $key=" ;;
          esac
        fi
      done
      loader=1
      if [ -n "$bypassed" ]; then
        loader=0
        echo "${o.name}: nftables.service does not run the host tables' loader for$bypassed: a drop-in read after nftables.service.d/zz-sovereign-*.conf resets it, so every restart, reload or stop leaves the host tables out. systemctl cat nftables shows it: remove its reset, or run ${o.loader} start|reload|stop in it; then systemctl daemon-reload" >&2
      fi
      if [ -n "$unusable" ]; then
        loader=0
        echo "${o.name}: nftables.service runs a copy of the host tables' loader that is missing or not executable ($unusable ): its start, reload and stop fail. The next deploy writes it again; until then chmod 0755 it, or run ${o.loader} in its place" >&2
      fi ;;
    masked|not-found) : ;;
    *) echo "${o.name}: cannot read nftables.service's commands (systemctl show: $show); the last record of whether it runs the host tables' loader is kept" >&2
       loader=kept ;;
  esac
fi
value=0; rc=1
# A repair is a table loaded again: a load that failed is no repair (the table's own alert tells it is missing).
if present; then
  value=1; rc=0
fi
# Read and written in a subshell in node exporter's directory, checked (textfile_cd), with relative names: never through
# a symlink there, where another user could have planted a FIFO that blocks the read (and the oneshot unit) for good.
# The table is loaded above, before anything is read: it stands either way; only its record is not written.
( textfile_cd ${o.name} ${o.textfile}.prom || exit 1
# The repairs so far (node exporter keeps no state of its own): the larger of the state file beside the textfile,
# which removing the textfile leaves (the counter and the last repair's time went back to 0 with it), and the
# textfile (a check rendered before the state file, after an upgrade, a revert and an upgrade again, counted on in it).
previous() {
  v=$(sed -n "s/^$1 \\([0-9][0-9]*\\)$/\\1/p" ./${tableCheckStateName(o)} ./${o.textfile}.prom 2>/dev/null | sort -n | tail -n 1)
  echo "\${v:-0}"
}
repairs=$(previous ${o.repairsMetric})
last_repair=$(previous ${o.lastRepairMetric})
if [ "$value" = 1 ] && [ "$missing" = 1 ]; then repairs=$((repairs + 1)); last_repair=$(date +%s); fi
# A read of nftables.service that failed keeps the previous textfile's value: written nothing, the metric would go, a
# firing HostTablesLoaderBypassed would resolve on one transient bus error, and its \`for:\` would start over.
if [ "$loader" = kept ]; then
  loader=$(sed -n 's/^${HOST_TABLES_LOADER_METRIC}{.*} \\([01]\\)$/\\1/p' ./${o.textfile}.prom 2>/dev/null | tail -n 1)
fi
if tmp=$(mktemp ./.${o.textfile}.XXXXXX); then
  printf '%s\\n' "${o.repairsMetric} $repairs" "${o.lastRepairMetric} $last_repair" >"$tmp" && mv -T -f -- "$tmp" ${tableCheckStateName(o)} \\
    || { rm -f -- "$tmp"; echo "${o.name}: cannot write $state" >&2; }
fi
tmp=$(mktemp ./.${o.textfile}.XXXXXX) || exit 1
{ printf '%s\\n' \\
    "# HELP ${o.presentMetric} Whether the nftables table ${o.table} was loaded after the last check (1) or not (0)." \\
    "# TYPE ${o.presentMetric} gauge" \\
    "${o.presentMetric} $value" \\
    "# HELP ${o.timestampMetric} When the last check ran (Unix time)." \\
    "# TYPE ${o.timestampMetric} gauge" \\
    "${o.timestampMetric} $(date +%s)" \\
    "# HELP ${o.repairsMetric} How many times the check found the nftables table ${o.table} missing and loaded it again." \\
    "# TYPE ${o.repairsMetric} counter" \\
    "${o.repairsMetric} $repairs" \\
    "# HELP ${o.lastRepairMetric} When the check last found the nftables table ${o.table} missing and loaded it again (Unix time; 0 for never)." \\
    "# TYPE ${o.lastRepairMetric} gauge" \\
    "${o.lastRepairMetric} $last_repair"
    [ -z "$loader" ] || printf '%s\\n' \\
    "# HELP ${HOST_TABLES_LOADER_METRIC} Whether nftables.service runs the host tables' loader for its start, reload and stop (1) or not (0)." \\
    "# TYPE ${HOST_TABLES_LOADER_METRIC} gauge" \\
    "${HOST_TABLES_LOADER_METRIC}{check=\\"${o.name}\\"} $loader"; } >"$tmp" && chmod 0644 "$tmp" && mv -T -f -- "$tmp" ${o.textfile}.prom || { rm -f -- "$tmp"; exit 1; }
) || echo "${o.name}: cannot write $out" >&2
exit "$rc"
`;
}

/** Where the check named `name` is installed. */
export function tableCheckPath(name: string): string {
  return `/usr/local/sbin/${name}`;
}

/** The check's files: the script, its service, and the timer that runs it every 2 minutes. */
export function tableCheckFiles(o: TableCheckOptions): BundleFile[] {
  const script = tableCheckPath(o.name);
  return [
    { path: script, content: tableCheckScript(o), permissions: '0755' },
    {
      path: `/etc/systemd/system/${o.name}.service`,
      content: `[Unit]
Description=${o.what}: load the nftables table ${o.table} if it is missing, and record whether it is there

[Service]
Type=oneshot
ExecStart=${script}
`,
    },
    {
      path: `/etc/systemd/system/${o.name}.timer`,
      content: `[Unit]
Description=Check the ${o.what.toLowerCase()} table every 2 minutes

[Timer]
OnBootSec=1min
OnUnitActiveSec=2min

[Install]
WantedBy=timers.target
`,
    },
  ];
}
