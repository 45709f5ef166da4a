import { ADDRESS_WAIT_SECONDS, waitForAddressCommand } from '../../hetzner/private/private-address';
import { PostgresTuning } from '../postgres-tuning';
import { PostgresVersion } from '../postgres-version';

export interface RenderInput {
  readonly version: PostgresVersion;
  readonly tuning: PostgresTuning;
  readonly privateAddress: string;
  readonly privateSubnet: string;
  readonly database: string;
  readonly role: string;
  readonly port: number;
  readonly dataDirectory: string;
  readonly source: string;
}

/** Where the server listens: localhost and the environment's private address, never a public one (and never '*'). */
export function listenAddresses(input: Pick<RenderInput, 'privateAddress'>): string[] {
  return ['localhost', input.privateAddress];
}

/** conf.d drop-in: Debian's postgresql.conf includes conf.d last, so these settings win. */
export function renderDropIn(input: RenderInput): string {
  const settings: Array<[string, string | number]> = [
    ['listen_addresses', listenAddresses(input).join(',')],
    ['port', input.port],
    ['password_encryption', 'scram-sha-256'],
    ...(input.dataDirectory !== input.version.packageDataDirectory ? [['data_directory', input.dataDirectory] as [string, string]] : []),
    ...input.tuning.toSettings(),
    ['log_connections', 'on'],
    ['log_disconnections', 'on'],
  ];
  return [
    `# Rendered by cdktf-sovereign-hetzner from ${input.source}; edits are replaced on the next deploy.`,
    `# ${input.version}, ${input.tuning}.`,
    ...settings.map(([k, v]) => `${k} = ${typeof v === 'number' ? v : `'${v}'`}`),
    '',
  ].join('\n');
}

/**
 * The whole pg_hba.conf: first match wins, and anything not listed is rejected. Over the private network the app
 * role is admitted from the machine's own private address and from each of `clients` (the private addresses of the
 * machines its table admits to the port), never from the whole subnet: a machine nobody declared is refused by
 * PostgreSQL too, should the table be gone (flushed, or never loaded on a server built without the library).
 */
export function renderHba(input: RenderInput, clients: readonly string[]): string {
  const rows: string[][] = [
    ['local', 'all', 'postgres', '', 'peer'],
    ['local', input.database, input.role, '', 'scram-sha-256'],
    ['host', input.database, input.role, '127.0.0.1/32', 'scram-sha-256'],
    ['host', input.database, input.role, '::1/128', 'scram-sha-256'],
    ['host', input.database, input.role, `${input.privateAddress}/32`, 'scram-sha-256'],
    ...[...new Set(clients)].map((address) => ['host', input.database, input.role, `${address}/32`, 'scram-sha-256']),
    ['host', 'all', 'all', '0.0.0.0/0', 'reject'],
    ['host', 'all', 'all', '::/0', 'reject'],
  ];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length)) + 2);
  return [
    `# Rendered by cdktf-sovereign-hetzner from ${input.source}; edits are replaced on the next deploy.`,
    '# postgres over the Unix socket as the postgres OS user (backups, the drill); the app role with',
    `# SCRAM-SHA-256 from localhost, this machine's private address and the machines declared to reach it over the`,
    `# private network ${input.privateSubnet} (networkClients); nothing else.`,
    ...rows.map((r) => r.map((c, i) => (i < 4 ? c.padEnd(widths[i]) : c)).join('').trimEnd()),
    '',
  ].join('\n');
}

/** What the setup script reads. */
export function renderSetupConf(input: RenderInput & { passwordFile: string; passwordVariable: string; requireMount?: string; createEmptyClusterIfMissing?: boolean }): string {
  const unit = input.version.serviceName;
  return `${JSON.stringify({
    major: input.version.major,
    package: input.version.serverPackage,
    bin: input.version.binDirectory,
    dataDirectory: input.dataDirectory,
    packageDataDirectory: input.version.packageDataDirectory,
    requireMount: input.requireMount ?? null,
    createEmptyClusterIfMissing: input.createEmptyClusterIfMissing ?? false,
    socketDirectory: '/var/run/postgresql',
    port: input.port,
    // The setup checks that the server accepts connections on each of these, as the drop-in sets them.
    listenAddresses: listenAddresses(input),
    addressWaitSeconds: ADDRESS_WAIT_SECONDS,
    // What the drop-in tunes for the server type: the setup names those ALTER SYSTEM overrides.
    tuning: Object.fromEntries(input.tuning.toSettings().map(([name, value]) => [name, String(value)])),
    osUser: 'postgres',
    database: input.database,
    role: input.role,
    passwordFile: input.passwordFile,
    passwordVariable: input.passwordVariable,
    serviceName: unit,
    service: {
      start: ['systemctl', 'start', unit],
      stop: ['systemctl', 'stop', unit],
      restart: ['systemctl', 'restart', unit],
    },
  }, null, 2)}\n`;
}

/**
 * The server waits for the network, so the private address exists when it binds; and for the volume its data
 * lives on, which fstab mounts with `nofail` (so nothing else orders the mount before the server).
 */
export function renderUnitDropIn(privateAddress: string, volumeMountPath?: string): string {
  return [
    '# Rendered by cdktf-sovereign-hetzner: listen_addresses names the private address, which appears',
    '# only once the private network is up; without this the server would start on localhost alone.',
    '[Unit]',
    'Wants=network-online.target',
    'After=network-online.target',
    ...(volumeMountPath === undefined ? [] : [
      '# The data directory is on a volume mounted with nofail: after a reboot the server must wait for it,',
      '# and not start at all without it (an empty mount point is no cluster).',
      `RequiresMountsFor=${volumeMountPath}`,
    ]),
    '',
    '[Service]',
    "# network-online.target does not wait for Hetzner's private network: wait for the address itself, up to",
    '# 2 minutes (Debian\'s unit has no start timeout), then start anyway, on localhost (backups, drill). The',
    '# setup, when a deploy changes the database\'s files, restarts it onto the address or fails saying why.',
    `ExecStartPre=-${waitForAddressCommand(privateAddress, ADDRESS_WAIT_SECONDS)}`,
    '',
  ].join('\n');
}

