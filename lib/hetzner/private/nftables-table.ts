/**
 * What the host tables (the egress allowlist, the private-network ingress, the metadata guard) share: a table loadable again at any
 * time in one `nft -f` transaction, and the unit that loads it at every boot, before any interface comes up.
 */

/**
 * The lines that replace `table` (`inet sovereign_egress`) in one transaction: the first creates it when it is
 * missing, so the `delete` always succeeds, and the new definition replaces the old one atomically; there is no
 * moment without the table. `body` is the definition's inside.
 */
export function replacingTable(table: string, body: string): string {
  return `table ${table}\ndelete table ${table}\ntable ${table} {\n${body}}\n`;
}

/** What a table's boot unit adds to the shared lines. */
export interface TableBootUnitOptions {
  readonly description: string;
  readonly rulesetFile: string;
  /** [Unit] lines after the ordering before the network. @default - none */
  readonly orderLines?: readonly string[];
  /** [Unit] lines at its end. @default - none */
  readonly unitLines?: readonly string[];
  /** [Install] lines after WantedBy=. @default - none */
  readonly installLines?: readonly string[];
}

/**
 * A table's boot unit: loads it at every boot, before the network comes up (so no packet arrives or leaves before
 * it), and after Debian's nftables.service, whose /etc/nftables.conf flushes the ruleset (its loader loads the host
 * tables in that transaction; without a drop-in, the load after it is what puts the table back). A rollout reloads it
 * (`ExecReload=`, atomic). It has no ExecStop: stopping it never removes the table.
 */
export function tableBootUnit(options: TableBootUnitOptions): string {
  return [
    '[Unit]',
    `Description=${options.description}`,
    'DefaultDependencies=no',
    'Wants=network-pre.target',
    'Before=network-pre.target shutdown.target',
    ...(options.orderLines ?? []),
    'Conflicts=shutdown.target',
    "# Debian's nftables.service loads /etc/nftables.conf, which flushes the ruleset: when it is enabled, load after it.",
    'After=nftables.service',
    ...(options.unitLines ?? []),
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    `ExecStart=${nftLoad(options.rulesetFile)}`,
    `ExecReload=${nftLoad(options.rulesetFile)}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    ...(options.installLines ?? []),
    '',
  ].join('\n');
}

/** The command that loads a table's ruleset file, in one transaction. */
export function nftLoad(rulesetFile: string): string {
  return `/usr/sbin/nft -f ${rulesetFile}`;
}

/**
 * Where a table's drop-in for Debian's nftables.service goes (`nftablesServiceDropIn`). systemd reads a unit's drop-ins
 * in the order of their file names, whichever directory holds them, and the last assignment wins: `zz-` sorts after
 * `override.conf` (what `systemctl edit nftables` writes) and every numbered name, so a user's drop-in that resets
 * `ExecStart=` no longer silently drops the host tables from every restart. One named to sort after it still can: the
 * checks tell it (`HostTablesLoaderBypassed`).
 */
export function nftablesDropInPath(name: string): string {
  return `/etc/systemd/system/nftables.service.d/zz-${name}.conf`;
}

/**
 * Where each host table's part puts the command that prints its definition (`hostTableDefinition`): the loader of
 * nftables.service (`HOST_TABLES_LOADER`) loads every one of them with /etc/nftables.conf, in one transaction.
 */
export const HOST_TABLES_DIR = '/usr/local/lib/sovereign/host-tables';

/**
 * The lock the host tables' loads take (the egress allowlist's refresh and restores, and nftables.service's loader),
 * so that a load never puts older kept addresses back after newer ones. In a directory of root's alone: in the
 * world-writable /run/lock another user could create the file first (root's open then fails where
 * fs.protected_regular is on, the systemd default) or open it and hold the lock, stalling every load.
 */
export const HOST_TABLES_LOCK = '/run/sovereign-egress/lock';

/** Where the parts put their copies of the loader. */
export const LOADERS_DIR = '/usr/local/sbin';

/**
 * Where a table's part puts its copy of the loader (`HOST_TABLES_LOADER`), which its drop-in runs. Its presence tells
 * the loader that the part is installed: a definition missing beside it is damaged, not removed. `name` is the
 * table's name with `-` for `_` (`sovereign-egress`: `inet sovereign_egress`), by which the loader finds its live table.
 */
export function hostTablesLoaderPath(name: string): string {
  return `${LOADERS_DIR}/${name}-nftables`;
}

/** Where a table's part puts the command that prints its definition. */
export function hostTableDefinitionPath(name: string): string {
  return `${HOST_TABLES_DIR}/${name}`;
}

/** A host table's names, all made from its part's one (`HostTableNames.name`), as the loader expects them. */
export interface HostTableNames {
  /** The part's name for the table (`sovereign-egress`): its definition's, its loader copy's and its drop-in's. */
  readonly name: string;
  /** The table, family and name: the part's name with `-` as `_` (`inet sovereign_egress`), by which the loader finds it live. */
  readonly table: string;
  /** The part's copy of the loader (`hostTablesLoaderPath`). */
  readonly loader: string;
  /** The command that prints its definition (`hostTableDefinitionPath`). */
  readonly definition: string;
  /** Its drop-in for nftables.service (`nftablesDropInPath`). */
  readonly dropIn: string;
}

/**
 * The names of the host table `name` of `family`: the loader finds a damaged definition's live table by its copy's
 * name, `-` as `_`, so the copy, the definition and the table are named from one.
 */
export function hostTableNames(family: 'ip' | 'inet', name: string): HostTableNames {
  return { name, table: `${family} ${name.replace(/-/g, '_')}`, loader: hostTablesLoaderPath(name), definition: hostTableDefinitionPath(name), dropIn: nftablesDropInPath(name) };
}

/**
 * A table's definition command: `print` is the shell command that writes the table's definition to standard output
 * (passed `--empty` when the load with it failed: the egress allowlist's address sets empty).
 */
export function hostTableDefinition(owner: string, print: string): string {
  return `#!/bin/sh\n# Rendered by cdktf-sovereign-hetzner (${owner}): this table's definition, for nftables.service's loader.\n${print}\n`;
}

/**
 * `<name>-nftables start|reload|stop`: what nftables.service runs (`nftablesServiceDropIn`). Debian's unit ran
 * \`nft flush ruleset\` (stop) and \`nft -f /etc/nftables.conf\` (start, reload; the file flushes the ruleset first) in
 * transactions of their own, and the host tables came back only after them: for those milliseconds of every restart or
 * reload egress was open and the private address unfiltered. Here each is one transaction with every host table in
 * HOST_TABLES_DIR: nft applies one input atomically, so the tables are never missing. A stop flushes the rest of the
 * ruleset and keeps the host tables: they are their boot units' (which have no ExecStop), not Debian's firewall's.
 * When that load fails, the loader finds what fails: an /etc/nftables.conf that does not load loads nothing (a reload
 * changes nothing; a restart, whose stop kept only the host tables, leaves only them; at boot the tables' boot units
 * load them after it). Otherwise each definition is checked with the conf (\`nft -c\`), the egress allowlist's again
 * with its address sets empty (the kept addresses may be what fails). One that still fails must not lose its loaded
 * table to the load's first line (which flushes the ruleset): that table, as nft lists it, is loaded in its place; one
 * whose table is not loaded is left out, named; one whose table is not known (it printed nothing) only from an empty
 * ruleset (a boot), otherwise nothing loads and the ruleset stays as it is. The conf and every other table load, and
 * the unit fails. A definition missing or not executable while its part is installed (its copy of the loader is there:
 * a deploy that removes a part removes both) is damaged, not removed: its live table (found by the part's name, `-` as
 * `_`) is loaded in its place, and the unit fails, naming it; a removed part's table goes with the next restart. Every
 * copy is the same; each part ships one, so that either part alone has it.
 */
export const HOST_TABLES_LOADER = `#!/bin/sh
# Rendered by cdktf-sovereign-hetzner: nftables.service's start, reload and stop, each in one nft transaction with
# the host tables (egress allowlist, private-network ingress, metadata guard), so that no restart or reload leaves them out.
set -u
CONF=\${SOVEREIGN_NFTABLES_CONF:-/etc/nftables.conf}
TABLES=\${SOVEREIGN_HOST_TABLES:-${HOST_TABLES_DIR}}
LOCK_FILE=\${SOVEREIGN_HOST_TABLES_LOCK:-${HOST_TABLES_LOCK}}
LOADERS=\${SOVEREIGN_HOST_TABLES_LOADERS:-${LOADERS_DIR}}
case "\${1:-}" in
  start|reload) first="include \\"$CONF\\"" ;;
  stop) first="flush ruleset" ;;
  *) echo "usage: $0 start|reload|stop" >&2; exit 2 ;;
esac

# The tables' definitions, each printed by its part's command; one that fails fails them all (its table would be missing).
definitions() {
  for t in "$TABLES"/*; do
    [ -x "$t" ] || continue
    "$t" "$@" || { echo "sovereign-host-tables: $t failed" >&2; return 1; }
  done
}
# nft (its options first) of the first line and the definitions in $1, in one transaction.
with_first() {
  defs=$1; shift
  printf '%s\\n%s\\n' "$first" "$defs" | nft "$@" -f -
}

# The egress allowlist's lock, for the load and the read of the kept addresses: never the older after the newer.
# \`command\` keeps a redirection exec cannot make from ending the script (exec is a special builtin).
if ! { mkdir -p -m 0700 "$(dirname "$LOCK_FILE")" && command exec 9>>"$LOCK_FILE" && flock -w 30 9; }; then
  echo "sovereign-host-tables: cannot lock $LOCK_FILE; loading anyway" >&2
fi
# A part still installed (its copy of this loader is there) whose definition is missing or not executable is damaged,
# not removed: a deploy that removes a part removes its copy with its definition (and a restart then drops its table).
# The load's first line would remove its working table: its live table (named as the part, - as _) stands in for it,
# and the unit fails, naming the file.
live=''; damaged=''
for l in "$LOADERS"/sovereign-*-nftables; do
  n=$(basename "$l" -nftables)
  { [ -e "$l" ] && [ ! -x "$TABLES/$n" ]; } || continue
  damaged="$damaged $TABLES/$n"
  table=$(nft list tables 2>/dev/null | awk -v t="$(printf '%s' "$n" | tr - _)" '$3 == t { print $2 " " $3; exit }')
  # shellcheck disable=SC2086 # family and name, two words
  if [ -n "$table" ] && d=$(nft list table $table 2>/dev/null) && [ -n "$d" ]; then
    echo "sovereign-host-tables: $TABLES/$n is missing or not executable while its part is installed ($l): keeping its loaded table ($table) as it is; the next deploy writes it again" >&2
    live="$live$d
"
  else
    echo "sovereign-host-tables: $TABLES/$n is missing or not executable while its part is installed ($l), and its table is not loaded: loading the rest without it" >&2
  fi
done
all=$(definitions) && with_first "$all
$live" && { [ -z "$damaged" ] || exit 1; exit 0; }

# Something fails. The conf alone: nothing loads without it.
if ! printf '%s\\n' "$first" | nft -c -f -; then
  echo "sovereign-host-tables: $CONF does not load; nothing loaded (a reload changes nothing; after a stop only the host tables are loaded)" >&2
  exit 1
fi
# Each definition with the conf; the egress allowlist's again with its address sets empty; one that still fails is left out.
kept=$live; left_out=''
for t in "$TABLES"/*; do
  [ -x "$t" ] || continue
  if d=$("$t") && with_first "$d" -c; then
    :
  elif d=$("$t" --empty) && with_first "$d" -c 2>/dev/null; then
    echo "sovereign-host-tables: $t loads with the egress allowlist's address sets empty" >&2
  else
    # The first line flushes the ruleset: a table left out while it is loaded would be removed with it. Its live
    # table stands in for it (what nft lists of it loads again). One whose table is not loaded is left out; one whose
    # table is not known (it printed nothing) only from an empty ruleset (a boot): otherwise nothing loads, the
    # ruleset stays as it is.
    name=$(printf '%s\\n' "\${d:-}" | sed -n '1s/^table \\([a-z0-9]*\\) \\([A-Za-z0-9_]*\\).*/\\1 \\2/p')
    # shellcheck disable=SC2086 # family and name, two words
    if [ -n "$name" ] && d=$(nft list table $name 2>/dev/null) && [ -n "$d" ] && with_first "$d" -c 2>/dev/null; then
      echo "sovereign-host-tables: $t does not load; keeping its loaded table ($name) as it is" >&2
    elif { [ -n "$name" ] && ! nft list table $name >/dev/null 2>&1; } || [ -z "$(nft list tables)" ]; then
      echo "sovereign-host-tables: $t does not load; loading the rest without its table" >&2
      left_out="$left_out $t"; continue
    else
      echo "sovereign-host-tables: $t does not load and its table cannot be kept; nothing loaded, the ruleset stays as it is" >&2
      exit 1
    fi
    left_out="$left_out $t"
  fi
  kept="$kept$d
"
done
if with_first "$kept"; then
  [ -z "$left_out" ] || echo "sovereign-host-tables: loaded without$left_out" >&2
  [ -z "$left_out$damaged" ] && exit 0
  exit 1
fi
# Together they still fail: with nothing loaded (a boot), the conf alone; otherwise the ruleset stays as it is.
if [ "$1" != stop ] && [ -z "$(nft list tables)" ] && nft -f "$CONF"; then
  echo "sovereign-host-tables: loaded $CONF alone, without the host tables" >&2
else
  echo "sovereign-host-tables: nothing loaded (a reload changes nothing; after a stop only the host tables are loaded)" >&2
fi
exit 1
`;

/**
 * A table's drop-in for Debian's nftables.service: its start, reload and stop run the loader (`HOST_TABLES_LOADER`,
 * at `loader`), each in one transaction with every host table. The empty assignments drop Debian's commands; every
 * table's drop-in sets the same, so the last one read wins and either alone is whole. It runs in nftables.service's
 * sandbox (`ProtectSystem=full`: /etc and /usr read-only).
 */
export function nftablesServiceDropIn(owner: string, loader: string): string {
  return [
    `# Rendered by cdktf-sovereign-hetzner (${owner}): Debian's nftables.service flushes the ruleset, and loads`,
    '# /etc/nftables.conf (which flushes it too), each in a transaction of its own; the host tables would be missing',
    '# between them. Its start, reload and stop load them in the same transaction instead.',
    '[Service]',
    'ExecStart=',
    `ExecStart=${loader} start`,
    'ExecReload=',
    `ExecReload=${loader} reload`,
    'ExecStop=',
    `ExecStop=${loader} stop`,
    '',
  ].join('\n');
}
