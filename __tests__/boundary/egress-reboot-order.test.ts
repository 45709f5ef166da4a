import { phase2PayingCustomers } from '../../examples/phase2-paying-customers';
import { phase3Traction } from '../../examples/phase3-traction';
import { BASE_PART } from '../../lib/backup/private/tooling';
import { ALERTMANAGER_USER_UNIT } from '../../lib/monitoring/private/paths';
import { synthExample } from '../examples/synth-examples';
import { describeWithRealParts } from '../setup/real-parts';
import { bootTransaction, BundleDocument, bundleOf, systemdTestAvailable as available, UNITS } from './boot-transaction';
import { DEBIAN_NFTABLES_SERVICE, Unit } from './egress-host';

// The red team's reboot question: does the table load before the network, and before the units that send data?
// And when it fails to load, do they run anyway, unfiltered? Asked of systemd itself: the units of a real
// example's bundles are installed under a scratch directory and enabled by the real systemctl, as the parts'
// commands do, and `systemd --test` builds the start-up transaction from them with systemd's own engine (it
// runs nothing) and dumps every unit's dependencies as systemd resolved them (.requires links, reverse Before=).

/** The bundle's services that ask for the network (Wants=network-online.target): the ones that may send data. */
function networkServices(bundle: BundleDocument): string[] {
  return bundle.parts.flatMap((p) => p.files)
    .filter((f) => f.path.startsWith(UNITS) && f.path.endsWith('.service') && !f.path.slice(UNITS.length).includes('/'))
    .filter((f) => /^Wants=.*\bnetwork-online\.target\b/m.test(f.content ?? ''))
    .map((f) => f.path.slice(UNITS.length));
}

const EGRESS = 'sovereign-egress.service';

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

  // Debian's commands ran in transactions of their own (the stop's flush, nftables.conf's load) and the drop-ins loaded the
  // tables after them: missing for milliseconds on every restart and reload, and gone after a stop. The drop-ins replace
  // Debian's commands with one loader that loads the tables in the same transaction; the last drop-in read wins.
  test('systemctl start, restart, reload and stop of nftables run only the loader that keeps both tables, as systemd merges the drop-ins', () => {
    const nftables = bootTransaction(phase3App, 'nftables.service');
    const loader = '/usr/local/sbin/sovereign-private-ingress-nftables';
    expect(['ExecStart', 'ExecStartPost', 'ExecReload', 'ExecStop'].map((kind) => nftables.commands('nftables.service', kind)))
      .toEqual([[`${loader} start`], [], [`${loader} reload`], [`${loader} stop`]]);
    // A machine without a private network (or one that left it): the backup tooling's drop-in (the metadata guard's), read
    // after the egress allowlist's; without backups, the egress allowlist's alone. Each runs its own copy of the loader.
    const withoutIngress = phase3App.parts.filter((p) => p.name !== 'private-network ingress');
    const runs = (loader: string) => [[`${loader} start`], [], [`${loader} reload`], [`${loader} stop`]];
    for (const [parts, loader] of [
      [withoutIngress, '/usr/local/sbin/sovereign-metadata-guard-nftables'],
      [withoutIngress.filter((p) => p.name !== BASE_PART), '/usr/local/sbin/sovereign-egress-nftables'],
    ] as const) {
      const alone = bootTransaction({ parts }, 'nftables.service');
      expect(['ExecStart', 'ExecStartPost', 'ExecReload', 'ExecStop'].map((kind) => alone.commands('nftables.service', kind))).toEqual(runs(loader));
    }
    // What the loader stands in for: Debian's own commands, as systemd reads the installed unit (the tests' stand-in too).
    const debian = bootTransaction({ parts: phase3App.parts.filter((p) => !['private-network ingress', 'egress-allowlist', BASE_PART].includes(p.name)) }, 'nftables.service');
    expect(['ExecStart', 'ExecReload', 'ExecStop'].map((kind) => debian.commands('nftables.service', kind)))
      .toEqual(['ExecStart', 'ExecReload', 'ExecStop'].map((kind) => new Unit('nftables.service', DEBIAN_NFTABLES_SERVICE).values('Service', kind)));
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

  // Alertmanager runs as a user of its own, which the setup makes; a reboot before the setup ran (a rollout cut short)
  // would start it with User= naming no user. Its drop-in pulls in the unit that makes the user, and starts after it.
  test.each([['production', production], ['test', testEnv], ['phase 3 production monitoring', phase3Monitoring]])(
    'on %s, the unit that makes Alertmanager\'s user runs before every start of Alertmanager', (_name, bundle) => {
      const alertmanager = 'prometheus-alertmanager.service';
      const makesUser = `${ALERTMANAGER_USER_UNIT}.service`;
      const start = bootTransaction(bundle, alertmanager);
      expect(start.jobs).toEqual(expect.arrayContaining([alertmanager, makesUser]));
      expect(start.deps(alertmanager, 'After')).toContain(makesUser);
      expect(start.log).not.toMatch(/ordering cycle|Job .* deleted to break/i);
    });
});
