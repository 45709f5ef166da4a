import * as fs from 'fs';
import * as path from 'path';
import { BundlePart, DataClass, EgressAllowlist } from '../../lib';
import { AgentMachine, AgentRun } from '../setup/agent-machine';
import { checkedStack, machine, policy, synthErrors } from './fixtures';

// The red team's first-boot window: the allowlist's part was the bundle's last, so on a new server the first
// rollout installed every package and started the backup jobs and alert senders (their secrets switched in)
// before the nftables table existed; only the Hetzner firewall (TCP 443 to anywhere) stood in the way. Here the
// real rollout agent installs a real machine's bundle (SOVEREIGN_ROOT, a recording systemctl) and the timeline
// of what it installed and started is read back.

/** Any command that loads the table: starting, restarting or reloading its unit. */
const LOAD = /^(start|restart|reload-or-restart) sovereign-egress\.service$/;
const REFRESH = 'start sovereign-egress-refresh.service';

/** The agent's machine, where dpkg-query finds every package missing and writes to systemctl's log: one timeline. */
class NewServer extends AgentMachine {
  constructor() {
    super('egress-first-boot-');
    fs.writeFileSync(path.join(this.dir, 'bin', 'dpkg-query'), `#!/bin/sh\n# dpkg-query -W -f=<format> <package>...\nshift 2\nfor p; do echo "install $p" >> ${this.dir}/systemctl.log; done\nexit 1\n`, { mode: 0o755 });
    this.failUploader(false);
  }

  /** Makes the uploader's `systemctl enable` fail (a broken part after the allowlist), or work again. */
  public failUploader(fail: boolean): void {
    this.failing(fail ? 'acme-upload.timer' : undefined);
  }

  /** Makes every systemctl call naming `unit` fail, or (undefined) none. */
  public failing(unit: string | undefined): void {
    fs.writeFileSync(path.join(this.dir, 'bin', 'systemctl'),
      `#!/bin/sh\necho "$*" >> ${this.dir}/systemctl.log\n${unit ? `case "$*" in *${unit}*) exit 1 ;; esac\n` : ''}`, { mode: 0o755 });
  }

  /** Rolls out the bundle of `production-app` as its provisioners do: the deploy-time files get plain values. */
  public rollOut(options: { extraHost?: string; uploaderSchedule?: string; allowlist?: boolean } = {}): AgentRun {
    const m = machine(checkedStack(), 'App', {}, false);
    // As in EnvironmentStack: the parts that send data are added first, the allowlist last.
    m.addBundlePart(uploader(options.uploaderSchedule ?? 'hourly'));
    EgressAllowlist.guardUnits(m, ['acme-upload.service']);
    if (options.extraHost) EgressAllowlist.requireHostnames(m, [options.extraHost], 'acme uploads endpoint the app posts files to');
    if (options.allowlist !== false) EgressAllowlist.apply(m, { policy });
    const rendered = m.rollout!.bundle;
    const inputs = Object.fromEntries(Object.keys(rendered.deployTimeContents).map((p) => [p, p.endsWith('/identity/server') ? 'SERVER_ID=1\n' : 'x\n']));
    return this.deliver(rendered.payload, rendered.version, inputs);
  }

  public timeline(): string[] {
    return this.systemctl();
  }
}

/** A part that sends data off the machine: a package, a job and its timer, started at once. */
function uploader(schedule: string): BundlePart {
  return {
    name: 'acme uploader',
    packages: ['acme-uploader'],
    files: [
      { path: '/etc/systemd/system/acme-upload.service', content: '[Unit]\nDescription=Upload\n\n[Service]\nType=oneshot\nExecStart=/bin/true\n' },
      { path: '/etc/systemd/system/acme-upload.timer', content: `[Unit]\nDescription=Upload\n\n[Timer]\nOnCalendar=${schedule}\n\n[Install]\nWantedBy=timers.target\n` },
    ],
    commands: [['systemctl', 'enable', '--now', 'acme-upload.timer'], ['systemctl', 'start', '--no-block', 'acme-upload.service']],
  };
}

/** Where `line` first appears in the timeline; fails naming the timeline when it is not there. */
function at(timeline: string[], line: string | RegExp): number {
  const i = timeline.findIndex((l) => (typeof line === 'string' ? l === line : line.test(l)));
  if (i < 0) throw new Error(`'${line}' is not in the rollout's timeline:\n${timeline.join('\n')}`);
  return i;
}

describe('the egress allowlist on a new server', () => {
  const servers: NewServer[] = [];
  const server = () => {
    const s = new NewServer();
    servers.push(s);
    return s;
  };
  afterAll(() => servers.forEach((s) => s.remove()));

  test('the first rollout loads and fills the table before it installs any other part\'s packages or starts their units', () => {
    const s = server();
    const run = s.rollOut();
    expect(run.status).toBe(0);
    const timeline = s.timeline();
    // The allowlist's own tools come first (the only packages installed without the table: nft, dig, timesyncd).
    for (const pkg of ['nftables', 'dnsutils', 'systemd-timesyncd']) expect(at(timeline, `install ${pkg}`)).toBeLessThan(at(timeline, LOAD));
    // Then the table, before anything else is installed or started.
    const firstOther = timeline.findIndex((l) => l === 'install acme-uploader' || l === 'install python3' || /acme-upload|sovereign-identity/.test(l));
    expect(at(timeline, LOAD)).toBeLessThan(firstOther);
    // And its sets filled (the other parts' first backup or alert finds its hosts open).
    expect(at(timeline, LOAD)).toBeLessThan(at(timeline, REFRESH));
    expect(at(timeline, 'install acme-uploader')).toBeGreaterThan(at(timeline, REFRESH));
    expect(at(timeline, 'enable --now acme-upload.timer')).toBeGreaterThan(at(timeline, REFRESH));
    expect(at(timeline, 'start --no-block acme-upload.service')).toBeGreaterThan(at(timeline, REFRESH));
    expect(run.output).toContain('activating "egress-allowlist" before the other parts\' packages are installed');
    // The whole bundle is recorded, as after any rollout: the next one of the same version does nothing.
    expect(run.output).toMatch(/now runs bundle sha256:[0-9a-f]{12}: \d+ files changed, 0 removed/);
    expect(s.rollOut().output).toMatch(/already runs bundle .*; nothing to do/);
  });

  test('every later rollout activates the allowlist first and reloads the table, never restarting what it guards', () => {
    const s = server();
    expect(s.rollOut().status).toBe(0);
    const run = s.rollOut({ extraHost: 'uploads.example.eu', uploaderSchedule: 'daily' });
    expect(run.status).toBe(0);
    const timeline = s.timeline();
    expect(at(timeline, LOAD)).toBeLessThan(at(timeline, 'enable --now acme-upload.timer'));
    // A restart of the table's unit would restart every unit that requires it (a running backup among them).
    expect(timeline.filter((l) => /^(restart|stop|try-restart) .*sovereign-egress\.service/.test(l))).toEqual([]);
    expect(at(timeline, REFRESH)).toBeLessThan(at(timeline, 'enable --now acme-upload.timer'));
    expect(run.output).not.toContain('before the other parts\' packages are installed');
  });

  test('a rollout whose other parts fail leaves the table loaded, and the next one loads it again before installing theirs', () => {
    const s = server();
    s.failUploader(true);
    const failed = s.rollOut();
    expect(failed.status).toBe(1);
    expect(failed.output).toMatch(/FAILED to activate "acme uploader"/);
    expect(failed.output).toContain('"egress-allowlist" active; it stays active if the rest of the bundle fails');
    const first = s.timeline();
    expect(at(first, LOAD)).toBeLessThan(at(first, 'install acme-uploader'));
    // The allowlist stays in place (not rolled back with the part that failed); the uploader's files are gone.
    expect(s.read('/etc/nftables.d/sovereign-egress.nft')).toMatch(/^table inet sovereign_egress$/m);
    expect(s.exists('/etc/systemd/system/acme-upload.service')).toBe(false);

    s.failUploader(false);
    const again = s.rollOut();
    expect(again.status).toBe(0);
    const second = s.timeline();
    expect(at(second, LOAD)).toBeLessThan(at(second, 'install acme-uploader'));
    expect(at(second, REFRESH)).toBeLessThan(at(second, 'enable --now acme-upload.timer'));
  });

  test('the allowlist a failed rollout left active is recorded: a later bundle without it removes its files and units', () => {
    // A machine that runs a bundle without the allowlist (day 2), then gets it in a rollout whose other parts fail.
    const s = server();
    expect(s.rollOut({ allowlist: false }).status).toBe(0);
    s.failUploader(true);
    expect(s.rollOut({ uploaderSchedule: 'daily' }).status).toBe(1);
    expect(s.exists('/etc/nftables.d/sovereign-egress.nft')).toBe(true);
    // The allowlist is taken out again (the team rolls back): its files and units go, as any part's do.
    s.failUploader(false);
    const back = s.rollOut({ allowlist: false });
    expect(back.status).toBe(0);
    expect(back.output).not.toMatch(/nothing to do/);
    expect(s.exists('/etc/nftables.d/sovereign-egress.nft')).toBe(false);
    expect(s.exists('/etc/systemd/system/sovereign-egress.service')).toBe(false);
    expect(s.timeline()).toContain('disable --now sovereign-egress.service');
    expect(s.status()).toMatch(/runs bundle sha256:/);

    // A new server whose first rollout failed after the allowlist: the status says what is active, and a bundle
    // without the allowlist removes it.
    const fresh = server();
    fresh.failUploader(true);
    expect(fresh.rollOut().status).toBe(1);
    expect(fresh.status()).toBe('no bundle installed; active: egress-allowlist (activated first, the rest of the bundle failed)');
    fresh.failUploader(false);
    expect(fresh.rollOut({ allowlist: false }).status).toBe(0);
    expect(fresh.exists('/etc/nftables.d/sovereign-egress.nft')).toBe(false);
  });

  test('an activation of the allowlist cut short is finished before the other parts\' packages are installed', () => {
    const s = server();
    // The allowlist's activation fails, and so does putting the files back (systemd refuses everything): it stays pending.
    fs.writeFileSync(path.join(s.dir, 'bin', 'systemctl'), `#!/bin/sh\necho "$*" >> ${s.dir}/systemctl.log\nexit 1\n`, { mode: 0o755 });
    const cut = s.rollOut();
    expect(cut.status).toBe(1);
    expect(s.exists('/var/lib/sovereign/rollout/pending.json')).toBe(true);
    s.failUploader(false);
    const run = s.rollOut();
    expect(run.status).toBe(0);
    const timeline = s.timeline();
    expect(at(timeline, LOAD)).toBeLessThan(at(timeline, 'install acme-uploader'));
    expect(at(timeline, REFRESH)).toBeLessThan(at(timeline, 'enable --now acme-upload.timer'));
  });

  test('a first refresh that fails (DNS slow or down, a host that does not resolve) fails no rollout: the timer retries it', () => {
    const s = server();
    s.failing('sovereign-egress-refresh.service');
    const run = s.rollOut();
    expect(run.status).toBe(0);
    const timeline = s.timeline();
    expect(at(timeline, REFRESH)).toBeLessThan(at(timeline, 'enable --now acme-upload.timer'));
    expect(at(timeline, 'start sovereign-egress-refresh.timer sovereign-egress-refresh.path sovereign-egress-check.timer')).toBeGreaterThan(at(timeline, REFRESH));
  });

  test('first-boot cloud-init that installs or starts something is refused where the allowlist applies: it would run before the table', () => {
    const stack = checkedStack();
    const m = machine(stack);
    m.addCloudInitPart({ name: 'app', packages: ['acme-app'], commands: ['systemctl enable --now acme.service'] });
    m.addCloudInitPart({ name: 'notes', files: [{ path: '/etc/acme/notes.txt', content: 'hello\n' }] });
    const errors = synthErrors(stack);
    expect(errors).toContain("production/App.cloudInit: 'part 'app' (packages acme-app; 1 command(s))' is not allowed: first-boot cloud-init runs when the server is created, "
      + 'before the first rollout loads the egress allowlist');
    expect(errors).toMatch(/Fix: move the part to the bundle \(machine\.addBundlePart/);
    expect(errors).not.toContain('part \'sovereign bootstrap');
    expect(errors).not.toContain("part 'notes'");
    // A machine the allowlist does not restrict (public data only) keeps its first-boot commands.
    const open = checkedStack('production', undefined);
    machine(open, 'Public', { dataClasses: [DataClass.PUBLIC] }, false).addCloudInitPart({ name: 'app', commands: ['true'] });
    expect(synthErrors(open)).not.toContain('cloudInit');
  });

  test('guardUnits refuses what is not a service, and the units the table starts after', () => {
    const m = machine(checkedStack(), 'App', {}, false);
    expect(() => EgressAllowlist.guardUnits(m, ['acme-upload.timer']))
      .toThrow(/production\/App\.guardedUnits\.units\[0\]: 'acme-upload\.timer' is not allowed: it is not the name of a systemd service\. Fix: name the service with its suffix, such as 'acme\.service'/);
    expect(() => EgressAllowlist.guardUnits(m, ['nftables.service']))
      .toThrow(/production\/App\.guardedUnits\.units\[0\]: 'nftables\.service' is not allowed: .*ordering cycle.* Fix: /);
    expect(() => EgressAllowlist.guardUnits(m, ['sovereign-identity.service']))
      .toThrow(/'sovereign-identity\.service' is not allowed: it stops the jobs of a server cloned from another one and must run even when the table failed to load/);
    expect(() => EgressAllowlist.guardUnits(m, ['acme@blue.service'])).not.toThrow();
    // A template: systemd reads Before=acme@.service in the table's unit as acme@sovereign-egress.service, so its instances
    // would require the table (acme@.service.requires/) without starting after it.
    expect(() => EgressAllowlist.guardUnits(m, ['acme@.service']))
      .toThrow(/production\/App\.guardedUnits\.units\[0\]: 'acme@\.service' is not allowed: it is a template.* Fix: name each instance, such as 'acme@blue\.service'/);
  });
});
