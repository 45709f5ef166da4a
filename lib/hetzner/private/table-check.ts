import { TEXTFILE_DIR } from '../../monitoring/private/paths';
import type { BundleFile } from '../machine-bundle';
import { hostTablesLoaderPath } from './nftables-table';

// A host table's check (the private-network ingress, the egress allowlist): the table is loaded again when something
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
  /** How many times a check found the table missing and loaded it again (a counter, kept across runs in the textfile). */
  readonly repairsMetric: string;
  /** When a check last found the table missing and loaded it again (Unix time; 0: never): the repair alert reads it. */
  readonly lastRepairMetric: string;
  /** The textfile's name without `.prom`. */
  readonly textfile: string;
  /** The variable that overrides the textfile directory. */
  readonly textfileDirVariable: string;
  /** Shell lines that set the variables `load` reads (each overridable). */
  readonly variables: readonly string[];
  /** The shell command that loads the table. */
  readonly load: string;
  /** What `load` does, for the message (`loading $RULESET_FILE`). */
  readonly loading: string;
}

/**
 * Whether nftables.service runs the host tables' loader for its start, reload and stop (1) or not (0: a drop-in read
 * after the parts' resets one of them, and every restart drops the host tables until the checks load them again).
 * Every check writes it, labelled with its own name (`check`), so the series of one machine never collide.
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
export function tableCheckTextfile(options: Pick<TableCheckOptions, 'textfile'>): string {
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
out="$TEXTFILE_DIR/${o.textfile}.prom"
# The repairs so far (node exporter keeps no state of its own): from the state file beside the textfile, which
# removing the textfile leaves (the counter and the last repair's time went back to 0 with it); from the textfile
# the last check wrote where there is none yet (a check rendered before it).
state="$TEXTFILE_DIR/${tableCheckStateName(o)}"
previous() {
  for f in "$state" "$out"; do
    v=$(sed -n "s/^$1 \\([0-9][0-9]*\\)$/\\1/p" "$f" 2>/dev/null | head -n 1)
    [ -z "$v" ] || { echo "$v"; return; }
  done
}
repairs=$(previous ${o.repairsMetric}); repairs=\${repairs:-0}
last_repair=$(previous ${o.lastRepairMetric}); last_repair=\${last_repair:-0}
missing=0
if ! present; then
  echo "${o.name}: table ${o.table} is missing; ${o.loading}" >&2
  missing=1
  ${o.load}
fi
# Whether nftables.service still runs the loader (one command each, a copy's \`start\`, \`reload\`, \`stop\`): a drop-in
# that sorts after the parts' and resets ExecStart= drops the host tables from every restart, silently. Not in the
# exit code: the table is there now; the metric's alert names the fix. Not asked where systemd is not running (a
# container, a test: no nftables.service), and then not recorded.
loader=''
if [ -z "\${SOVEREIGN_SYSTEMCTL:-}" ] && [ ! -d /run/systemd/system ]; then
  :
elif show=$(\${SOVEREIGN_SYSTEMCTL:-systemctl} show -p ExecStart -p ExecReload -p ExecStop nftables.service 2>/dev/null); then
  bypassed=''
  for kv in ExecStart:start ExecReload:reload ExecStop:stop; do
    key=\${kv%%:*}
    if [ "$(printf '%s\\n' "$show" | grep -c "^$key=")" != 1 ] \\
      || ! printf '%s\\n' "$show" | grep -q "^$key={.* argv\\\\[\\\\]=${hostTablesLoaderPath('sovereign-[a-z-]*')} \${kv#*:} ;"; then
      bypassed="$bypassed $key="
    fi
  done
  if [ -z "$bypassed" ]; then
    loader=1
  else
    loader=0
    echo "${o.name}: nftables.service does not run the host tables' loader for$bypassed: a drop-in read after nftables.service.d/zz-sovereign-*.conf resets it, so every restart, reload or stop leaves the host tables out. systemctl cat nftables shows it: remove its reset, or run ${hostTablesLoaderPath('sovereign-egress')} start|reload|stop (or another part's copy) in it; then systemctl daemon-reload" >&2
  fi
else
  loader=0
  echo "${o.name}: cannot read nftables.service's commands (systemctl show)" >&2
fi
value=0; rc=1
# A repair is a table loaded again: a load that failed is no repair (the table's own alert tells it is missing).
if present; then
  value=1; rc=0
  if [ "$missing" = 1 ]; then repairs=$((repairs + 1)); last_repair=$(date +%s); fi
fi
if mkdir -p "$TEXTFILE_DIR" && tmp=$(mktemp "$TEXTFILE_DIR/.${o.textfile}.XXXXXX"); then
  printf '%s\\n' "${o.repairsMetric} $repairs" "${o.lastRepairMetric} $last_repair" >"$tmp" && mv -f "$tmp" "$state" \\
    || { rm -f "$tmp"; echo "${o.name}: cannot write $state" >&2; }
fi
if tmp=$(mktemp "$TEXTFILE_DIR/.${o.textfile}.XXXXXX"); then
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
    "${HOST_TABLES_LOADER_METRIC}{check=\\"${o.name}\\"} $loader"; } >"$tmp" && chmod 0644 "$tmp" && mv -f "$tmp" "$out" || { rm -f "$tmp"; echo "${o.name}: cannot write $out" >&2; }
else
  echo "${o.name}: cannot write $out" >&2
fi
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
