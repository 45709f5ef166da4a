import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { synthDatabase } from './helpers/fixture';
import { layOutDatabaseFiles } from './helpers/machine-files';
import { createDebianCluster, PG_BIN } from '../../testing/postgres-cluster';
import { describeWithRealParts, isRoot, MACHINE_PYTHON } from '../setup/real-parts';

// A PostgreSQL major change declared in code, reaching a machine whose data is in the old major's cluster:
// production's image changed from debian-12 to debian-13 (Terraform ignores it on the running server, the
// bundle now configures PostgreSQL 17), deployed before the cluster was upgraded on the machine. A real
// PostgreSQL 15 cluster holds the app's data and runs; the exact rendered setup of the 17 bundle meets it.
const ready = isRoot && fs.existsSync(`${PG_BIN}/postgres`);
const describeReal = describeWithRealParts(ready, 'the major change suite', 'root and PostgreSQL 15 (/usr/lib/postgresql/15/bin)');

describeReal('a major change declared in code, deployed onto the old major\'s data', () => {
  jest.setTimeout(120_000);
  let root: string;
  const data = () => path.join(root, 'var/lib/postgresql/15/main');
  const socket = () => path.join(root, 'var/run/postgresql');

  const setup = () => {
    const r = spawnSync(MACHINE_PYTHON, [path.join(root, 'usr/local/sbin/sovereign-postgres-setup')],
      { env: { PATH: process.env.PATH, SOVEREIGN_ROOT: root, LANG: 'C.UTF-8' }, encoding: 'utf8' });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  };
  const sql = (query: string, database = 'app') => execFileSync('runuser', ['-u', 'postgres', '--', `${PG_BIN}/psql`, '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
    '-h', socket(), '-d', database, '-c', query], { encoding: 'utf8', cwd: '/' }).trim();

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-major-'));
    createDebianCluster(root);
    // PostgreSQL 15 as the deploys of the debian-12 bundle left it: the app's database, with data, served.
    execFileSync('runuser', ['-u', 'postgres', '--', `${PG_BIN}/pg_ctl`, '-D', data(), '-l', path.join(root, 'var/log/postgresql/15.log'), '-w',
      '-o', `-c unix_socket_directories=${socket()} -c listen_addresses=`, 'start'], { stdio: 'pipe', cwd: '/' });
    sql('CREATE DATABASE app', 'postgres');
    sql('CREATE TABLE tenants AS SELECT g AS id FROM generate_series(1, 1000) g');
  });

  afterAll(() => {
    if (!root) return;
    spawnSync('runuser', ['-u', 'postgres', '--', `${PG_BIN}/pg_ctl`, '-D', data(), '-m', 'immediate', 'stop'], { cwd: '/' });
    fs.rmSync(root, { recursive: true, force: true });
  });

  for (const volumeMount of [undefined, '/srv/postgresql']) {
    test(`the setup refuses, naming the old cluster and the upgrade, and changes nothing (${volumeMount ? 'data directory on a volume' : 'root disk'})`, () => {
      const { bundle, database } = synthDatabase({ image: 'debian-13', volumeMount });
      expect(database.version.major).toBe(17);
      layOutDatabaseFiles(bundle, root, { database_app_password: 'a-password-long-enough-for-the-app' });
      const run = setup();
      // Before: "no cluster in /var/lib/postgresql/17/main. Fix: reinstall postgresql-17 or restore from the backups"
      // (a reinstall creates an empty cluster, which the next deploy served; a restore loses what came after the
      // last dump), or, on a volume, "restore the database from the backups into the new directory".
      expect(run.out).toMatch(new RegExp(String.raw`FAILED: the machine is configured for PostgreSQL 17, whose cluster ${volumeMount ? `${volumeMount}/17/main` : String.raw`/var/lib/postgresql/17/main`} `
        + String.raw`holds no database, but the PostgreSQL 15 cluster in /var/lib/postgresql/15/main holds the data \(1 database besides PostgreSQL's own\); a deploy never upgrades a cluster, `
        + String.raw`nor starts or moves an empty one in its place\. Fix: upgrade the cluster on the machine \(pg_upgradecluster 15 main\) as docs/database\.md, `
        + String.raw`section Changing the PostgreSQL major, of cdktf-sovereign-hetzner \(node_modules/cdktf-sovereign-hetzner/docs/database\.md in your IaC repo, `
        + String.raw`or cdktn-sovereign-hetzner under CDK Terrain\) says, then deploy again`));
      expect(run.out).not.toMatch(/reinstall|restore the database from the backups/);
      expect(run.code).toBe(1);
      // The old major still serves the data, and nothing was created or moved.
      expect(sql('SELECT count(*) FROM tenants')).toBe('1000');
      expect(fs.existsSync(path.join(root, 'var/lib/postgresql/17'))).toBe(false);
      expect(fs.existsSync(path.join(root, 'srv/postgresql/17'))).toBe(false);
    });
  }
});
