import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { guardOnClone, IDENTITY_FILE, IDENTITY_GUARD_FILE, IDENTITY_SCRIPT, identityPart } from '../../lib/hetzner/private/machine-identity';
import { ROLLOUT_STATE_DIR } from '../../lib/hetzner/private/rollout-agent';
import { ERROR_MONITORING_ENV, RELAY_URLS } from '../../lib/monitoring/private/paths';
import { MACHINE_PYTHON } from '../setup/real-parts';

// Review: a clone's lock-down removed only the exact paths of the original's secrets. A write of one cut short on the
// original (the monitoring setup's <file>.tmp: the DSN, the webhook URLs, an SMTP password) left the secret in its .tmp,
// which a staging server built from the snapshot carried over and kept.
describe("a clone's lock-down", () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'identity-lock-down-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const put = (file: string, content: string) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), content, { mode: 0o600 });
  };
  const exists = (file: string) => fs.existsSync(path.join(root, file));
  const check = () => spawnSync(MACHINE_PYTHON, [path.join(root, 'sovereign-identity'), 'check'], {
    env: { PATH: process.env.PATH, SOVEREIGN_ROOT: root, SOVEREIGN_IDENTITY_WAIT: '0' }, encoding: 'utf8',
  });

  /**
   * A clone of server 4711 running as 9999, whose guard registers `files` and whose current bundle has one
   * deploy-time file, which it returns.
   */
  const cloneRegistering = (files: string[]): string => {
    const machine = {};
    guardOnClone(machine, { files });
    const guard = (identityPart(machine, '4711').files ?? []).find((f) => f.path === IDENTITY_GUARD_FILE)!.content;
    put(IDENTITY_GUARD_FILE, typeof guard === 'function' ? guard() : String(guard));
    put(IDENTITY_FILE, 'SERVER_ID=4711\n');
    // The server this copy runs as (the metadata service's answer, cached for the boot).
    put('/run/sovereign/instance-id', '9999\n');
    fs.writeFileSync(path.join(root, 'sovereign-identity'), IDENTITY_SCRIPT, { mode: 0o755 });
    const template = '/etc/acme/credentials.env';
    put(`${ROLLOUT_STATE_DIR}/current-bundle.json`, JSON.stringify({ parts: [{ name: 'acme', files: [{ path: template, template: true }] }] }));
    return template;
  };

  test('removes the .tmp of every file the guard registers and of every deploy-time file, and no other file', () => {
    const template = cloneRegistering([ERROR_MONITORING_ENV, RELAY_URLS]);
    const secrets = [ERROR_MONITORING_ENV, RELAY_URLS, template].flatMap((file) => [file, `${file}.tmp`]);
    for (const file of secrets) put(file, 'SENTRY_DSN=https://key@errors.example/1\n');
    // Not the original's secrets: a .tmp of an unregistered file, and a file named like a registered one's .tmp's prefix.
    const kept = ['/etc/acme/notes.txt.tmp', `${ERROR_MONITORING_ENV}.tmp.bak`];
    for (const file of kept) put(file, 'kept\n');
    const run = check();
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/runs as server 9999 but its bundle was built for server 4711 .*: disabled 0 units and removed 6 files of the original/);
    expect(secrets.filter(exists)).toEqual([]);
    expect(kept.filter(exists)).toEqual(kept);
    // A second check (the next job's) finds nothing more to remove.
    expect(check().stderr).toMatch(/removed 0 files of the original/);
  });

  // Review: the rollout agent's write_atomic, cut short between its mkstemp and its rename, leaves
  // .sovereign-rollout.<8 of [a-z0-9_]> beside the deploy-time file it was writing (the secret in it); the lock-down
  // removed only the registered paths and their .tmp, so a clone kept it.
  test("removes write_atomic's leftovers beside every registered file and in the agent's state, only regular files of that exact name", () => {
    const template = cloneRegistering([ERROR_MONITORING_ENV]);
    // Left by real write_atomic crashes: mkstemp's names, from the same prefix the agent uses.
    const leftovers = [
      `${path.dirname(template)}/.sovereign-rollout.${'a1_b2c3d'}`,
      `${path.dirname(ERROR_MONITORING_ENV)}/.sovereign-rollout.zz9_0000`,
      `${ROLLOUT_STATE_DIR}/.sovereign-rollout.q0w9e8r7`,
    ];
    for (const file of leftovers) put(file, 'SENTRY_DSN=https://key@errors.example/1\n');
    // Not write_atomic's: another length, an upper-case letter, an unregistered directory, a directory and a symlink of the name.
    const kept = ['/etc/acme/.sovereign-rollout.a1b2c3d', '/etc/acme/.sovereign-rollout.A1b2c3d4', '/etc/other/.sovereign-rollout.a1b2c3d4'];
    for (const file of kept) put(file, 'kept\n');
    fs.mkdirSync(path.join(root, '/etc/acme/.sovereign-rollout.dir00000'));
    put('/etc/target', 'kept\n');
    fs.symlinkSync(path.join(root, '/etc/target'), path.join(root, '/etc/acme/.sovereign-rollout.link0000'));
    const run = check();
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/removed 3 files of the original/);
    expect(leftovers.filter(exists)).toEqual([]);
    expect(kept.filter(exists)).toEqual(kept);
    expect(fs.statSync(path.join(root, '/etc/acme/.sovereign-rollout.dir00000')).isDirectory()).toBe(true);
    expect(fs.lstatSync(path.join(root, '/etc/acme/.sovereign-rollout.link0000')).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(path.join(root, '/etc/target'), 'utf8')).toBe('kept\n');
    expect(check().stderr).toMatch(/removed 0 files of the original/);
  });
});
