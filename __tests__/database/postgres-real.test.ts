import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { synthDatabase } from './helpers/fixture';
import { createDebianCluster, layOutDatabaseFiles, PG_BIN, serviceByPgCtl } from './helpers/machine-files';
import { NamespacePair } from './helpers/netns';
import { describeWithRealParts, MACHINE_PYTHON } from '../setup/real-parts';

// The exact files a production machine's bundle installs (conf.d drop-in, pg_hba.conf, the setup script
// and its settings, the password file rendered as Terraform renders it) run a real PostgreSQL 15
// inside a network namespace that carries the machine's private address 10.0.1.2 and a stand-in
// public address; a second namespace stands for the world outside the private network. What the
// files allow is checked by connecting, never by reading them.
const PRIVATE = '10.0.1.2';
const PUBLIC = '192.0.2.1';
const OUTSIDE = '192.0.2.2';
const PASSWORD = "s3cret-app-password-'quoted'-42";

const ready = fs.existsSync(`${PG_BIN}/postgres`) && NamespacePair.available();
const describeReal = describeWithRealParts(ready, 'the PostgreSQL proof suite', 'root, ip netns and PostgreSQL 15 (/usr/lib/postgresql/15/bin)');

describeReal('the rendered PostgreSQL configuration, on a real PostgreSQL 15', () => {
  jest.setTimeout(120_000);
  let root: string;
  let ns: NamespacePair;
  let setupOutput: string[] = [];

  function setup(): { code: number | null; out: string } {
    const r = spawnSync(ns.exec(ns.db)[0], [...ns.exec(ns.db).slice(1), MACHINE_PYTHON, path.join(root, 'usr/local/sbin/sovereign-postgres-setup')],
      { env: { PATH: process.env.PATH, SOVEREIGN_ROOT: root, LANG: 'C.UTF-8' }, encoding: 'utf8' });
    const out = `${r.stdout}${r.stderr}`;
    setupOutput.push(out);
    return { code: r.status, out };
  }

  /** psql as the app role from a namespace; returns the output or the error. */
  function connect(from: string, host: string, options: { password?: string; database?: string } = {}): { ok: boolean; out: string } {
    const r = spawnSync('ip', ['netns', 'exec', from, `${PG_BIN}/psql`, '-X', '-A', '-t', '-w',
      `host=${host} port=5432 user=app dbname=${options.database ?? 'app'} connect_timeout=5 sslmode=disable`,
      '-c', 'SELECT inet_server_addr() || \' \' || current_user'],
      { env: { PATH: process.env.PATH, PGPASSWORD: options.password ?? PASSWORD }, encoding: 'utf8' });
    return { ok: r.status === 0, out: `${r.stdout}${r.stderr}`.trim() };
  }

  function superuser(sql: string): string {
    return execFileSync('ip', ['netns', 'exec', ns.db, 'runuser', '-u', 'postgres', '--', `${PG_BIN}/psql`, '-X', '-A', '-t',
      '-h', path.join(root, 'var/run/postgresql'), '-d', 'postgres', '-c', sql], { encoding: 'utf8' }).trim();
  }

  beforeAll(() => {
    const { bundle } = synthDatabase();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-real-'));
    createDebianCluster(root);
    layOutDatabaseFiles(bundle, root, { database_app_password: PASSWORD });
    serviceByPgCtl(root);
    ns = NamespacePair.create(String(process.pid % 100000), { privateCidr: `${PRIVATE}/24`, publicAddress: PUBLIC, outsideAddress: OUTSIDE, privateSubnet: '10.0.1.0/24' });
  });

  afterAll(() => {
    if (root) spawnSync('runuser', ['-u', 'postgres', '--', `${PG_BIN}/pg_ctl`, '-D', path.join(root, 'etc/postgresql/15/main'), '-m', 'immediate', 'stop']);
    ns?.destroy();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  test('the setup starts the server, creates the role and database, and prints no secret', () => {
    const first = setup();
    expect(first.out).toMatch(/created role app/);
    expect(first.out).toMatch(/created database app/);
    expect(first.code).toBe(0);
    expect(superuser("SELECT rolpassword LIKE 'SCRAM-SHA-256$4096:%' FROM pg_authid WHERE rolname = 'app'")).toBe('t');
    expect(superuser('SHOW password_encryption')).toBe('scram-sha-256');
  });

  test('a second run changes nothing', () => {
    const before = superuser("SELECT rolpassword FROM pg_authid WHERE rolname = 'app'");
    const second = setup();
    expect(second.code).toBe(0);
    expect(second.out).not.toMatch(/created|set the password|restarting/);
    expect(superuser("SELECT rolpassword FROM pg_authid WHERE rolname = 'app'")).toBe(before);
  });

  test('the app role connects over the private address and over localhost, with its password only', () => {
    expect(connect(ns.db, PRIVATE)).toEqual({ ok: true, out: `${PRIVATE}/32 app` });
    expect(connect(ns.db, '127.0.0.1')).toEqual({ ok: true, out: '127.0.0.1/32 app' });
    const wrong = connect(ns.db, PRIVATE, { password: 'not-the-password-at-all' });
    expect(wrong.ok).toBe(false);
    expect(wrong.out).toMatch(/password authentication failed for user "app"/);
    const otherDatabase = connect(ns.db, PRIVATE, { database: 'postgres' });
    expect(otherDatabase.ok).toBe(false);
    expect(otherDatabase.out).toMatch(/pg_hba.conf rejects connection/);
  });

  test('from an address outside the private network the app role is refused, even with its password', () => {
    const outside = connect(ns.outside, PRIVATE);
    expect(outside.ok).toBe(false);
    expect(outside.out).toMatch(/pg_hba.conf rejects connection for host "192\.0\.2\.2"/);
  });

  test('the server does not listen on any other address of the machine', () => {
    const publicAddress = connect(ns.db, PUBLIC);
    expect(publicAddress.ok).toBe(false);
    expect(publicAddress.out).toMatch(/Connection refused/);
    expect(superuser('SHOW listen_addresses')).toBe(`localhost,${PRIVATE}`);
  });

  test('a changed password is set on the next run, and the old one stops working', () => {
    fs.writeFileSync(path.join(root, 'etc/sovereign/postgres/app-password'), 'a-rotated-password-of-enough-length\n');
    const run = setup();
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/set the password of role app/);
    expect(connect(ns.db, PRIVATE).ok).toBe(false);
    expect(connect(ns.db, PRIVATE, { password: 'a-rotated-password-of-enough-length' }).ok).toBe(true);
  });

  test('the password reaches neither the output nor the server log', () => {
    const log = fs.readFileSync(path.join(root, 'var/log/postgresql/postgresql.log'), 'utf8');
    for (const text of [...setupOutput, log]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain('a-rotated-password-of-enough-length');
    }
  });
});
