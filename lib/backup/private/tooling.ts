import { BundleFile } from '../../hetzner/machine-bundle';
import { IMachine } from '../../hetzner/machine';
import { IDENTITY_UNIT_LINES } from '../../hetzner/private/machine-identity';
import {
  HOST_TABLES_LOADER, hostTableDefinition, nftablesServiceDropIn, replacingTable, tableBootUnit,
} from '../../hetzner/private/nftables-table';
import { Schedule } from '../schedule';
import {
  METADATA_GUARD_CHECK, METADATA_GUARD_HOST_TABLE, METADATA_GUARD_RUNTIME_FILES, METADATA_GUARD_TABLE, metadataGuardCheckFiles,
} from './metadata-guard-check';
import { ASKPASS, COMMON, TABLE_DIGEST_SQL } from './scripts';

/** Where the tooling keeps its configuration and secrets on the machine. */
export const ETC = '/etc/sovereign-backup';
export const LIB = '/usr/local/lib/sovereign-backup';
export const SBIN = '/usr/local/sbin';
export const UNITS = '/etc/systemd/system';
export const STATE = '/var/lib/sovereign-backup';
export const BASE_PART = 'sovereign-backup tooling';

/**
 * A file of the tooling. Scripts are executable, secrets and configuration root-only. Files with
 * Terraform references are filled in at deploy; the bundle escapes Terraform's template sequences
 * (`${`, `%{`) in their literal text, so shell `${VAR}` reaches the machine as written.
 */
export function file(path: string, content: string, permissions: '0755' | '0644' | '0600'): BundleFile {
  return { path, content, permissions, owner: 'root:root' };
}

/** A static script or SQL file of the tooling. */
export function script(path: string, content: string, permissions: '0755' | '0644' = '0755'): BundleFile {
  return file(path, content, permissions);
}

/** A shell-sourced `KEY='value'` file; values may hold tokens (resolved by Terraform at apply). */
export function shellConf(header: string, entries: ReadonlyArray<readonly [string, string | number]>): string {
  const quote = (v: string | number) => (typeof v === 'number' ? String(v) : `'${v.replace(/'/g, `'\\''`)}'`);
  return `# ${header}\n${entries.map(([k, v]) => `${k}=${quote(v)}`).join('\n')}\n`;
}

/**
 * Unit lines of a job that reads or writes times: it starts once the clock is synchronized. A dump
 * taken with a clock that runs ahead (timers with Persistent=true fire right after boot) passes every
 * age check until its date. time-sync.target alone is reached as soon as the time service starts;
 * systemd-time-wait-sync (in Debian 12's systemd package) holds it until the kernel clock is
 * synchronized, whichever service synchronizes it. Without that unit the dump's own check remains.
 */
export const TIME_SYNC_UNIT_LINES: readonly string[] = [
  'Wants=time-sync.target systemd-time-wait-sync.service',
  'After=time-sync.target systemd-time-wait-sync.service',
];

/**
 * A oneshot service. It runs only on the server its bundle was built for (ExecCondition=, see
 * lib/hetzner/private/machine-identity.ts): on a clone of production it is skipped, not failed.
 */
export function service(description: string, execStart: string, extra: { unit?: string[]; service?: string[] } = {}): string {
  return [
    '[Unit]', `Description=${description}`, ...IDENTITY_UNIT_LINES.unit, ...(extra.unit ?? []), '',
    '[Service]', 'Type=oneshot', ...IDENTITY_UNIT_LINES.service, `ExecStart=${execStart}`, 'Nice=10', 'IOSchedulingClass=best-effort', 'IOSchedulingPriority=7',
    ...(extra.service ?? []), '',
  ].join('\n');
}

/**
 * A timer. The service it starts checks the machine's identity before it runs (see `service`). The randomized delay staggers the machines that share a Storage Box (at most 10
 * connections per account); `Persistent` runs a job missed while the machine was off.
 */
export function timer(description: string, schedule: Schedule, randomizedDelay: string): string {
  return [
    '[Unit]', `Description=${description} (${schedule})`, '',
    '[Timer]', `OnCalendar=${schedule.onCalendar}`, `RandomizedDelaySec=${randomizedDelay}`, 'Persistent=true', '',
    '[Install]', 'WantedBy=timers.target', '',
  ].join('\n');
}

export const METADATA_GUARD_RULESET = `${ETC}/metadata-guard.nft`;
/** Its boot unit: loads the table at every boot, before the network; a rollout reloads it. */
export const METADATA_GUARD_UNIT = 'sovereign-metadata-guard.service';

const METADATA_GUARD = `# Written by cdktf-sovereign-hetzner. Only root may query the metadata service: the user data
# (readable at http://169.254.169.254/hetzner/v1/userdata) holds the backup secrets.
${replacingTable(METADATA_GUARD_TABLE, `  chain output {
    type filter hook output priority 0; policy accept;
    ip daddr 169.254.169.254 meta skuid != 0 reject
  }
  chain forward {
    type filter hook forward priority 0; policy accept;
    ip daddr 169.254.169.254 reject
  }
`)}`;

/**
 * The part every machine with backup tooling gets once: the shared functions, the table digest,
 * the askpass helper, and the metadata guard.
 */
export function ensureBasePart(machine: IMachine): void {
  if (machine.bundle.partNames.includes(BASE_PART)) return;
  machine.addBundlePart({
    name: BASE_PART,
    // procps: pgrep, with which a job stops what its background restic started.
    packages: ['restic', 'nftables', 'procps'],
    runtimeFiles: METADATA_GUARD_RUNTIME_FILES,
    files: [
      script(`${LIB}/common.sh`, COMMON, '0644'),
      script(`${LIB}/table-digest.sql`, TABLE_DIGEST_SQL, '0644'),
      file(`${LIB}/askpass`, ASKPASS, '0755'),
      file(METADATA_GUARD_RULESET, METADATA_GUARD, '0644'),
      // A host table: nftables.service's restart, reload and stop load it in their transaction (its unit is a oneshot
      // that has run; without these the guard was gone until the next boot).
      file(METADATA_GUARD_HOST_TABLE.dropIn, nftablesServiceDropIn('backup tooling', METADATA_GUARD_HOST_TABLE.loader), '0644'),
      file(METADATA_GUARD_HOST_TABLE.loader, HOST_TABLES_LOADER, '0755'),
      file(METADATA_GUARD_HOST_TABLE.definition, hostTableDefinition('backup tooling', `exec cat ${METADATA_GUARD_RULESET}`), '0755'),
      // Loaded before the network, as the other host tables: its unit ran after basic.target, beside the other
      // services, with the network up, so a process of another user started at boot could read the user data first.
      file(`${UNITS}/${METADATA_GUARD_UNIT}`, tableBootUnit({
        description: 'Only root may query the metadata service (user data holds backup secrets)', rulesetFile: METADATA_GUARD_RULESET,
      }), '0644'),
      // Loads it again when something removed it (a load that left it out, nft delete table), and tells monitoring.
      ...metadataGuardCheckFiles(METADATA_GUARD_RULESET),
    ],
    commands: [
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'enable', '--now', METADATA_GUARD_UNIT, `${METADATA_GUARD_CHECK}.timer`],
      // A oneshot that has run stays active: enable --now starts nothing, and a changed ruleset stayed unloaded until
      // the next boot. Loads it, or replaces it in one transaction.
      ['systemctl', 'reload-or-restart', METADATA_GUARD_UNIT],
    ],
  });
}

/** Shell-safe names of a plan's targets on a machine: storagebox, storagebox2, offsite, … */
export function targetNames(targets: ReadonlyArray<{ readonly kind: string }>): string[] {
  const seen = new Map<string, number>();
  return targets.map((t) => {
    const n = (seen.get(t.kind) ?? 0) + 1;
    seen.set(t.kind, n);
    return n === 1 ? t.kind : `${t.kind}${n}`;
  });
}
