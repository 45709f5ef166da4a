import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdktf';
import { Duration, Phase } from '../../lib';
import { productFixture, synth, userDataOf } from './helpers/fixture';
import { runJobHook, startLiveProber } from './helpers/live-prober';
import { FAKE_SECRETS, MachineRoot } from './helpers/machine-root';
import { isRoot, MACHINE_PYTHON, testWithRealParts } from '../setup/real-parts';
import { recordedCalls, recordingWrapper } from '../setup/recording-wrapper';
import { synthesizedBundle } from '../../testing/bundle';
import { openFiles, tcpSockets } from '../../testing/harness/processes';
import { waitFor } from '../../testing/harness/wait';
import { REDACT_LOG_SCRIPT } from '../../lib/monitoring/private/scripts';
import { monitoringPhaseDocument } from '../../lib/monitoring/monitoring-document';

// The rendered setup script and job hook, run as cloud-init and systemd run them, against a
// temporary root (their paths come from the environment, which only tests set).
describe('the on-machine tooling', () => {
  const roots: MachineRoot[] = [];
  afterAll(() => roots.forEach((r) => r.remove()));
  // One synth per phase for the whole file, made by the first test that asks (so a test run alone with -t still makes
  // it): each test makes a root of its own from the machine's user data, a string no test can change.
  const synthesized = new Map<Phase, unknown>();
  const userData = (phase: Phase, name: string) => {
    if (!synthesized.has(phase)) synthesized.set(phase, synth(productFixture({ phase, backups: false }).production.stack));
    return userDataOf(synthesized.get(phase), name);
  };
  const production = (variables = FAKE_SECRETS, phase = Phase.THREE, name = 'acme-production-monitoring') => {
    const root = MachineRoot.create(userData(phase, name), variables);
    roots.push(root);
    return root;
  };
  // Phase 1 with its backups, without validations: with its backup tooling the machine exceeds 32 KiB until the user data
  // is compressed as a whole. Kept as the synthesized text, which each test parses into a copy of its own.
  let withBackups: { production: string; test: string } | undefined;
  const phaseOneWithBackups = () => {
    if (!withBackups) {
      const { production: prod, test: testEnv } = productFixture({ phase: Phase.ONE });
      withBackups = { production: Testing.synth(prod.stack), test: Testing.synth(testEnv.stack) };
    }
    return withBackups;
  };

  test('cloud-init runs the setup before it (re)starts the daemons', () => {
    const runcmd: unknown[] = require('yaml').parse(production().userData).runcmd;
    const at = (command: unknown) => runcmd.findIndex((c) => JSON.stringify(c) === JSON.stringify(command));
    expect(at(['/usr/local/sbin/sovereign-monitoring-setup', 'alertmanager'])).toBeGreaterThanOrEqual(0);
    expect(at(['/usr/local/sbin/sovereign-monitoring-setup', 'alertmanager']))
      .toBeLessThan(at(['systemctl', 'restart', 'prometheus', 'prometheus-alertmanager', 'prometheus-blackbox-exporter']));
    expect(at(['/usr/local/sbin/sovereign-monitoring-setup', 'watch'])).toBeLessThan(at(['systemctl', 'restart', 'prometheus-node-exporter']));
  });

  test('setup alertmanager: webhook URLs go into the relay\'s root-only file, never the configuration; SMTP passwords into files of their own', () => {
    const root = production();
    expect(root.setup('alertmanager')).toEqual({ status: 0, output: '' });
    const config = root.read('/etc/sovereign-monitoring/alertmanager.yml');
    const urls = root.path('/etc/sovereign-monitoring/secrets/webhook-urls.json');
    expect(JSON.parse(fs.readFileSync(urls, 'utf8'))).toEqual({
      monitoring_webhook_ops: FAKE_SECRETS.monitoring_webhook_ops, monitoring_deadman_ping_url_production: FAKE_SECRETS.monitoring_deadman_ping_url_production,
    });
    expect(fs.statSync(urls).mode & 0o777).toBe(0o600);
    expect(config).toContain('url: "http://127.0.0.1:9095/monitoring_webhook_ops"');
    expect(config).toContain('url: "http://127.0.0.1:9095/monitoring_deadman_ping_url_production"');
    for (const name of ['monitoring_webhook_ops', 'monitoring_deadman_ping_url_production']) {
      const { pathname, search } = new URL(FAKE_SECRETS[name]);
      expect(config).not.toContain(`${pathname}${search}`);
    }
    const password = root.path('/etc/sovereign-monitoring/secrets/monitoring_smtp_password_oncall');
    expect(fs.readFileSync(password, 'utf8')).toBe(FAKE_SECRETS.monitoring_smtp_password_oncall);
    expect(fs.statSync(password).mode & 0o777).toBe(0o640);
    expect(fs.statSync(root.path('/etc/sovereign-monitoring/alertmanager.yml')).mode & 0o777).toBe(0o640);
  });

  test("Alertmanager's drop-in: its own user, prometheus's group first and its own as a supplementary one, a data directory either can write, its user made before it starts", () => {
    const root = production();
    const dropIn = root.read('/etc/systemd/system/prometheus-alertmanager.service.d/sovereign-monitoring.conf');
    const settings = (key: string) => [...dropIn.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]);
    expect(['User', 'Group', 'SupplementaryGroups', 'StateDirectory', 'StateDirectoryMode'].map((key) => settings(key))).toEqual([
      ['sovereign-alertmanager'], ['prometheus'], ['sovereign-alertmanager'], ['prometheus/alertmanager'], ['0775']]);
    // StateDirectory= re-owns the directory below /var/lib that Alertmanager writes to, and the phase pages name: one directory.
    // (The machine's paths are below the test's root here.)
    const data = `/var/lib/${settings('StateDirectory')[0]}`;
    expect(/--storage\.path=(\S+)/.exec(settings('ExecStart').join(' '))?.[1]).toBe(root.path(data));
    for (const phase of Phase.all()) expect(monitoringPhaseDocument(phase)).toContain(`its data directory \`${data}\` is`);
    expect(settings('Wants')).toContain('sovereign-alertmanager-user.service');
    expect(settings('After')).toContain('sovereign-alertmanager-user.service');
    expect(root.read('/etc/systemd/system/sovereign-alertmanager-user.service')).toMatch(/^ExecStart=systemd-sysusers \/etc\/sysusers.d\/sovereign-alertmanager.conf$/m);
    expect(root.read('/etc/sysusers.d/sovereign-alertmanager.conf')).toMatch(/^u sovereign-alertmanager - "Alertmanager \(sovereign-monitoring\)" \/nonexistent \/usr\/sbin\/nologin$/m);
  });

  // Debian runs Prometheus and the exporters as `prometheus` (and Alertmanager too, but for its drop-in). Each file is
  // read here as the daemons' identities: Prometheus's as Debian's unit gives it, Alertmanager's as its drop-in does.
  const hasSysusers = spawnSync('systemd-sysusers', ['--version']).status === 0;
  const hasSetpriv = spawnSync('setpriv', ['--version']).status === 0;
  const readsSmtp = "setup alertmanager makes Alertmanager's user with systemd-sysusers; Alertmanager reads the SMTP passwords, Prometheus's user cannot; a second run and one after an earlier version keep it so";
  testWithRealParts(isRoot && hasSysusers && hasSetpriv, readsSmtp, 'root, systemd-sysusers and setpriv')(readsSmtp, () => {
    const root = production();
    // The user the setup makes stays on the host (it is the machine's own), so a reused host would hide a setup that
    // no longer makes it: a recording systemd-sysusers first on PATH shows the setup's own call.
    // Beside the machine's files, so that it goes with the root.
    const bin = path.join(root.dir, 'test-bin');
    fs.mkdirSync(bin);
    const log = path.join(bin, 'calls.log');
    recordingWrapper(bin, 'systemd-sysusers', log);
    const setup = () => {
      const run = spawnSync(root.path('/usr/local/sbin/sovereign-monitoring-setup'), ['alertmanager'],
        { env: { ...root.toolEnv, PATH: `${bin}:${root.toolEnv.PATH}` }, encoding: 'utf8' });
      return { status: run.status, output: `${run.stdout}${run.stderr}` };
    };
    const calls = () => recordedCalls(log);
    // The daemons reach the files through the temporary root as through /etc on the machine.
    fs.chmodSync(root.dir, 0o755);
    const dropIn = root.read('/etc/systemd/system/prometheus-alertmanager.service.d/sovereign-monitoring.conf');
    const setting = (key: string) => new RegExp(`^${key}=(.+)$`, 'm').exec(dropIn)?.[1];
    const alertmanager = ['--reuid', setting('User')!, '--regid', setting('Group')!, '--groups', setting('SupplementaryGroups')!];
    // Its primary group is prometheus's (the web password, its configuration), its own group a supplementary one (the SMTP passwords).
    expect(alertmanager).toEqual(['--reuid', 'sovereign-alertmanager', '--regid', 'prometheus', '--groups', 'sovereign-alertmanager']);
    const prometheus = ['--reuid', 'prometheus', '--regid', 'prometheus', '--init-groups'];
    const readAs = (identity: string[], machinePath: string) => spawnSync('setpriv', [...identity, 'cat', root.path(machinePath)], { encoding: 'utf8' });
    const smtp = '/etc/sovereign-monitoring/secrets/monitoring_smtp_password_oncall';
    const idOf = (database: string, name: string) => Number(spawnSync('getent', [database, name], { encoding: 'utf8' }).stdout.split(':')[2]);
    const expectAlertmanagerAloneReads = () => {
      expect(readAs(alertmanager, smtp)).toMatchObject({ status: 0, stdout: FAKE_SECRETS.monitoring_smtp_password_oncall });
      expect(readAs(prometheus, smtp)).toMatchObject({ status: 1, stdout: '', stderr: expect.stringContaining('Permission denied') });
      // Both still authenticate to each other's web APIs, and Alertmanager reads its configuration.
      for (const file of ['/etc/sovereign-monitoring/secrets/web_password', '/etc/sovereign-monitoring/web/web.yml']) {
        expect(readAs(alertmanager, file).status).toBe(0);
        expect(readAs(prometheus, file).status).toBe(0);
      }
      expect(readAs(alertmanager, '/etc/sovereign-monitoring/alertmanager.yml').status).toBe(0);
    };
    expect(setup()).toEqual({ status: 0, output: '' });
    expect(calls()).toEqual([root.path('/etc/sysusers.d/sovereign-alertmanager.conf')]);
    expect(fs.statSync(root.path(smtp)).gid).toBe(idOf('group', 'sovereign-alertmanager'));
    expectAlertmanagerAloneReads();
    // StateDirectory= re-owns Debian's data directory at every start as User:Group with its mode: Alertmanager as its own
    // user and as `prometheus` (an earlier bundle after a rollback, Debian's unit after the postinst) both write snapshots.
    // The test applies the owner and mode itself, as systemd would (252 chmods an existing state directory to the mode):
    // it proves what those values allow, not that systemd applies them.
    expect([setting('StateDirectory'), setting('StateDirectoryMode')]).toEqual(['prometheus/alertmanager', '0775']);
    const data = path.join(root.dir, 'var-lib-prometheus-alertmanager');
    fs.mkdirSync(data);
    fs.chownSync(data, idOf('passwd', setting('User')!), idOf('group', setting('Group')!));
    fs.chmodSync(data, parseInt(setting('StateDirectoryMode')!, 8));
    for (const [identity, file] of [[alertmanager, 'nflog.new'], [prometheus, 'silences.new']] as const) {
      expect(spawnSync('setpriv', [...identity, 'touch', path.join(data, file)], { encoding: 'utf8' })).toMatchObject({ status: 0, stderr: '' });
    }
    // A second deploy runs the setup again; the user is there by then.
    expect(setup()).toEqual({ status: 0, output: '' });
    expectAlertmanagerAloneReads();
    // A machine an earlier version set up holds the password as root:prometheus; the rollout's run hands it over.
    fs.chownSync(root.path(smtp), 0, idOf('group', 'prometheus'));
    expect(readAs(prometheus, smtp).status).toBe(0);
    expect(setup()).toEqual({ status: 0, output: '' });
    expectAlertmanagerAloneReads();
    expect(calls()).toHaveLength(3);
  });

  const alertmanagerUnit = '/lib/systemd/system/prometheus-alertmanager.service';
  const verifiesDropIn = "systemd-analyze verify reads Debian's Alertmanager unit with the drop-in (it names the drop-in's program) and parses the drop-in's keys without a complaint";
  testWithRealParts(fs.existsSync(alertmanagerUnit) && spawnSync('systemd-analyze', ['--version']).status === 0, verifiesDropIn,
    `systemd-analyze and prometheus-alertmanager's unit (${alertmanagerUnit})`)(verifiesDropIn, () => {
      const root = production();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alertmanager-unit-'));
      try {
        fs.copyFileSync(alertmanagerUnit, path.join(dir, 'prometheus-alertmanager.service'));
        fs.mkdirSync(path.join(dir, 'prometheus-alertmanager.service.d'));
        // The drop-in's program, moved to a path that is surely absent: verify names it, which proves it read the drop-in.
        const absent = path.join(dir, 'absent', 'sovereign-redact-log');
        const dropIn = root.read('/etc/systemd/system/prometheus-alertmanager.service.d/sovereign-monitoring.conf');
        const program = `ExecStart=${root.path('/usr/local/sbin/sovereign-redact-log')} `;
        expect(dropIn).toContain(program);
        fs.writeFileSync(path.join(dir, 'prometheus-alertmanager.service.d', 'sovereign-monitoring.conf'), dropIn.replace(program, `ExecStart=${absent} `));
        // The unit the drop-in wants, which makes the user before Alertmanager starts.
        fs.writeFileSync(path.join(dir, 'sovereign-alertmanager-user.service'), root.read('/etc/systemd/system/sovereign-alertmanager-user.service'));
        const run = spawnSync('systemd-analyze', ['verify', '--man=no', path.join(dir, 'prometheus-alertmanager.service'), path.join(dir, 'sovereign-alertmanager-user.service')],
          { encoding: 'utf8', env: { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:` } });
        expect(run.stderr).not.toMatch(/Failed to parse|Unknown key|Invalid|not found|sovereign-monitoring\.conf/);
        expect(run.stderr).toContain(`prometheus-alertmanager.service: Command ${absent} is not executable`);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

  // The setup applies this file to the machine's own users; here it goes to a root of its own (--root), from an empty
  // one and from one whose user lost its group (useradd would refuse: the unit would fail with 216/GROUP).
  const sysusersFile = "the bundle's sysusers.d file makes Alertmanager's user and group, and a group its user lacks";
  testWithRealParts(hasSysusers, sysusersFile, 'systemd-sysusers')(sysusersFile, () => {
      const root = production();
      const declaration = root.path('/etc/sysusers.d/sovereign-alertmanager.conf');
      const system = fs.mkdtempSync(path.join(os.tmpdir(), 'alertmanager-sysusers-'));
      try {
        const apply = (passwd: string) => {
          fs.rmSync(path.join(system, 'etc'), { recursive: true, force: true });
          fs.mkdirSync(path.join(system, 'etc'));
          fs.writeFileSync(path.join(system, 'etc', 'passwd'), passwd);
          fs.writeFileSync(path.join(system, 'etc', 'group'), '');
          const run = spawnSync('systemd-sysusers', [`--root=${system}`, declaration], { encoding: 'utf8' });
          expect(run.status).toBe(0);
          return [fs.readFileSync(path.join(system, 'etc', 'passwd'), 'utf8'), fs.readFileSync(path.join(system, 'etc', 'group'), 'utf8')];
        };
        const [passwd, group] = apply('');
        const user = /^sovereign-alertmanager:x:(\d+):(\d+):Alertmanager \(sovereign-monitoring\):\/nonexistent:\/usr\/sbin\/nologin$/m.exec(passwd);
        expect(user).not.toBeNull();
        expect(group).toMatch(new RegExp(`^sovereign-alertmanager:x:${user![2]}:$`, 'm'));
        // The drop-in names the group (SupplementaryGroups=, the SMTP files' group), whatever its number.
        const [, lostGroup] = apply('sovereign-alertmanager:x:990:990::/nonexistent:/usr/sbin/nologin\n');
        expect(lostGroup).toMatch(/^sovereign-alertmanager:x:\d+:$/m);
      } finally {
        fs.rmSync(system, { recursive: true, force: true });
      }
    });

  test("setup alertmanager writes a URL pasted with spaces or a line end around it trimmed: the ping and the webhook reach their hosts", () => {
    const padded = {
      ...FAKE_SECRETS,
      monitoring_webhook_ops: ` ${FAKE_SECRETS.monitoring_webhook_ops}\n`,
      monitoring_deadman_ping_url_production: `${FAKE_SECRETS.monitoring_deadman_ping_url_production}  \r\n`,
    };
    const root = production(padded);
    expect(root.setup('alertmanager')).toEqual({ status: 0, output: '' });
    const urls = JSON.parse(root.read('/etc/sovereign-monitoring/secrets/webhook-urls.json'));
    for (const name of ['monitoring_webhook_ops', 'monitoring_deadman_ping_url_production'] as const) expect(urls[name]).toBe(FAKE_SECRETS[name]);
  });

  test('setup alertmanager refuses a URL whose host is not the declared one, without printing the secret', () => {
    const root = production({ ...FAKE_SECRETS, monitoring_webhook_ops: 'https://hooks.elsewhere.example/T0/B0/secret-token-value' });
    const result = root.setup('alertmanager');
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/the URL in monitoring_webhook_ops points to 'hooks\.elsewhere\.example', not to the declared host chat\.acme\.eu; the egress allowlist lets only chat\.acme\.eu through/);
    expect(result.output).not.toContain('secret-token-value');
    expect(fs.existsSync(root.path('/etc/sovereign-monitoring/alertmanager.yml'))).toBe(false);
  });

  test('setup alertmanager refuses a URL on another port than the declared one, or not https, without printing the secret', () => {
    // Alerts to port 8443 would be dropped by the egress allowlist, which opens the declared port (443) only.
    const port = production({ ...FAKE_SECRETS, monitoring_webhook_ops: 'https://chat.acme.eu:8443/hooks/secret-token-value' }).setup('alertmanager');
    expect(port.status).not.toBe(0);
    expect(port.output).toMatch(/the URL in monitoring_webhook_ops uses port 8443, not the declared 443; the egress allowlist lets only port 443 to chat\.acme\.eu through/);
    const clear = production({ ...FAKE_SECRETS, monitoring_deadman_ping_url_production: 'http://hc-ping.com/secret-token-value' }).setup('alertmanager');
    expect(clear.status).not.toBe(0);
    expect(clear.output).toMatch(/the URL in monitoring_deadman_ping_url_production is not https:\/\/; its token would travel in clear text/);
    for (const result of [port, clear]) expect(result.output).not.toContain('secret-token-value');
  });

  test("setup alertmanager refuses a URL with a space, a quote, a backslash or a character outside ASCII: the log's redaction would stop there, the rest of the token shown", () => {
    for (const bad of ['https://chat.acme.eu/hooks/secret-token-value?t=a b', 'https://chat.acme.eu/hooks/secret-token-value?t=a"b',
      'https://chat.acme.eu/hooks/secret-token-value\\b', 'https://chat.acme.eu/hooks/secret-token-valué']) {
      const result = production({ ...FAKE_SECRETS, monitoring_webhook_ops: bad }).setup('alertmanager');
      expect(result.status).not.toBe(0);
      expect(result.output).toMatch(/the URL in monitoring_webhook_ops holds a space, a quote, a backslash or a character outside ASCII; write it percent-encoded \(%20 for a space/);
      expect(result.output).not.toContain('secret-token-value');
    }
  });

  test("the log's redaction cuts the parts of the configuration's URLs wherever they show, the rotated URL's once the file changes", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redact-log-'));
    try {
      const script = path.join(dir, 'sovereign-redact-log');
      fs.writeFileSync(script, REDACT_LOG_SCRIPT, { mode: 0o755 });
      const config = path.join(dir, 'alertmanager.yml');
      const urlLine = (token: string) => `      - url: "https://chat.acme.eu/hooks/${token}?sig=${token}-sig"\n`;
      fs.writeFileSync(config, urlLine('oldtoken-4711'));
      // A stand-in daemon: logs a refusal's body echoing the path; once told (the URL rotated meanwhile), logs the new one's.
      const daemon = 'import sys\nprint("Cannot POST /hooks/oldtoken-4711 (sig oldtoken-4711-sig)", flush=True)\n'
        + 'sys.stdin.readline()\nprint("Cannot POST /hooks/newtoken-0815; token newtoken-0815", flush=True)';
      const child = spawn(script, [MACHINE_PYTHON, '-c', daemon, `--config.file=${config}`], { stdio: ['pipe', 'ignore', 'pipe'] });
      let logged = '';
      child.stderr!.on('data', (d: Buffer) => { logged += d.toString('utf8'); });
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      await waitFor(() => logged.includes('\n'), { what: 'the first line', timeout: Duration.seconds(10), interval: Duration.millis(20) });
      fs.writeFileSync(config, urlLine('newtoken-0815'));
      child.stdin!.end('go\n');
      expect(await exited).toBe(0);
      expect(logged).toBe('Cannot POST <redacted> (sig <redacted>)\nCannot POST <redacted>; token <redacted>\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('setup alertmanager refuses an empty secret, exiting non-zero so that the rollout fails the deploy (first deploy included)', () => {
    const root = production({ ...FAKE_SECRETS, monitoring_deadman_ping_url_production: '' });
    expect(root.setup('alertmanager')).toEqual({ status: 1, output: expect.stringMatching(/the secret monitoring_deadman_ping_url_production is empty: set its Terraform variable/) });
  });

  test("setup alertmanager makes the web APIs' password once, readable by root and the daemons' group only, and its bcrypt hash", () => {
    const root = production();
    expect(root.setup('alertmanager')).toEqual({ status: 0, output: '' });
    const password = root.read('/etc/sovereign-monitoring/secrets/web_password');
    expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(fs.statSync(root.path('/etc/sovereign-monitoring/secrets/web_password')).mode & 0o777).toBe(0o640);
    const web = root.read('/etc/sovereign-monitoring/web/web.yml');
    const hash = /sovereign: "(\$2b\$10\$[^"]+)"/.exec(web)![1];
    const verify = spawnSync(MACHINE_PYTHON, ['-W', 'ignore', '-c', 'import crypt, sys; print(crypt.crypt(sys.argv[1], sys.argv[2]) == sys.argv[2])', password, hash], { encoding: 'utf8' });
    expect(verify.stdout.trim()).toBe('True');
    // A second run (a rollout that changed the configuration) keeps both, so the daemons keep talking.
    expect(root.setup('alertmanager').status).toBe(0);
    expect(root.read('/etc/sovereign-monitoring/secrets/web_password')).toBe(password);
    expect(root.read('/etc/sovereign-monitoring/web/web.yml')).toBe(web);
  });

  // Review: write() opened <path>.tmp with O_TRUNC, following a symlink there (the textfile collector's directory is
  // prometheus's, and the setup runs as root), then chowned and chmodded it by name; a .tmp a crashed write left stayed.
  /** Every file and symlink under the root (the setup's own scripts aside): its kind, mode and content or target. */
  const tree = (root: MachineRoot) => {
    const found: Record<string, string> = {};
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        const st = fs.lstatSync(full);
        if (entry.isDirectory()) walk(full);
        else found[full.slice(root.dir.length)] = entry.isSymbolicLink() ? `-> ${fs.readlinkSync(full)}` : `${(st.mode & 0o777).toString(8)} ${fs.readFileSync(full, 'utf8')}`;
      }
    };
    walk(root.dir);
    return found;
  };
  /** A file outside the root that a planted symlink points to, as a file the setup must never write (/etc/shadow). */
  const outside = (root: MachineRoot, name: string) => {
    const target = `${root.dir}-${name}`;
    fs.writeFileSync(target, 'not the setup\'s\n', { mode: 0o644 });
    return target;
  };
  const untouched = (target: string) => {
    expect([fs.readFileSync(target, 'utf8'), fs.statSync(target).mode & 0o777]).toEqual(['not the setup\'s\n', 0o644]);
    fs.rmSync(target);
  };

  test("setup alertmanager never writes through a symlink at a file's .tmp, and removes the .tmp a crashed write left; a second run changes nothing", () => {
    const root = production();
    const secrets = '/etc/sovereign-monitoring/secrets';
    const urlsTarget = outside(root, 'urls');
    const dangling = `${root.dir}-nowhere`;
    fs.mkdirSync(root.path(secrets), { recursive: true });
    fs.mkdirSync(root.path('/etc/sovereign-monitoring/web'), { recursive: true });
    fs.symlinkSync(urlsTarget, root.path(`${secrets}/webhook-urls.json.tmp`));
    fs.symlinkSync(dangling, root.path('/etc/sovereign-monitoring/web/web.yml.tmp'));
    // Writes cut short: the configuration half written; a configured receiver's password and a dropped one's, each
    // with its mode set (the crash came before the rename).
    root.write('/etc/sovereign-monitoring/alertmanager.yml.tmp', 'route:\n  recei', 0o600);
    root.write(`${secrets}/monitoring_smtp_password_oncall.tmp`, 'an older password', 0o640);
    root.write(`${secrets}/monitoring_smtp_password_pager.tmp`, 'a dropped receiver\'s password', 0o640);
    expect(root.setup('alertmanager')).toEqual({ status: 0,
      output: 'sovereign-monitoring-setup: removed /etc/sovereign-monitoring/secrets/monitoring_smtp_password_pager.tmp (left by a write cut short)\n' });
    untouched(urlsTarget);
    expect(fs.existsSync(dangling)).toBe(false);
    const after = tree(root);
    expect(Object.keys(after).filter((file) => file.endsWith('.tmp'))).toEqual([]);
    expect(after[`${secrets}/webhook-urls.json`]).toMatch(/^600 \{/);
    expect(JSON.parse(root.read(`${secrets}/webhook-urls.json`))).toHaveProperty('monitoring_webhook_ops', FAKE_SECRETS.monitoring_webhook_ops);
    expect(after['/etc/sovereign-monitoring/web/web.yml']).toMatch(/^640 # Basic auth/);
    expect(after[`${secrets}/monitoring_smtp_password_oncall`]).toBe(`640 ${FAKE_SECRETS.monitoring_smtp_password_oncall}`);
    expect(after['/etc/sovereign-monitoring/alertmanager.yml']).toMatch(/^640 [^]*receivers:/);
    expect(root.setup('alertmanager')).toEqual({ status: 0, output: '' });
    expect(tree(root)).toEqual(after);
  });

  test("setup watch never writes through a symlink at a metric file's .tmp in node exporter's directory, and removes a stale drop-in's .tmp; a second run changes nothing", () => {
    const root = MachineRoot.create(userDataOf(JSON.parse(phaseOneWithBackups().production), 'acme-production-app'));
    roots.push(root);
    const since = '/var/lib/prometheus/node-exporter/sovereign-job-backup-push-watched.prom';
    const target = outside(root, 'since');
    fs.mkdirSync(path.dirname(root.path(since)), { recursive: true });
    fs.symlinkSync(target, root.path(`${since}.tmp`));
    // A drop-in's write cut short on a unit watched still, and on one watched no more (alone in its directory).
    root.write('/etc/systemd/system/backup-push.service.d/50-sovereign-monitoring.conf.tmp', '[Serv', 0o600);
    root.write('/etc/systemd/system/backup-gone.service.d/50-sovereign-monitoring.conf.tmp', '[Serv', 0o600);
    expect(root.setup('watch')).toEqual({ status: 0, output: '' });
    untouched(target);
    const after = tree(root);
    expect(Object.keys(after).filter((file) => file.endsWith('.tmp'))).toEqual([]);
    expect(after[since]).toMatch(/^644 [^]*sovereign_job_watched_since_timestamp_seconds\{unit="backup-push"\} \d+\n$/);
    expect(after['/etc/systemd/system/backup-push.service.d/50-sovereign-monitoring.conf']).toMatch(/^644 \[Service\]\nExecStopPost=-/);
    expect(fs.existsSync(root.path('/etc/systemd/system/backup-gone.service.d'))).toBe(false);
    expect(root.setup('watch')).toEqual({ status: 0, output: '' });
    expect(tree(root)).toEqual(after);
  });

  // Review: write() and watch went through the path of the file's directory, and node exporter's sits in prometheus's
  // /var/lib/prometheus: prometheus swapped it for a symlink (node-exporter -> /tmp/victim) and root wrote and unlinked
  // there. So did the job hook, which the job units run as root.
  describe('a symlink or a directory of another user planted where node exporter\'s directory was', () => {
    const textfiles = '/var/lib/prometheus/node-exporter';
    const planted = () => {
      const root = MachineRoot.create(userDataOf(JSON.parse(phaseOneWithBackups().production), 'acme-production-app'));
      roots.push(root);
      // The directory the symlink points to, outside the root, holding a file of the same name as the setup's own.
      const victim = `${root.dir}-victim`;
      fs.mkdirSync(victim);
      fs.writeFileSync(path.join(victim, 'sovereign-job-backup-push-watched.prom.tmp'), 'not the setup\'s\n', { mode: 0o644 });
      fs.mkdirSync(path.dirname(root.path(textfiles)), { recursive: true });
      fs.symlinkSync(victim, root.path(textfiles));
      const contents = () => fs.readdirSync(victim).map((name) => `${name}: ${fs.readFileSync(path.join(victim, name), 'utf8')}`);
      const before = contents();
      return { root, victim, untouched: () => { expect(contents()).toEqual(before); fs.rmSync(victim, { recursive: true }); } };
    };

    test('setup watch refuses it, says which and how to fix it, and writes nor removes nothing there; once removed, the next run writes', () => {
      const { root, untouched } = planted();
      expect(root.setup('watch')).toEqual({ status: 1, output: `sovereign-monitoring-setup: ${textfiles} is a symlink or not a directory: nothing is written through it; remove it (the setup makes the directory again), then deploy again\n` });
      untouched();
      expect(fs.lstatSync(root.path(textfiles)).isSymbolicLink()).toBe(true);
      fs.rmSync(root.path(textfiles));
      expect(root.setup('watch')).toEqual({ status: 0, output: '' });
      expect(root.read(`${textfiles}/sovereign-job-backup-push-watched.prom`)).toMatch(/^sovereign_job_watched_since_timestamp_seconds\{unit="backup-push"\} \d+$/m);
    });

    test('the job hook refuses it and writes nothing there', () => {
      const { root, untouched } = planted();
      const hook = spawnSync(root.path('/usr/local/sbin/sovereign-job-metric'), ['backup-push'], { env: { ...root.toolEnv, SERVICE_RESULT: 'success' }, encoding: 'utf8' });
      expect([hook.status, hook.stderr]).toEqual([1, expect.stringContaining(`sovereign-job-metric: ${root.path(textfiles)} is a symlink: sovereign-job-backup-push-success.prom not written; remove it`)]);
      untouched();
    });

    const otherOwner = "setup watch and the job hook refuse a directory there that is not root's (prometheus's own), and write nothing in it";
    testWithRealParts(isRoot, otherOwner, 'root (to give the directory another owner)')(otherOwner, () => {
      const root = MachineRoot.create(userDataOf(JSON.parse(phaseOneWithBackups().production), 'acme-production-app'));
      roots.push(root);
      fs.mkdirSync(root.path(textfiles), { recursive: true });
      fs.chownSync(root.path(textfiles), 65534, 65534);
      expect(root.setup('watch')).toEqual({ status: 1, output: expect.stringMatching(new RegExp(`^sovereign-monitoring-setup: ${textfiles} belongs to uid 65534, not to this run's user \\(uid 0\\)`)) });
      const hook = spawnSync(root.path('/usr/local/sbin/sovereign-job-metric'), ['backup-push'], { env: { ...root.toolEnv, SERVICE_RESULT: 'success' }, encoding: 'utf8' });
      expect(hook.status).toBe(1);
      expect(fs.readdirSync(root.path(textfiles))).toEqual([]);
    });

    test('setup alertmanager refuses a symlink where its secrets directory was, and writes no secret through it', () => {
      const root = production();
      const victim = `${root.dir}-secrets`;
      fs.mkdirSync(victim);
      fs.renameSync(root.path('/etc/sovereign-monitoring/secrets'), victim);
      fs.symlinkSync(victim, root.path('/etc/sovereign-monitoring/secrets'));
      const before = fs.readdirSync(victim).sort();
      expect(root.setup('alertmanager')).toEqual({ status: 1, output: expect.stringMatching(/^sovereign-monitoring-setup: \/etc\/sovereign-monitoring\/secrets is a symlink or not a directory/) });
      expect(fs.readdirSync(victim).sort()).toEqual(before);
      fs.rmSync(victim, { recursive: true });
    });
  });

  // Review: write() renamed the .tmp without an fsync before: a power loss could leave the new file empty, and the since
  // file, written only when missing, was then never repaired (its alert fired for good).
  const hasStrace = spawnSync('strace', ['-V']).status === 0;
  const syncs = "setup watch syncs each file's .tmp before its rename and the directory after it, seen in its system calls";
  testWithRealParts(hasStrace, syncs, 'strace')(syncs, () => {
    const root = MachineRoot.create(userDataOf(JSON.parse(phaseOneWithBackups().production), 'acme-production-app'));
    roots.push(root);
    const trace = path.join(root.dir, 'strace.log');
    const run = spawnSync('strace', ['-qq', '-f', '-y', '-o', trace, '-e', 'trace=fsync,rename,renameat,renameat2', root.path('/usr/local/sbin/sovereign-monitoring-setup'), 'watch'],
      { env: root.toolEnv, encoding: 'utf8' });
    expect([run.status, run.stderr]).toEqual([0, '']);
    const calls = fs.readFileSync(trace, 'utf8').split('\n').map((line) => line.replace(/^\d+\s+/, ''));
    const textfiles = root.path('/var/lib/prometheus/node-exporter');
    const since = `${textfiles}/sovereign-job-backup-push-watched.prom`;
    const at = (pattern: RegExp) => calls.findIndex((call) => pattern.test(call));
    const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const fsyncTmp = at(new RegExp(`^fsync\\(\\d+<${escaped(since)}\\.tmp>\\) = 0$`));
    const rename = at(new RegExp(`^renameat2?\\(\\d+<${escaped(textfiles)}>, "sovereign-job-backup-push-watched\\.prom\\.tmp", \\d+<${escaped(textfiles)}>, "sovereign-job-backup-push-watched\\.prom"`));
    const fsyncDir = calls.findIndex((call, i) => i > rename && new RegExp(`^fsync\\(\\d+<${escaped(textfiles)}>\\) = 0$`).test(call));
    expect([fsyncTmp >= 0, rename > fsyncTmp, fsyncDir > rename]).toEqual([true, true, true]);
  });

  test('setup watch writes again a since file that holds no time for its unit (emptied by a power loss before the fsync), and keeps one that does', () => {
    const root = MachineRoot.create(userDataOf(JSON.parse(phaseOneWithBackups().production), 'acme-production-app'));
    roots.push(root);
    const since = '/var/lib/prometheus/node-exporter/sovereign-job-backup-push-watched.prom';
    root.write(since, '', 0o644);
    expect(root.setup('watch')).toEqual({ status: 0, output: '' });
    const written = root.read(since);
    expect(written).toMatch(/^sovereign_job_watched_since_timestamp_seconds\{unit="backup-push"\} \d+$/m);
    fs.writeFileSync(root.path(since), written.replace(/\d+\n$/, '7\n'));
    expect(root.setup('watch')).toEqual({ status: 0, output: '' });
    expect(root.read(since)).toMatch(/\} 7\n$/);
    // Review: read as strict UTF-8, a corrupted since file (bytes that are none) ended watch with a UnicodeDecodeError.
    // It gives no time, so it is written again.
    fs.writeFileSync(root.path(since), Buffer.from([0xff, 0xfe, 0x80, 0x0a]));
    expect(root.setup('watch')).toEqual({ status: 0, output: '' });
    expect(root.read(since)).toMatch(/^sovereign_job_watched_since_timestamp_seconds\{unit="backup-push"\} \d+$/m);
  });

  test('setup says which .tmp it cannot clear (a directory there) and fails, rather than write beside it', () => {
    const root = production();
    fs.mkdirSync(root.path('/etc/sovereign-monitoring/alertmanager.yml.tmp/inside'), { recursive: true });
    expect(root.setup('alertmanager')).toEqual({ status: 1,
      output: expect.stringMatching(/^sovereign-monitoring-setup: \/etc\/sovereign-monitoring\/alertmanager\.yml\.tmp cannot be removed \(Is a directory\): remove it by hand, then deploy again\n$/) });
  });

  test('setup watch hooks the job units once and records when watching began', () => {
    const root = MachineRoot.create(userDataOf(JSON.parse(phaseOneWithBackups().production), 'acme-production-app'));
    roots.push(root);
    expect(root.setup('watch')).toEqual({ status: 0, output: '' });
    expect(root.read('/etc/systemd/system/backup-push.service.d/50-sovereign-monitoring.conf'))
      .toBe(`[Service]\nExecStopPost=-${root.path('/usr/local/sbin/sovereign-job-metric')} backup-push\n`);
    const since = root.read('/var/lib/prometheus/node-exporter/sovereign-job-backup-push-watched.prom');
    expect(since).toMatch(/^sovereign_job_watched_since_timestamp_seconds\{unit="backup-push"\} \d+$/m);
    // Audit (fourth pass): the drop-in stays on a job unit whose monitoring left the machine (the rollout removes the hook
    // with the monitoring's tooling): systemd then failed every run of the job, a dump or push that succeeded included,
    // on a hook that is not there. Its ExecStopPost is "-": systemd's own verifier, given the unit with the drop-in and
    // the hook gone, finds nothing wrong (before: "Command … is not executable").
    expect(root.read('/etc/systemd/system/backup-push.service.d/50-sovereign-monitoring.conf')).toMatch(/^\[Service\]\nExecStopPost=-\//);
    if (spawnSync('systemd-analyze', ['--version']).status === 0) {
      const units = fs.mkdtempSync(path.join(os.tmpdir(), 'job-hook-units-'));
      try {
        fs.mkdirSync(path.join(units, 'backup-push.service.d'));
        // The job's own unit stands in as a oneshot that succeeds; the drop-in is the one watch wrote.
        fs.writeFileSync(path.join(units, 'backup-push.service'), '[Service]\nType=oneshot\nExecStart=/bin/true\n');
        fs.copyFileSync(root.path('/etc/systemd/system/backup-push.service.d/50-sovereign-monitoring.conf'), path.join(units, 'backup-push.service.d/50-sovereign-monitoring.conf'));
        fs.rmSync(root.path('/usr/local/sbin/sovereign-job-metric'));
        const verify = spawnSync('systemd-analyze', ['verify', '--man=no', path.join(units, 'backup-push.service')],
          { env: { ...process.env, SYSTEMD_UNIT_PATH: `${units}:` }, encoding: 'utf8' });
        expect(`${verify.stdout}${verify.stderr}`).toBe('');
        expect(verify.status).toBe(0);
      } finally {
        fs.rmSync(units, { recursive: true, force: true });
      }
    }
    // Review (fourth pass): a drop-in an earlier version left on a unit no longer watched (before the drop-in went with
    // the unit's part, and before its "-") stayed for good; watch removes it, and leaves the unit's other drop-ins.
    const orphan = '/etc/systemd/system/backup-old.service.d';
    fs.mkdirSync(root.path(orphan), { recursive: true });
    fs.writeFileSync(root.path(`${orphan}/50-sovereign-monitoring.conf`), '[Service]\nExecStopPost=/usr/local/sbin/sovereign-job-metric backup-old\n');
    fs.writeFileSync(root.path(`${orphan}/override.conf`), '[Service]\nNice=5\n');
    // Audit (fifth pass): one alone in its directory took only the file, and the empty directory stayed.
    const alone = '/etc/systemd/system/backup-older.service.d';
    fs.mkdirSync(root.path(alone), { recursive: true });
    fs.writeFileSync(root.path(`${alone}/50-sovereign-monitoring.conf`), '[Service]\nExecStopPost=-/usr/local/sbin/sovereign-job-metric backup-older\n');
    expect(root.setup('watch')).toEqual({ status: 0, output: '' });
    expect(fs.readdirSync(root.path(orphan))).toEqual(['override.conf']);
    expect(fs.existsSync(root.path(alone))).toBe(false);
    expect(fs.existsSync(root.path('/etc/systemd/system/backup-push.service.d/50-sovereign-monitoring.conf'))).toBe(true);
    // A second run (a re-run of cloud-init) keeps the first time.
    fs.writeFileSync(root.path('/var/lib/prometheus/node-exporter/sovereign-job-backup-push-watched.prom'), since.replace(/\d+\n$/, '1\n'));
    root.setup('watch');
    expect(root.read('/var/lib/prometheus/node-exporter/sovereign-job-backup-push-watched.prom')).toMatch(/ 1\n$/);
  });

  // Audit (third pass): the metric files of a job unit stayed when its part left the bundle (the plan or the drill
  // removed): the alerts select watched units, so none fired, but the series stayed with their last values. They belong
  // to the part that installs the unit now, whose runtime files the rollout agent removes with it.
  test("every metric file the tooling writes for a watched job unit is a runtime file of the part that installs the unit", () => {
    const { production: prod, test: testEnv } = phaseOneWithBackups();
    for (const [text, name] of [[prod, 'acme-production-app'], [testEnv, 'acme-test-app']] as const) {
      const json = JSON.parse(text);
      const root = MachineRoot.create(userDataOf(json, name));
      roots.push(root);
      expect(root.setup('watch').status).toBe(0);
      const units = root.read('/etc/sovereign-monitoring/watched-units').split('\n').filter((u) => u);
      expect(units.length).toBeGreaterThan(0);
      const bundle = synthesizedBundle(json, name);
      const dir = '/var/lib/prometheus/node-exporter';
      for (const unit of units) {
        runJobHook(root, unit, 'success');
        runJobHook(root, unit, 'exit-code');
        const written = fs.readdirSync(root.path(dir)).filter((f) => f.startsWith(`sovereign-job-${unit}-`)).map((f) => `${dir}/${f}`);
        expect(written).toHaveLength(3);
        // Audit (fourth pass): and the unit's hook, which stayed when the unit left, naming a unit that is gone.
        const dropIn = `/etc/systemd/system/${unit}.service.d/50-sovereign-monitoring.conf`;
        expect(fs.existsSync(root.path(dropIn))).toBe(true);
        const owner = bundle.files.get(`/etc/systemd/system/${unit}.service`)!.part;
        expect(bundle.parts.find((p) => p.name === owner)!.runtimeFiles).toEqual(expect.arrayContaining([...written, dropIn]));
      }
    }
  });

  test('the job hook records the last success and the last failure in the text format node exporter reads', () => {
    const root = production(FAKE_SECRETS, Phase.ONE, 'acme-production-app');
    const before = Math.floor(Date.now() / 1000);
    runJobHook(root, 'backup-push', 'success');
    runJobHook(root, 'backup-push', 'exit-code');
    const dir = '/var/lib/prometheus/node-exporter';
    const success = root.read(`${dir}/sovereign-job-backup-push-success.prom`);
    const failure = root.read(`${dir}/sovereign-job-backup-push-failure.prom`);
    const value = (text: string) => Number(/\} (\d+)\n$/.exec(text)![1]);
    expect(value(success)).toBeGreaterThanOrEqual(before);
    expect(value(failure)).toBeGreaterThanOrEqual(value(success));
    expect(success).toMatch(/^# TYPE sovereign_job_last_success_timestamp_seconds gauge\nsovereign_job_last_success_timestamp_seconds\{unit="backup-push"\} \d+\n$/m);
    expect(fs.readdirSync(root.path(dir)).filter((f) => f.startsWith('.'))).toEqual([]);
    // Audit (fourth pass): exit 75 means "no verdict" (the drill's deferral, since removed: no backup job or drill exits 75
    // now, each reports such an exit as 1); recorded as a failure it fired RestoreDrillFailed. Neither is recorded. Any
    // other exit status is a failure.
    runJobHook(root, 'restore-drill', 'exit-code', 75);
    expect(fs.readdirSync(root.path(dir)).filter((f) => f.startsWith('sovereign-job-restore-drill-'))).toEqual([]);
    runJobHook(root, 'restore-drill', 'exit-code', 1);
    expect(fs.readdirSync(root.path(dir)).filter((f) => f.startsWith('sovereign-job-restore-drill-'))).toEqual(['sovereign-job-restore-drill-failure.prom']);
    if (spawnSync('promtool', ['--version']).status === 0) {
      const lint = spawnSync('promtool', ['check', 'metrics'], { input: success + failure, encoding: 'utf8' });
      expect(`${lint.stdout}${lint.stderr}`).toBe('');
      expect(lint.status).toBe(0);
    }
  });
});

// The live suites' prober (monitoring-e2e.test.ts) starts its webhook receiver and HTTP target first: a start that
// fails after them must stop them, since the caller never gets the prober to stop.
describe('a live prober whose start fails partway', () => {
  test('stops the receiver and the target it had started', async () => {
    const before = listeningPorts();
    // A check every 10 minutes is refused by the plan, built after the receiver and the target listen.
    await expect(startLiveProber({ check: { interval: Duration.minutes(10) } })).rejects.toThrow(/interval/);
    expect(listeningPorts()).toEqual(before);
  });
});

/** The IPv4 TCP ports this process listens on (its sockets' inodes, found in the kernel's table). */
function listeningPorts(): number[] {
  const sockets = new Set(openFiles('self').map((f) => f.target));
  return tcpSockets().filter((s) => s.state === '0A' && sockets.has(`socket:[${s.inode}]`)).map((s) => parseInt(s.local.split(':')[1], 16)).sort();
}
