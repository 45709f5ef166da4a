import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdktf';
import { DatabaseStorage, Environment, Phase, Product, StagingMode } from '../../lib';
import { EnvironmentStack } from '../../stacks';
import { synthesizedBundle } from '../../testing/bundle';
import { policy } from '../boundary/fixtures';
import { admin, backup, monitoring } from '../setup/product-basics';
import { layOutDatabaseFiles } from './helpers/machine-files';
import { createDebianCluster, PG_BIN, serviceByPgCtl } from '../../testing/postgres-cluster';
import { NamespacePair } from './helpers/netns';
import { describeWithRealParts, MACHINE_PYTHON } from '../setup/real-parts';

// Staging built from production's snapshot when production's data directory is on a volume (Phase 3's default):
// the snapshot holds the root disk, where the cluster was moved away from (/var/lib/postgresql/15/main.moved-…, or
// nothing once the team deleted it as docs/database.md says), and no volume. Synth warns that staging starts
// without production's data (Environment-StagingWithoutData); its deploy must then give it an empty cluster to
// restore into, not fail. A real PostgreSQL 15 runs the exact rendered files of staging's bundle.
const ready = fs.existsSync(`${PG_BIN}/postgres`) && NamespacePair.available();
const describeReal = describeWithRealParts(ready, 'the staging-from-snapshot suite', 'root, ip netns and PostgreSQL 15');

const SETUP_JSON = '/etc/sovereign/postgres/setup.json';
const product = (storage: DatabaseStorage) => new Product({
  name: 'acme', phase: Phase.ONE, admin, stateBucket: 'acme-state', boundary: policy, backup, monitoring,
  staging: StagingMode.fromProductionSnapshot(), database: { storage },
});
function bundleOf(environment: Environment, storage: DatabaseStorage) {
  const stack = new EnvironmentStack(Testing.app(), `acme-${environment.name}`, {
    product: product(storage), environment, ...(environment === Environment.STAGING ? { expiresAt: '2026-12-31' } : {}),
  });
  return synthesizedBundle(JSON.parse(Testing.synth(stack)), `acme-${environment.name}-app`);
}
const setupConf = (bundle: ReturnType<typeof bundleOf>) => JSON.parse(bundle.files.get(SETUP_JSON)!.content!);

test('only staging built from the snapshot of a production whose data is on a volume may start from an empty cluster', () => {
  expect(setupConf(bundleOf(Environment.STAGING, DatabaseStorage.volume()))).toMatchObject({ createEmptyClusterIfMissing: true });
  // Anywhere else a missing cluster is lost data, and the deploy fails saying so.
  expect(setupConf(bundleOf(Environment.STAGING, DatabaseStorage.rootDisk()))).toMatchObject({ createEmptyClusterIfMissing: false });
  expect(setupConf(bundleOf(Environment.PRODUCTION, DatabaseStorage.volume()))).toMatchObject({ createEmptyClusterIfMissing: false });
  expect(setupConf(bundleOf(Environment.TEST, DatabaseStorage.volume()))).toMatchObject({ createEmptyClusterIfMissing: false });
});

describeReal("staging's deploy on production's snapshot, production's data on a volume", () => {
  jest.setTimeout(120_000);
  let root: string;
  let ns: NamespacePair;

  const setup = () => {
    const r = spawnSync('ip', ['netns', 'exec', ns.db, MACHINE_PYTHON, path.join(root, 'usr/local/sbin/sovereign-postgres-setup')],
      { env: { PATH: process.env.PATH, SOVEREIGN_ROOT: root, LANG: 'C.UTF-8' }, encoding: 'utf8' });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  };
  const sql = (query: string) => execFileSync('ip', ['netns', 'exec', ns.db, 'runuser', '-u', 'postgres', '--', `${PG_BIN}/psql`, '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
    '-h', path.join(root, 'var/run/postgresql'), '-d', 'postgres', '-c', query], { encoding: 'utf8', cwd: '/' }).trim();

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-staging-'));
    ns = NamespacePair.create(`s${process.pid % 10000}`, { privateCidr: '10.0.1.2/24', publicAddress: '192.0.2.1', outsideAddress: '192.0.2.2', privateSubnet: '10.0.1.0/24' });
    // Production's root disk as the snapshot holds it: Debian's cluster configuration, the data moved to the volume.
    createDebianCluster(root);
    fs.renameSync(path.join(root, 'var/lib/postgresql/15/main'), path.join(root, 'var/lib/postgresql/15/main.moved-20260101000000'));
    layOutDatabaseFiles(bundleOf(Environment.STAGING, DatabaseStorage.volume()), root, { database_app_password_staging: 'a-staging-password-long-enough' });
    serviceByPgCtl(root);
  });

  afterAll(() => {
    if (root) spawnSync('runuser', ['-u', 'postgres', '--', `${PG_BIN}/pg_ctl`, '-D', path.join(root, 'etc/postgresql/15/main'), '-m', 'immediate', 'stop'], { cwd: '/' });
    ns?.destroy();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  test('the setup creates an empty cluster, and the app role and database in it, ready for the restore', () => {
    const run = setup();
    // Before: "FAILED: no cluster in /var/lib/postgresql/15/main. Fix: reinstall postgresql-15 or restore from the backups",
    // and staging's deploy failed, though synth had said it would start without production's data.
    expect(run.out).toMatch(/created an empty PostgreSQL 15 cluster in \/var\/lib\/postgresql\/15\/main: this server was built from a snapshot without the data; restore a backup into it before relying on it, as docs\/backup\.md, section Restoring by hand, of cdktf-sovereign-hetzner \(node_modules\/cdktf-sovereign-hetzner\/docs\/backup\.md in your IaC repo/);
    expect(run.code).toBe(0);
    expect(sql("SELECT datname FROM pg_database WHERE datname = 'app'")).toBe('app');
    expect(sql("SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'app'")).toBe('UTF8');
    // The root disk's leftover copy of production's data is left alone.
    expect(fs.existsSync(path.join(root, 'var/lib/postgresql/15/main.moved-20260101000000/PG_VERSION'))).toBe(true);
    // The next deploy finds the cluster and creates nothing.
    const again = setup();
    expect(again.code).toBe(0);
    expect(again.out).not.toMatch(/created/);
  });
});
