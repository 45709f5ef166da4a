import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { USER_DATA_LIMIT_BYTES } from '../../lib/hetzner/cloud-init';
import { synthBackupApp } from './helpers/fixture';
import { decodeWriteFiles, writeMachineFiles } from './helpers/machine-root';
import { renderTemplate, serverIdValues, templateValues } from './helpers/terraform-template';
import { MACHINE_PYTHON } from '../setup/real-parts';

// What the machines receive, checked with the tools that will read it: Debian's cloud-init
// schema, bash's parser and systemd's unit verifier.
const { production, test: testEnv } = synthBackupApp({ hostKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr'] });
const subaccount = Object.keys(production.json.resource.hcloud_storage_box_subaccount)[0];
const values = templateValues(
  { restic_password: 'p', production_restic_password: 'p', heartbeat_url: 'https://hc-ping.com/key', storage_box_app_password: 'Pw-1-long-enough' },
  { [`hcloud_storage_box_subaccount.${subaccount}.server`]: 'u1-sub1.your-storagebox.de', [`hcloud_storage_box_subaccount.${subaccount}.username`]: 'u1-sub1' },
);
// The machine's identity check references its server's ID, which the provider assigns at apply.
Object.assign(values, serverIdValues(production.userData, testEnv.userData));
const machines = { production: renderTemplate(production.userData, values), test: renderTemplate(testEnv.userData, values) };

let tmp: string;
beforeAll(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'backup-rendered-')); });
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const bootstrap = (json: any): string => renderTemplate((Object.values(json.resource.hcloud_server)[0] as any).user_data, values);

describe.each(Object.entries(machines))('the %s machine\'s bundle', (name, userData) => {
  test('its user data is a bootstrap only: valid cloud-config according to Debian\'s cloud-init schema, at most 8 KiB, no secret', () => {
    const json = name === 'production' ? production.json : testEnv.json;
    const file = path.join(tmp, `${name}.yaml`);
    fs.writeFileSync(file, bootstrap(json));
    const result = spawnSync('cloud-init', ['schema', '--config-file', file], { encoding: 'utf8' });
    expect(`${result.stdout}${result.stderr}`).toMatch(/Valid cloud-config/);
    expect(result.status).toBe(0);
    expect(Buffer.byteLength(bootstrap(json))).toBeLessThan(Math.min(8192, USER_DATA_LIMIT_BYTES));
    expect(bootstrap(json)).not.toMatch(/var\./);
  });

  test('holds its scripts as bash can parse them, executable, and its secrets root-only', () => {
    const root = path.join(tmp, `${name}-root`);
    const files = writeMachineFiles(userData, root);
    const scripts = files.filter((f) => f.content.startsWith('#!/bin/bash') || f.path.endsWith('.sh'));
    expect(scripts.length).toBeGreaterThanOrEqual(2);
    for (const script of scripts) {
      const check = spawnSync('bash', ['-n', path.join(root, script.path)], { encoding: 'utf8' });
      expect({ script: script.path, stderr: check.stderr }).toEqual({ script: script.path, stderr: '' });
    }
    for (const f of files.filter((f) => f.path.startsWith('/usr/local/sbin/'))) expect(f.permissions).toBe('0755');
    // A systemd unit's drop-in (the metadata guard's for nftables.service) is configuration systemd reads, no secret.
    const secrets = files.filter((f) => (f.path.includes('/secrets/') || f.path.endsWith('.conf')) && !f.path.startsWith('/etc/systemd/'));
    expect(secrets.length).toBeGreaterThan(0);
    for (const f of secrets) expect({ path: f.path, permissions: f.permissions }).toEqual({ path: f.path, permissions: '0600' });
  });

  test('has systemd units that systemd-analyze verifies', () => {
    const root = path.join(tmp, `${name}-units`);
    const files = writeMachineFiles(userData, root);
    // The host's own units (sysinit.target, …) and the tools the guard calls, so that only our units are judged.
    fs.mkdirSync(path.join(root, 'usr/lib/systemd'), { recursive: true });
    fs.symlinkSync('/usr/lib/systemd/system', path.join(root, 'usr/lib/systemd/system'));
    fs.mkdirSync(path.join(root, 'usr/sbin'), { recursive: true });
    fs.writeFileSync(path.join(root, 'usr/sbin/nft'), '#!/bin/sh\n', { mode: 0o755 });
    const units = files.filter((f) => /\.(service|timer)$/.test(f.path)).map((f) => path.join(root, f.path));
    expect(units.length).toBeGreaterThanOrEqual(3);
    const result = spawnSync('systemd-analyze', ['verify', '--man=no', `--root=${root}`, ...units], { encoding: 'utf8' });
    expect({ status: result.status, problems: result.stderr.split('\n').filter((l) => l.includes(root) && !l.includes('Failed to resolve symlink')) })
      .toEqual({ status: 0, problems: [] });
  });
});

test('timers run the schedules of the plan and the drill, as systemd reads them', () => {
  // The calendar timers; the metadata guard's 2-minute check runs on a monotonic timer on every machine (below).
  const timers = (userData: string) => decodeWriteFiles(userData)
    .filter((f) => f.path.endsWith('.timer') && /OnCalendar=/.test(f.content))
    .map((f) => [path.basename(f.path), /OnCalendar=(.*)/.exec(f.content)![1]]);
  for (const userData of [machines.production, machines.test]) {
    expect(decodeWriteFiles(userData).filter((f) => f.path.endsWith('.timer') && !/OnCalendar=/.test(f.content))
      .map((f) => [path.basename(f.path), /OnUnitActiveSec=(.*)/.exec(f.content)?.[1]]))
      .toEqual([['sovereign-metadata-guard-check.timer', '2min']]);
  }
  expect(timers(machines.production)).toEqual([
    ['backup-push.timer', '*-*-* 03:00:00 UTC'],
    ['backup-prune.timer', 'Sun *-*-* 04:00:00 UTC'],
    ['backup-check.timer', '*-*-* 05:00:00 UTC'],
  ]);
  expect(timers(machines.test)).toEqual([['restore-drill.timer', 'Mon *-*-* 06:00:00 UTC']]);
  for (const [, calendar] of [...timers(machines.production), ...timers(machines.test)]) {
    const normalized = execFileSync('systemd-analyze', ['calendar', calendar], { encoding: 'utf8' });
    expect(normalized).toContain(`Normalized form: ${calendar}`);
  }
});

test('Terraform sees no template sequence of its own in the deploy-time files: every ${ is escaped or a reference to a secret or the account', () => {
  const references = production.userData.match(/(?<!\$)\$\{[^}]*\}/g) ?? [];
  expect(new Set(references)).toEqual(new Set([
    // The machine's identity check (lib/hetzner/private/machine-identity.ts).
    ...Object.keys(serverIdValues(production.userData)).map((e) => `\${${e}}`),
    '${base64encode(trimspace(var.heartbeat_url))}', '${base64encode(var.restic_password)}', '${base64encode(var.storage_box_app_password)}',
    `\${hcloud_storage_box_subaccount.${subaccount}.server}`, `\${hcloud_storage_box_subaccount.${subaccount}.username}`,
  ]));
  expect(production.userData).not.toMatch(/(?<!%)%\{/);
});

test('the jobs\' Python runs isolated: a PYTHONPATH in the environment cannot put its own json module under them', () => {
  const root = path.join(tmp, 'python-isolation');
  const files = writeMachineFiles(machines.production, root);
  const common = files.find((f) => f.path.endsWith('/sovereign-backup/common.sh'))!;
  const planted = path.join(tmp, 'planted');
  fs.mkdirSync(planted, { recursive: true });
  fs.writeFileSync(path.join(planted, 'json.py'), 'raise SystemExit("planted json imported")\n');
  const run = (env: NodeJS.ProcessEnv) => spawnSync('bash', ['-c', `. '${path.join(root, common.path)}'; "\${PY[@]}" -c 'import json, sys; print(json.__file__, sys.flags.isolated, sys.flags.no_site)'`],
    { encoding: 'utf8', env: { PATH: process.env.PATH, TMPDIR: tmp, ...env } });
  const isolated = run({ PYTHONPATH: planted });
  expect(isolated.stderr).not.toContain('planted');
  expect(isolated.stdout.trim()).toMatch(/^\/usr\/lib\/python3[\d.]*\/json\/__init__\.py 1 1$/);
  // The planted module is what a plain python3 would import.
  expect(spawnSync(MACHINE_PYTHON, ['-c', 'import json'], { encoding: 'utf8', env: { PYTHONPATH: planted } }).stderr).toContain('planted json imported');
});

// Audit (mutation): every job the suites run ends in ok() or die(), so nothing reached the exit trap's last guard:
// a job that ended with status 0 without verifying its result could have exited 0 (systemd: success) and passed.
test('a job that ends without calling ok() on a verified result exits non-zero, naming why; one that called ok() exits 0', () => {
  const root = path.join(tmp, 'exit-trap');
  const files = writeMachineFiles(machines.production, root);
  const common = path.join(root, files.find((f) => f.path.endsWith('/sovereign-backup/common.sh'))!.path);
  // No HEARTBEAT: the trap pings nothing, and judges the job alone.
  const job = (body: string) => spawnSync('bash', ['-c', `SB_JOB=probe; . '${common}'; ${body}`],
    { encoding: 'utf8', env: { PATH: process.env.PATH, TMPDIR: tmp, SOVEREIGN_BACKUP_ETC: path.join(root, 'etc') } });
  const unverified = job('step "doing nothing"; exit 0');
  expect(unverified.status).toBe(1);
  expect(unverified.stderr).toMatch(/FAILED \(exit 1\) at step 'doing nothing': the job ended without verifying its result/);
  const verified = job('step "checking"; ok "checked"; exit 0');
  expect([verified.status, verified.stderr]).toEqual([0, expect.stringMatching(/probe: OK: checked/)]);
});

// Audit (eighth pass, review): s3_redact replaced the address of any "tcp <address>: " in restic's messages with
// <s3-endpoint>: the DNS resolver's of a name looked up over TCP too (telling the operator the endpoint timed out), and
// text that only ends in tcp ("mytcp x: y", "tcp keepalive: ..."). unreachable() judged restic's last line when there
// was no "Fatal:" line, which restic's stack frames follow.
test('the S3 messages name the endpoint\'s address as <s3-endpoint> in Go\'s network errors only; a timeout counts whatever restic prints after it', () => {
  const root = path.join(tmp, 's3-redact');
  const files = writeMachineFiles(machines.production, root);
  const common = path.join(root, files.find((f) => f.path.endsWith('/sovereign-backup/common.sh'))!.path);
  const bash = (body: string, input: string) => spawnSync('bash', ['-c', `SB_JOB=probe; . '${common}'; ${body}`],
    { input, encoding: 'utf8', env: { PATH: process.env.PATH, TMPDIR: tmp, SOVEREIGN_BACKUP_ETC: path.join(root, 'etc') } });
  const lines: [string, string][] = [
    ['Fatal: unable to open config file: Stat: Get "https://s3.example.eu/bucket-1/repo/config": dial tcp 203.0.113.7:443: i/o timeout',
      'Fatal: unable to open config file: Stat: Get "https://<s3-endpoint>/<bucket>/repo/config": dial tcp <s3-endpoint>: i/o timeout'],
    ['Put "https://<s3-endpoint>/x": dial tcp [::1]:9000: connect: connection refused', 'Put "https://<s3-endpoint>/x": dial tcp <s3-endpoint>: connect: connection refused'],
    ['dial tcp6 [2001:db8::7]:443: connect: network is unreachable', 'dial tcp6 <s3-endpoint>: connect: network is unreachable'],
    ['read tcp 10.0.0.5:40022->203.0.113.7:443: read: connection reset by peer', 'read tcp 10.0.0.5:40022-><s3-endpoint>: read: connection reset by peer'],
    ['write tcp4 10.0.0.5:40022->203.0.113.7:443: write: broken pipe', 'write tcp4 10.0.0.5:40022-><s3-endpoint>: write: broken pipe'],
    // Audit (eighth pass, second review): Go's other net.OpError operations on a connection (io.Copy's readfrom and
    // writeto, setting a deadline or keepalive) were left out, the endpoint's IP unredacted.
    ['readfrom tcp 10.0.0.5:40022->203.0.113.7:9000: write: broken pipe', 'readfrom tcp 10.0.0.5:40022-><s3-endpoint>: write: broken pipe'],
    ['writeto tcp 10.0.0.5:40022->203.0.113.7:9000: read: connection reset by peer', 'writeto tcp 10.0.0.5:40022-><s3-endpoint>: read: connection reset by peer'],
    ['set tcp 10.0.0.5:40022->203.0.113.7:9000: setsockopt: invalid argument', 'set tcp 10.0.0.5:40022-><s3-endpoint>: setsockopt: invalid argument'],
    ['dial tcp: lookup s3.example.eu on 10.0.0.2:53: no such host', 'dial tcp: lookup <s3-endpoint> on 10.0.0.2:53: no such host'],
    ['dial tcp: lookup s3.example.eu on 10.0.0.2:53: dial tcp 10.0.0.2:53: i/o timeout', 'dial tcp: lookup <s3-endpoint> on 10.0.0.2:53: dial tcp 10.0.0.2:53: i/o timeout'],
    ['mytcp 10.1.1.1: y', 'mytcp 10.1.1.1: y'],
    ['tcp keepalive: 15s', 'tcp keepalive: 15s'],
  ];
  const redacted = bash("s3_redact 's3.example.eu' 'bucket-1'", lines.map(([line]) => line).join('\n') + '\n');
  expect(redacted.stdout.split('\n').slice(0, -1)).toEqual(lines.map(([, want]) => want));

  const errors = path.join(tmp, 'restic.err');
  const judged = (stderr: string) => { fs.writeFileSync(errors, stderr); return bash(`rc=0; unreachable '${errors}' || rc=$?; echo "rc=$rc"`, '').stdout; };
  // restic prints an error that is not Fatal with its stack frames (%+v): the timeout is not its last line.
  const stack = 'Load(<config/0000000000>, 0, 0) failed: Get "https://<s3-endpoint>/config": dial tcp <s3-endpoint>: i/o timeout\n'
    + 'github.com/restic/restic/internal/backend/s3.(*Backend).openReader\n\t/build/internal/backend/s3/s3.go:300\nruntime.goexit\n\t/usr/lib/go/src/runtime/asm_amd64.s:1650\n';
  expect(judged(stack)).toBe('Load(<config/0000000000>, 0, 0) failed: Get "https://<s3-endpoint>/config": dial tcp <s3-endpoint>: i/o timeout\nrc=0\n');
  // A timeout restic's own retry got past says nothing of the repository now.
  const retried = 'Load(<lock/1234>, 0, 0) returned error, retrying after 552ms: dial tcp <s3-endpoint>: i/o timeout\n'
    + 'unable to load lock: Access Denied\ngithub.com/restic/restic/internal/restic.LoadLock\n\t/build/internal/restic/lock.go:300\n';
  expect(judged(retried)).toBe('rc=1\n');
});
