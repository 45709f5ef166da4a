import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gunzipSync } from 'zlib';
import { phase2PayingCustomers } from '../../examples/phase2-paying-customers';
import { phase3Traction } from '../../examples/phase3-traction';
import { resources, synthExample } from '../examples/synth-examples';
import { describeWithRealParts, isRoot } from '../setup/real-parts';

// The red team's reboot question: does the table load before the network, and before the units that send data?
// And when it fails to load, do they run anyway, unfiltered? Asked of systemd itself: the units of a real
// example's bundles are installed under a scratch directory and enabled by the real systemctl, as the parts'
// commands do, and `systemd --test` builds the start-up transaction from them with systemd's own engine (it
// runs nothing) and dumps every unit's dependencies as systemd resolved them (.requires links, reverse Before=).

const SYSTEMD = '/lib/systemd/systemd';
const EGRESS = 'sovereign-egress.service';
const UNITS = '/etc/systemd/system/';
const available = isRoot && fs.existsSync(SYSTEMD) && spawnSync('setpriv', ['--version']).status === 0;

/** A machine's bundle as the rollout delivers it (decoded from the synthesized provisioner). */
interface BundleDocument {
  readonly parts: Array<{ name: string; files: Array<{ path: string; content?: string }>; commands?: Array<string | string[]> }>;
}

/** The bundle of the machine named `machine` in `stack`. */
function bundleOf(stack: any, machine: string): BundleDocument {
  const bundles = resources(stack, 'terraform_data').flatMap((r: any) => (r.provisioner ?? []).filter((p: any) => String(p.file?.destination).endsWith('bundle.gz.b64')))
    .map((p: any): BundleDocument & { machine: string } => JSON.parse(gunzipSync(Buffer.from(p.file.content, 'base64')).toString('utf8')));
  const found = bundles.find((b) => b.machine === machine);
  if (!found) throw new Error(`no bundle for ${machine}; the stack has ${bundles.map((b) => b.machine).join(', ')}`);
  return found;
}

/** What systemd made of the units: each unit's dependencies by kind, and the jobs of the transaction. */
interface Transaction {
  deps(unit: string, kind: string): string[];
  field(unit: string, key: string): string | undefined;
  readonly jobs: string[];
  /** What systemd logged while it built the transaction (an ordering cycle would be reported here). */
  readonly log: string;
}

/**
 * Installs the bundle's units under a scratch root, runs each `systemctl enable`/`reenable` of its parts there
 * (offline, `--now` dropped), then asks systemd for the transaction that starts `unit` at boot.
 */
function bootTransaction(bundle: BundleDocument, unit: string, alsoEnabled: readonly string[] = []): Transaction {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'egress-reboot-'));
  try {
    fs.chmodSync(dir, 0o755);
    for (const file of bundle.parts.flatMap((p) => p.files)) {
      if (!file.path.startsWith(UNITS) || file.content === undefined) continue;
      fs.mkdirSync(path.dirname(path.join(dir, file.path)), { recursive: true, mode: 0o755 });
      fs.writeFileSync(path.join(dir, file.path), file.content, { mode: 0o644 });
    }
    for (const command of bundle.parts.flatMap((p) => p.commands ?? [])) {
      const argv = typeof command === 'string' ? command.split(/\s+/) : command;
      if (argv[0] !== 'systemctl' || !['enable', 'reenable'].includes(argv[1])) continue;
      // Debian's own units (prometheus…) are not under the scratch root: enabling them there fails, and changes nothing here.
      spawnSync('systemctl', [`--root=${dir}`, argv[1], ...argv.slice(2).filter((a) => a !== '--now')], { encoding: 'utf8' });
    }
    // Debian's units the machine has enabled besides the bundle's (the network), linked as `systemctl enable` links them.
    for (const name of alsoEnabled) {
      fs.mkdirSync(path.join(dir, UNITS, 'multi-user.target.wants'), { recursive: true, mode: 0o755 });
      fs.symlinkSync(`/lib/systemd/system/${name}`, path.join(dir, UNITS, 'multi-user.target.wants', name));
    }
    fs.chmodSync(path.join(dir, 'etc'), 0o755);
    // Test mode refuses root; the unit path is the scratch units, then Debian's (systemd's targets, prometheus's units).
    const run = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', SYSTEMD, '--test', '--system', `--unit=${unit}`, '--no-pager'], {
      encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { PATH: process.env.PATH, SYSTEMD_UNIT_PATH: `${dir}${UNITS}:/lib/systemd/system` },
    });
    if (run.status !== 0) throw new Error(`systemd --test exited ${run.status}: ${run.stderr.slice(-2000)}`);
    const blocks = new Map<string, string>();
    for (const block of run.stdout.split(/^\t-> Unit /m).slice(1)) blocks.set(block.slice(0, block.indexOf(':\n')), block);
    return {
      deps: (name, kind) => [...(blocks.get(name) ?? '').matchAll(new RegExp(`^\\t\\t${kind}: (\\S+) \\(`, 'gm'))].map((m) => m[1]),
      field: (name, key) => new RegExp(`^\\t\\t${key}: (.*)$`, 'm').exec(blocks.get(name) ?? '')?.[1],
      jobs: [...run.stdout.matchAll(/^\t\t\tAction: (\S+) -> start$/gm)].map((m) => m[1]),
      log: run.stderr,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The bundle's services that ask for the network (Wants=network-online.target): the ones that may send data. */
function networkServices(bundle: BundleDocument): string[] {
  return bundle.parts.flatMap((p) => p.files)
    .filter((f) => f.path.startsWith(UNITS) && f.path.endsWith('.service') && !f.path.slice(UNITS.length).includes('/'))
    .filter((f) => /^Wants=.*\bnetwork-online\.target\b/m.test(f.content ?? ''))
    .map((f) => f.path.slice(UNITS.length));
}

describeWithRealParts(available, 'egress-reboot-order', 'root, systemd and setpriv')('the egress allowlist at every boot, as systemd orders it', () => {
  const { stacks } = synthExample(phase2PayingCustomers);
  const production = bundleOf(stacks['phase2-paying-production'], 'phase2-paying-production-app');
  const testEnv = bundleOf(stacks['phase2-paying-test'], 'phase2-paying-test-app');
  // Phase 3: the prober moves to a monitoring machine of its own, which holds secrets and has its own allowlist.
  const phase3 = synthExample(phase3Traction).stacks['phase3-traction-production'];
  const phase3App = bundleOf(phase3, 'phase3-traction-production-app');
  const phase3Monitoring = bundleOf(phase3, 'phase3-traction-production-monitoring');

  test('the table loads before the network: before network-pre.target, which the network and network-online.target follow', () => {
    // The network as systemd-networkd brings it up (Hetzner's Debian uses ifupdown's networking.service, ordered the same way).
    const boot = bootTransaction(production, 'multi-user.target', ['systemd-networkd.service']);
    expect(boot.jobs).toEqual(expect.arrayContaining(['systemd-networkd.service', 'network.target', 'network-pre.target']));
    expect(boot.jobs).toContain(EGRESS);
    expect(boot.log).not.toMatch(/ordering cycle|Job .* deleted to break/i);
    // The table's unit resolves nothing: it starts without DNS, and the refresh that needs DNS comes after it.
    expect(boot.deps(EGRESS, 'After')).not.toContain('sovereign-egress-refresh.service');
    expect(boot.deps('sovereign-egress-refresh.service', 'After')).toEqual(expect.arrayContaining([EGRESS, 'network-online.target']));
    expect(boot.deps(EGRESS, 'Before')).toContain('network-pre.target');
    // Not held back until basic.target like an ordinary service: it may start as early as the network could.
    expect(boot.field(EGRESS, 'DefaultDependencies')).toBe('no');
    expect(boot.deps(EGRESS, 'After')).not.toContain('basic.target');
    expect(boot.deps('network.target', 'After')).toContain('network-pre.target');
    expect(boot.deps('network-online.target', 'After')).toContain('network.target');
    expect(boot.deps('systemd-networkd.service', 'After')).toContain('network-pre.target');
  });

  test.each([
    ['production', production, ['backup-bootstrap', 'backup-dump', 'backup-push', 'backup-prune', 'backup-check', 'prometheus', 'prometheus-alertmanager', 'prometheus-blackbox-exporter']],
    ['test', testEnv, ['restore-drill', 'prometheus', 'prometheus-alertmanager', 'prometheus-blackbox-exporter']],
    ['phase 3 production app', phase3App, ['backup-bootstrap', 'backup-dump', 'backup-push', 'backup-prune', 'backup-check']],
    ['phase 3 production monitoring', phase3Monitoring, ['prometheus', 'prometheus-alertmanager', 'prometheus-blackbox-exporter']],
  ])('on %s, every unit that sends data requires the table and starts after it, so a failed load leaves it stopped', (_name, bundle, senders) => {
    const units = senders.map((u) => `${u}.service`);
    // Each is asked separately, as its timer (or multi-user.target) starts it: the transaction pulls the table in first.
    for (const unit of units) {
      const start = bootTransaction(bundle, unit);
      expect({ unit, requires: start.deps(unit, 'Requires') }).toEqual({ unit, requires: expect.arrayContaining([EGRESS]) });
      expect({ unit, after: start.deps(unit, 'After') }).toEqual({ unit, after: expect.arrayContaining([EGRESS]) });
      expect({ unit, jobs: start.jobs }).toEqual({ unit, jobs: expect.arrayContaining([unit, EGRESS]) });
      expect(start.log).not.toMatch(/ordering cycle|Job .* deleted to break/i);
      // Nothing waits for DNS: the refresh, which resolves the hostnames, is on no sender's path (a slow DNS delays no boot).
      expect({ unit, after: start.deps(unit, 'After') }).toEqual({ unit, after: expect.not.arrayContaining(['sovereign-egress-refresh.service']) });
    }
    // Every service of the bundle that asks for the network is among them, but the clone check, which must run
    // whatever the table (it stops a clone's jobs), and the allowlist's own refresh.
    expect(networkServices(bundle).filter((u) => !units.includes(u)).sort()).toEqual(['sovereign-egress-refresh.service', 'sovereign-identity.service']);
  });
});
