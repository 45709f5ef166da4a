/**
 * What the host tables (the egress allowlist, the private-network ingress) share: a table loadable again at any
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
 * it), and after Debian's nftables.service, which flushes the whole ruleset when it is enabled. A rollout reloads it
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
    "# Debian's nftables.service flushes the whole ruleset: when it is enabled, load after it.",
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

/** Where a table's drop-in for Debian's nftables.service goes (`nftablesServiceDropIn`). */
export function nftablesDropInPath(name: string): string {
  return `/etc/systemd/system/nftables.service.d/50-${name}.conf`;
}

/**
 * A drop-in for Debian's nftables.service, which loads /etc/nftables.conf (it starts with `flush ruleset`) on every
 * start, restart and reload: the table is loaded again right after, in the unit's own job, so that
 * `systemctl restart nftables` between boots and deploys never leaves the machine without it until the next boot.
 * (Its stop, `nft flush ruleset`, and a flush by hand are the table's check's to find: nothing runs then.)
 * `load` is the command that loads it (`nftLoad(rulesetFile)`, or one that loads what fills its sets with it); it
 * runs in nftables.service's sandbox (`ProtectSystem=full`: /etc and /usr read-only), and `what` says what it brings back.
 */
export function nftablesServiceDropIn(owner: string, load: string, what = 'load this table again after it.'): string {
  return [
    `# Rendered by cdktf-sovereign-hetzner (${owner}): /etc/nftables.conf flushes the whole ruleset when nftables.service`,
    `# starts, restarts or reloads; ${what}`,
    '[Service]',
    `ExecStartPost=${load}`,
    `ExecReload=${load}`,
    '',
  ].join('\n');
}
