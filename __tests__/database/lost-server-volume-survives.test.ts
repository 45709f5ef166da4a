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

// Phase 3: production's data directory is on a volume, which outlives the server (Hetzner detaches it; it is
// delete-protected). docs/backup.md ("Production is lost") says the new server's deploy starts the cluster it finds
// on the volume, with every write up to the loss, and needs no restore. On the new server, apt's postgresql-15 has
// created and started its own empty cluster on the root disk before the setup runs. The exact rendered setup of
// production's bundle, a real PostgreSQL 15, a tmpfs as the volume, moved from the lost machine to the new one.
const ready = fs.existsSync(`${PG_BIN}/postgres`) && NamespacePair.available();
const describeReal = describeWithRealParts(ready, 'the lost-server-volume suite', 'root, ip netns and PostgreSQL 15');

const PASSWORD = 'a-production-password-long-enough';
function productionBundle() {
  const product = new Product({
    name: 'acme', phase: Phase.ONE, admin, stateBucket: 'acme-state', boundary: policy, backup, monitoring,
    staging: StagingMode.fromProductionSnapshot(), database: { storage: DatabaseStorage.volume() },
  });
  const stack = new EnvironmentStack(Testing.app(), 'acme-production', { product, environment: Environment.PRODUCTION });
  return synthesizedBundle(JSON.parse(Testing.synth(stack)), 'acme-production-app');
}

describeReal('production lost in Phase 3: the new server and the surviving volume', () => {
  jest.setTimeout(180_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-volume-survives-'));
  const lost = path.join(tmp, 'lost');
  const rebuilt = path.join(tmp, 'rebuilt');
  let ns: NamespacePair;
  const bundle = productionBundle();

  const packageCluster = (root: string) => {
    fs.mkdirSync(root, { recursive: true });
    createDebianCluster(root);
  };
  const rolledOut = (root: string) => {
    layOutDatabaseFiles(bundle, root, { database_app_password_production: PASSWORD });
    serviceByPgCtl(root);
    const dropIn = path.join(root, 'etc/postgresql/15/main/conf.d/50-sovereign.conf');
    fs.writeFileSync(dropIn, fs.readFileSync(dropIn, 'utf8').replace(/^data_directory = '(.*)'$/m, (_, dir) => `data_directory = '${path.join(root, dir)}'`));
    fs.mkdirSync(path.join(root, 'srv/postgresql'), { recursive: true });
  };
  const setup = (root: string) => {
    const r = spawnSync('ip', ['netns', 'exec', ns.db, MACHINE_PYTHON, path.join(root, 'usr/local/sbin/sovereign-postgres-setup')],
      { env: { PATH: process.env.PATH, SOVEREIGN_ROOT: root, LANG: 'C.UTF-8' }, encoding: 'utf8' });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  };
  const sql = (root: string, query: string, database = 'postgres') => execFileSync('ip', ['netns', 'exec', ns.db, 'runuser', '-u', 'postgres', '--', `${PG_BIN}/psql`, '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
    '-h', path.join(root, 'var/run/postgresql'), '-d', database, '-c', query], { encoding: 'utf8', cwd: '/' }).trim();
  const pgCtl = (...args: string[]) => execFileSync('ip', ['netns', 'exec', ns.db, 'runuser', '-u', 'postgres', '--', `${PG_BIN}/pg_ctl`, ...args], { stdio: 'pipe', cwd: '/' });

  beforeAll(() => {
    ns = NamespacePair.create(`v${process.pid % 10000}`, { privateCidr: '10.0.1.2/24', publicAddress: '192.0.2.1', outsideAddress: '192.0.2.2', privateSubnet: '10.0.1.0/24' });
    // The lost production: its first deploy moved the cluster onto the volume, then the app wrote to it.
    packageCluster(lost);
    rolledOut(lost);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512m', 'tmpfs', path.join(lost, 'srv/postgresql')]);
    const first = setup(lost);
    if (first.code !== 0) throw new Error(first.out);
    sql(lost, 'CREATE TABLE tenants AS SELECT g AS id, md5(g::text) AS name FROM generate_series(1, 3000) g; ALTER TABLE tenants OWNER TO app', 'app');
    // The server is gone: PostgreSQL stops with it (no clean shutdown), and Hetzner detaches the volume.
    pgCtl('-D', path.join(lost, 'srv/postgresql/15/main'), '-m', 'immediate', '-w', 'stop');
    // The new server: apt's postgresql-15 created its own empty cluster on the root disk and started it, as Debian's
    // unit does (from the configuration directory), before the rollout switched the bundle's files in.
    packageCluster(rebuilt);
    pgCtl('-D', path.join(rebuilt, 'etc/postgresql/15/main'), '-l', path.join(rebuilt, 'var/log/postgresql/postgresql.log'), '-w', 'start');
    rolledOut(rebuilt);
    // The deploy attaches the volume to it, and the bundle mounts it.
    execFileSync('mount', ['--move', path.join(lost, 'srv/postgresql'), path.join(rebuilt, 'srv/postgresql')]);
  });

  afterAll(() => {
    for (const root of [rebuilt, lost]) {
      for (const data of ['srv/postgresql/15/main', 'var/lib/postgresql/15/main']) {
        spawnSync('runuser', ['-u', 'postgres', '--', `${PG_BIN}/pg_ctl`, '-D', path.join(root, data), '-m', 'immediate', 'stop'], { cwd: '/' });
      }
      spawnSync('umount', [path.join(root, 'srv/postgresql')]);
    }
    ns?.destroy();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test("the new server's setup serves the volume's cluster, with the writes up to the loss, and the app's password", () => {
    const run = setup(rebuilt);
    if (run.code !== 0) throw new Error(run.out);
    expect(run.out).not.toMatch(/moving the cluster|created database/);
    expect(sql(rebuilt, 'SHOW data_directory')).toBe(path.join(rebuilt, 'srv/postgresql/15/main'));
    expect(sql(rebuilt, 'SELECT count(*) FROM tenants', 'app')).toBe('3000');
    const asApp = execFileSync('ip', ['netns', 'exec', ns.db, `${PG_BIN}/psql`, '-X', '-A', '-t', '-w', 'host=10.0.1.2 port=5432 user=app dbname=app sslmode=disable', '-c', 'SELECT count(*) FROM tenants'],
      { env: { PATH: process.env.PATH, PGPASSWORD: PASSWORD }, encoding: 'utf8' }).trim();
    expect(asApp).toBe('3000');
  });
});
