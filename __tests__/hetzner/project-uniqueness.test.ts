import { App, TerraformCount, TerraformIterator, TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import { Firewall } from '../../generated/providers/hcloud/firewall';
import { Server } from '../../generated/providers/hcloud/server';
import { DataVolume, Environment, Machine, PrivateNetwork, ServerType, Size } from '../../lib';
import { HetznerAccountLimits, SshKey } from '../../lib';
import { ADMIN_CIDRS, ADMIN_KEY, warningsOf } from '../setup/stack';
import { KEY, OTHER_KEY, teamStack } from './team-stacks';
import { fingerprintOf, fingerprintPattern } from './ssh-keygen-fingerprint';
import { EXAMPLES } from '../../examples';
import { phase1Pilot } from '../../examples/phase1-pilot';
import { phase2PayingCustomers } from '../../examples/phase2-paying-customers';
import { EXAMPLE_ADMIN } from '../../examples/shared';

// Audit (uniqueness per Hetzner project, not per stack): Hetzner names a server, an SSH key (and its fingerprint), a
// network, a volume, a firewall, a primary IP, ... once per project. Machine and SshKey compared only the resources of
// their own stack; staging's stack lives in production's project (it boots production's snapshot), and a team may
// deploy several stacks of one environment to one project. Two such stacks synthesized, and the second deploy failed
// with uniqueness_error part-way through. The stand-in half of the proof is in project-uniqueness-e2e.test.ts.

/** Every validation error of the App's stacks, as synth reports them (all at once, not only the first stack's). */
function errorsOf(app: App): string[] {
  return app.node.findAll().flatMap((c) => c.node.validate());
}

/**
 * The warnings about names taken in one project, after the validations ran (errorsOf): where the library infers the
 * project (a team's own stacks, which one HCLOUD_TOKEN deploys to one project and a token each to two), it warns.
 */
function nameWarningsOf(app: App): string[] {
  return app.node.findAll().filter(TerraformStack.isStack).flatMap(warningsOf).filter((w) => w.startsWith('Hetzner-NameTakenInProject: '))
    .map((w) => w.slice('Hetzner-NameTakenInProject: '.length).replace(/ If the two stacks deploy to two Hetzner projects \(a token each\), this is no conflict\.$/, ''));
}

describe('names and SSH keys are unique per Hetzner project, across the stacks of one App', () => {
  test('two team stacks of production creating a machine of one name warn, naming both paths, the name and the fix (a token each would be two projects)', () => {
    const app = Testing.app();
    teamStack(app, 'acme-web');
    const second = teamStack(app, 'acme-workers', { keyName: 'acme-workers-admin', publicKey: OTHER_KEY });
    expect(errorsOf(app)).toEqual([]);
    const errors = nameWarningsOf(app);
    expect(errors).toContain(
      "acme-workers/Web/Resource.name: 'acme-web' is not allowed: acme-web/Web/Resource (stack acme-web) is in production's Hetzner project too (both are production's), "
      + 'and creates a server of this name too: Hetzner names a server once per project, so deploying acme-workers after acme-web would fail with uniqueness_error. '
      + "Fix: give one of them a name of its own, such as 'acme-web-acme-workers' (Machine's name prop; its firewall and addresses follow it)");
    // The machine's firewall and addresses take its name, so they collide too, each named with its path.
    for (const [path, name] of [['Firewall', 'acme-web-firewall'], ['Ipv4', 'acme-web-ipv4'], ['Ipv6', 'acme-web-ipv6']]) {
      expect(errors.some((e) => e.startsWith(`acme-workers/Web/${path}.name: '${name}' is not allowed: acme-web/Web/${path} (stack acme-web)`))).toBe(true);
    }
    // The first stack is deployed first and is fine: the second reports the pair, once.
    expect(errors.filter((e) => e.startsWith('acme-web/'))).toEqual([]);
    // A warning, once, however often the App is validated.
    expect(() => Testing.synth(second, true)).not.toThrow();
    expect(nameWarningsOf(app).filter((w) => w.startsWith("acme-workers/Web/Resource.name: 'acme-web'"))).toHaveLength(1);
  });

  test('one admin key registered by two production stacks under two names warns, pointing at SshKey.fromName', () => {
    const app = Testing.app();
    teamStack(app, 'acme-web');
    teamStack(app, 'acme-workers', { machineName: 'acme-worker', keyName: 'acme-workers-admin', publicKey: `${KEY} ci@acme.eu` });
    expect(errorsOf(app)).toEqual([]);
    expect(nameWarningsOf(app)).toEqual([
      `acme-workers/Admin/Resource.public_key: '${fingerprintOf(KEY)}' is not allowed`
      + ": acme-web/Admin/Resource (stack acme-web) is in production's Hetzner project too "
      + "(both are production's), and registers this key too (comments aside): Hetzner registers a key (its fingerprint) once per project, so deploying "
      + "acme-workers after acme-web would fail with uniqueness_error. Fix: register the key in one stack only, and refer to it in the other by name: SshKey.fromName('acme-admin')",
    ]);
  });

  test('a team\'s staging stack is in production\'s project: its volume and network of production\'s names warn, saying why', () => {
    const app = Testing.app();
    teamStack(app, 'acme-production', { volumeName: 'acme-data', networkName: 'acme-network' });
    teamStack(app, 'acme-staging', {
      environment: Environment.STAGING, machineName: 'acme-staging-web', keyName: 'acme-staging-admin', publicKey: OTHER_KEY, volumeName: 'acme-data', networkName: 'acme-network',
    });
    expect(errorsOf(app)).toEqual([]);
    const errors = nameWarningsOf(app);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/^acme-staging\/Network\/Resource\.name: 'acme-network' is not allowed: acme-production\/Network\/Resource \(stack acme-production\) is in production's Hetzner project, where staging lives too \(it is built from production's snapshot, which only that project can use\), and creates a network of this name too.*uniqueness_error\. Fix: give one of them a name of its own/);
    expect(errors[1]).toMatch(/^acme-staging\/Data\/Resource\.name: 'acme-data' is not allowed: acme-production\/Data\/Resource \(stack acme-production\) is in production's Hetzner project, where staging lives too.*creates a volume of this name too: Hetzner names a volume once per project/);
  });

  test('a stack of raw resources without an environment may share any project: its namesake warns', () => {
    const app = Testing.app();
    const raw = new TerraformStack(app, 'acme-legacy');
    new HcloudProvider(raw, 'hcloud', {});
    new Server(raw, 'Server', { name: 'acme-web', serverType: 'cx23', image: 'debian-12', location: 'fsn1' });
    teamStack(app, 'acme-web', { environment: Environment.TEST });
    expect(errorsOf(app)).toEqual([]);
    expect(nameWarningsOf(app)).toEqual([expect.stringMatching(
      /^acme-web\/Web\/Resource\.name: 'acme-web' is not allowed: acme-legacy\/Server \(stack acme-legacy\) is in a stack that may deploy to the same Hetzner project \(acme-legacy\/Server carries no environment label, and one HCLOUD_TOKEN deploys every stack to one project\).*uniqueness_error/)]);
  });

  test('a later stack without the library\'s constructs is still compared: the stack that has them reports the pair', () => {
    const app = Testing.app();
    teamStack(app, 'acme-web', { environment: Environment.TEST });
    const raw = new TerraformStack(app, 'acme-legacy');
    new HcloudProvider(raw, 'hcloud', {});
    new Server(raw, 'Server', { name: 'acme-web', serverType: 'cx23', image: 'debian-12', location: 'fsn1' });
    expect(errorsOf(app)).toEqual([]);
    expect(nameWarningsOf(app)).toEqual([expect.stringMatching(/^acme-legacy\/Server\.name: 'acme-web' is not allowed: acme-web\/Web\/Resource \(stack acme-web\) is in a stack that may deploy/)]);
  });

  test('test and production may have projects of their own (HCLOUD_TOKEN_TEST): the same names synthesize', () => {
    const app = Testing.app();
    teamStack(app, 'acme-test', { environment: Environment.TEST, volumeName: 'acme-data' });
    teamStack(app, 'acme-production', { volumeName: 'acme-data' });
    expect(errorsOf(app)).toEqual([]);
  });

  test('each product may have projects of its own: the examples, in one App as npm run synth builds them, synthesize', () => {
    const app = Testing.app();
    for (const define of Object.values(EXAMPLES)) define(app);
    expect(errorsOf(app)).toEqual([]);
  });

  test('a team\'s own production stack beside a product\'s, registering the product\'s admin key again, warns', () => {
    const app = Testing.app();
    phase1Pilot(app);
    teamStack(app, 'acme-workers', { machineName: 'acme-worker', keyName: 'acme-workers-admin', publicKey: `${KEY} admin@example.eu` });
    // (The boundary also asks for a rule pack on a stack beside a product's: that is its own finding.)
    expect(errorsOf(app).filter((e) => e.includes('uniqueness_error'))).toEqual([]);
    expect(nameWarningsOf(app)).toEqual([expect.stringMatching(new RegExp(`^acme-workers/Admin/Resource\\.public_key: '${fingerprintPattern(KEY)}' is not allowed: phase1-pilot-production/AdminKey-admin/Resource \\(stack phase1-pilot-production\\) is in production's Hetzner project too.*Fix: register the key in one stack only, and refer to it in the other by name: SshKey\\.fromName\\('phase1-pilot-production-admin'\\)$`))]);
  });

  test('two volumes or two networks of one name in one stack fail synth too (only servers and SSH keys were compared)', () => {
    const app = Testing.app();
    const stack = teamStack(app, 'acme-web', { volumeName: 'acme-data', networkName: 'acme-network' });
    new DataVolume(stack, 'Logs', { machine: stack.node.findChild('Web') as Machine, size: Size.gibibytes(10), name: 'acme-data', withoutBackup: 'logs shipped elsewhere within the minute' });
    new PrivateNetwork(stack, 'Backend', { environment: Environment.PRODUCTION, name: 'acme-network' });
    expect(errorsOf(app)).toEqual([
      "acme-web/Logs/Resource.name: 'acme-data' is not allowed: acme-web/Data/Resource is in the same stack, and creates a volume of this name too: "
      + "Hetzner names a volume once per project, so the deploy would fail with uniqueness_error part-way through. Fix: give one of them a name of its own, such as 'acme-data-2'",
      "acme-web/Backend/Resource.name: 'acme-network' is not allowed: acme-web/Network/Resource is in the same stack, and creates a network of this name too: "
      + "Hetzner names a network once per project, so the deploy would fail with uniqueness_error part-way through. Fix: give one of them a name of its own, such as 'acme-network-2'",
    ]);
  });

  test('two machines of one name in one stack are reported once, by the machine\'s own check', () => {
    const app = Testing.app();
    const stack = teamStack(app, 'acme-web');
    new Machine(stack, 'Web2', { environment: Environment.PRODUCTION, role: 'web', name: 'acme-web', serverType: ServerType.CX23, adminCidrs: ADMIN_CIDRS, sshKeys: [ADMIN_KEY] });
    expect(errorsOf(app)).toEqual([expect.stringMatching(/^acme-web\/Web2\.name: 'acme-web' is not allowed: acme-web\/Web has this server name too/)]);
  });

  test("a product's staging stack registering production's key fails synth: the library knows staging lives in production's project", () => {
    const app = Testing.app();
    const stacks = phase1Pilot(app);
    new SshKey(stacks.staging!, 'Extra', { name: 'phase1-pilot-staging-extra', publicKey: EXAMPLE_ADMIN.sshPublicKeys.admin });
    // The later stack of the App reports the pair (here production, which ProductStacks adds after staging).
    expect(errorsOf(app).filter((e) => e.includes('uniqueness_error'))).toEqual([expect.stringMatching(
      /^phase1-pilot-production\/AdminKey-admin\/Resource\.public_key: .* is not allowed: phase1-pilot-staging\/Extra\/Resource \(stack phase1-pilot-staging\) is in production's Hetzner project, where staging lives too .*Fix: for phase1-pilot-staging\/Extra\/Resource, in a ProductStacks or EnvironmentStack stack \(phase1-pilot-staging\), take the stack's admin keys rather than registering the key again: sshKeys: \[\.\.\.stack\.adminSshKeys\]; otherwise register the key in one stack only, and refer to it in the other by name: SshKey\.fromName\('phase1-pilot-production-admin'\)$/)]);
    // The name to refer to is production's admin key, never the key staging registered again.
  });

  test('one stack with a second provider (another project\'s token) may use a name twice, one under each provider', () => {
    const app = Testing.app();
    const stack = teamStack(app, 'acme-web', { volumeName: 'acme-data' });
    const recovery = new HcloudProvider(stack, 'recovery', { alias: 'recovery' });
    new Server(stack, 'RecoveryWeb', { provider: recovery, name: 'acme-web', serverType: 'cx23', image: 'debian-12', location: 'hel1' });
    expect(errorsOf(app)).toEqual([]);
    expect(nameWarningsOf(app)).toEqual([]);
  });

  // The stack's own provider (no alias), passed explicitly, was taken for a second provider: the name passed synth.
  test("a resource given the stack's default provider explicitly is in the stack's project: its namesake fails synth", () => {
    const app = Testing.app();
    const stack = teamStack(app, 'acme-web', { volumeName: 'acme-data' });
    new Server(stack, 'Again', { provider: stack.node.findChild('hcloud') as HcloudProvider, name: 'acme-web', serverType: 'cx23', image: 'debian-12', location: 'fsn1' });
    expect(errorsOf(app)).toEqual([expect.stringMatching(/^acme-web\/Again\.name: 'acme-web' is not allowed: acme-web\/Web\/Resource is in the same stack, and creates a server of this name too/)]);
  });

  test('a resource with count or for_each is left to Hetzner (count 0 creates none)', () => {
    const app = Testing.app();
    const stack = teamStack(app, 'acme-web');
    new Server(stack, 'Spare', { count: 0, name: 'acme-web', serverType: 'cx23', image: 'debian-12', location: 'fsn1' });
    expect(errorsOf(app)).toEqual([]);
  });

  test('stacks of one project with names and keys of their own synthesize', () => {
    const app = Testing.app();
    teamStack(app, 'acme-web', { volumeName: 'acme-web-data' });
    teamStack(app, 'acme-workers', { machineName: 'acme-worker', keyName: 'acme-workers-admin', publicKey: OTHER_KEY, volumeName: 'acme-worker-data' });
    expect(errorsOf(app)).toEqual([]);
  });
});

// Hetzner allows "up to 50 Firewalls total across your projects" (docs.hetzner.com/cloud/firewalls/faq; hetzner-facts
// firewall.limits.firewallsTotal): per account, not per project. Every Machine brings a firewall of its own; each stack
// alone synthesized, and Hetzner refused the 51st firewall of the account at apply, part-way through the deploy. The
// check counted per project, so 50 in production's project and 50 more in test's passed.
describe("at most 50 firewalls per Hetzner account, across the stacks of one App", () => {
  /** `n` firewalls more in `stack` (the bulk of a team's further machines, without their servers). */
  const addFirewalls = (stack: TerraformStack, n: number, prefix: string) => {
    for (let i = 0; i < n; i += 1) new Firewall(stack, `${prefix}-extra-${i}`, { name: `${prefix}-extra-${i}-firewall` });
  };
  const own = (stack: TerraformStack) => Object.keys(JSON.parse(Testing.synth(stack)).resource.hcloud_firewall).length;
  const limitErrorsOf = (app: App) => errorsOf(app).filter((e) => e.includes('firewalls per account') || e.includes('raised the account'));
  const limitWarningsOf = (app: App) => app.node.findAll().filter(TerraformStack.isStack).flatMap(warningsOf).filter((w) => w.startsWith('Hetzner-FirewallsInAccount: '));
  // A product's account is raised in one of its stacks: the fix named raiseFirewalls(app, …), which raises every
  // account of the App, another product's too, which Hetzner never raised.
  const FIX = 'Fix: create fewer firewalls in the account: fewer machines (each Machine has a firewall of its own), '
    + "staging on test's machine (StagingMode.reuseTestMachine()), or some of the stacks in another Hetzner account; "
    + "or ask Hetzner to raise the limit and declare it in a stack of product 'phase1-pilot' (on the App it would hold for every account of the App): "
    + "HetznerAccountLimits.raiseFirewalls(<the stack phase1-pilot-test>, { firewalls: 100, reason: '<the ticket>' }).";

  // Each of the product's stacks reported the account's count, one error per stack for one problem: now the first stack
  // of the product reports it once, naming every stack's share.
  test("a product's test, staging and production stacks with 51 firewalls in all fail synth once, naming the count, every stack's share and the fix", () => {
    const app = Testing.app();
    const stacks = phase1Pilot(app);
    // 25 in production's project and 26 in test's: each project holds fewer than 50, the account 51.
    addFirewalls(stacks.production, 13 - own(stacks.production), 'phase1-pilot-production');
    addFirewalls(stacks.staging!, 12 - own(stacks.staging!), 'phase1-pilot-staging');
    addFirewalls(stacks.test, 26 - own(stacks.test), 'phase1-pilot-test');
    expect(limitErrorsOf(app)).toEqual([
      "phase1-pilot-test.firewalls: '51 firewalls' is not allowed: phase1-pilot-test creates 26 firewalls, phase1-pilot-staging 12 and phase1-pilot-production 13 "
      + "in one Hetzner account (the projects of product 'phase1-pilot': test's, and production's, where staging lives), "
      + 'and Hetzner allows 50 firewalls per account, across its projects, so the deploy that creates the next one fails part-way through. ' + FIX,
    ]);
    // Whichever stack synth validates (cdktf validates each stack it synthesizes), the error is the first stack's.
    expect([stacks.staging!, stacks.production].flatMap((s) => s.node.validate())).toEqual([]);
  });

  test('50 firewalls in a product\'s account pass; 51 in one stack fail', () => {
    const app = Testing.app();
    const stacks = phase1Pilot(app);
    addFirewalls(stacks.production, 15 - own(stacks.production), 'phase1-pilot-production');
    addFirewalls(stacks.staging!, 15 - own(stacks.staging!), 'phase1-pilot-staging');
    addFirewalls(stacks.test, 20 - own(stacks.test), 'phase1-pilot-test');
    expect(limitErrorsOf(app)).toEqual([]);
    addFirewalls(stacks.test, 1, 'phase1-pilot-test-more');
    expect(limitErrorsOf(app)).toHaveLength(1);
    const alone = Testing.app();
    const single = phase1Pilot(alone);
    addFirewalls(single.test, 51 - own(single.test), 'phase1-pilot-test');
    // Staging and production's share is counted into each of their errors too, so only test's own count is 51 alone.
    expect(limitErrorsOf(alone)[0]).toMatch(/^phase1-pilot-test\.firewalls: '5\d firewalls' is not allowed: phase1-pilot-test creates 5\d firewalls/);
  });

  test('a raise Hetzner granted, declared with its reason, is the limit; a raise that says nothing is refused', () => {
    const app = Testing.app();
    const stacks = phase1Pilot(app);
    addFirewalls(stacks.test, 60 - own(stacks.test) - own(stacks.production) - own(stacks.staging!), 'phase1-pilot-test');
    expect(limitErrorsOf(app)).toHaveLength(1);
    HetznerAccountLimits.raiseFirewalls(stacks.test, { firewalls: 60, reason: 'raised by Hetzner support, ticket 123456 of 2026-11-02' });
    expect(limitErrorsOf(app)).toEqual([]);
    addFirewalls(stacks.production, 1, 'phase1-pilot-production-more');
    expect(limitErrorsOf(app)[0]).toContain("'61 firewalls' is not allowed");
    expect(limitErrorsOf(app)[0]).toContain('Hetzner allows the 60 firewalls Hetzner raised the account\'s limit to (HetznerAccountLimits.raiseFirewalls)');
    expect(() => HetznerAccountLimits.raiseFirewalls(stacks.test, { firewalls: 100, reason: 'TODO TODO TODO TODO TODO' }))
      .toThrow(/^phase1-pilot-test\.raiseFirewalls\.reason: 'TODO TODO TODO TODO TODO' is not allowed: a raised limit needs a specific reason/);
    expect(() => HetznerAccountLimits.raiseFirewalls(stacks.test, { firewalls: 50, reason: 'raised by Hetzner support, ticket 123456' }))
      .toThrow(/^phase1-pilot-test\.raiseFirewalls\.firewalls: 50 is not allowed: Hetzner allows 50 firewalls per account without a raise/);
    expect(() => HetznerAccountLimits.raiseFirewalls(stacks.test, { firewalls: 60.5, reason: 'raised by Hetzner support, ticket 123456' }))
      .toThrow(/raiseFirewalls\.firewalls: 60\.5 is not allowed: it is not a finite whole number/);
  });

  // A firewall resource with count or for_each was not counted at all: a team that made its per-tenant firewalls
  // `count: 10` passed synth at 59, and Hetzner refused the 51st at apply.
  test('a firewall with a literal count counts as that many, one with for_each over a literal set or map as its size; one synth cannot count warns, naming its path and the fix, until declared', () => {
    const app = Testing.app();
    const stacks = phase1Pilot(app);
    addFirewalls(stacks.test, 38 - own(stacks.test) - own(stacks.production) - own(stacks.staging!), 'phase1-pilot-test');
    new Firewall(stacks.test, 'Tenants', { name: 'tenant-${count.index}', count: 4 });
    new Firewall(stacks.production, 'Regions', { name: 'region-${each.key}', forEach: TerraformIterator.fromList(['fsn1', 'nbg1', 'nbg1']) });
    new Firewall(stacks.staging!, 'Services', { name: 'service-${each.key}', forEach: TerraformIterator.fromMap({ api: 'a', web: 'w', jobs: 'j' }) });
    new Firewall(stacks.production, 'Spares', { name: 'spare-${count.index}', count: TerraformCount.of(2) });
    expect(limitErrorsOf(app)).toEqual([]); // 38 + 4 + 2 (a set of 2) + 3 + 2
    const workers = new Firewall(stacks.test, 'Workers', { name: 'worker-${count.index}', count: new TerraformVariable(stacks.test, 'workers', { type: 'number' }).numberValue });
    new Firewall(stacks.test, 'Queues', { name: 'queue-${each.key}', forEach: TerraformIterator.fromList(new TerraformVariable(stacks.test, 'queues', { type: 'list(string)' }).listValue) });
    expect(limitErrorsOf(app)).toEqual([]);
    const uncounted = warningsOf(stacks.test).filter((w) => w.startsWith('Hetzner-FirewallsUncounted: '));
    expect(uncounted).toEqual(['count', 'for_each'].map((arg, i) => `Hetzner-FirewallsUncounted: phase1-pilot-test/${['Workers', 'Queues'][i]}: the number of firewalls its ${arg} creates is only known `
      + "at plan (it reads a variable, a resource or a data source), so synth cannot count them against Hetzner's limit of firewalls per account, and a deploy past it "
      + 'fails part-way through. Fix: declare the number at synth: count as a number (count: 3, or TerraformCount.of(3)), '
      + "or for_each over a literal list or map (TerraformIterator.fromList(['a', 'b']), TerraformIterator.fromMap({ a: … })); "
      + 'where it comes from a variable, declare the most it creates: HetznerAccountLimits.declareFirewallCount(firewall, { atMost: 10 }).'));
    HetznerAccountLimits.declareFirewallCount(workers, { atMost: 2 });
    // Queues is still uncounted: the count is a floor, and test's share says so.
    expect(limitErrorsOf(app)).toEqual([expect.stringMatching(/^phase1-pilot-test\.firewalls: 'at least 51 firewalls' is not allowed: phase1-pilot-test creates \d+ firewalls and more synth cannot count \(count or for_each known only at plan: Hetzner-FirewallsUncounted\), /)]);
    expect(() => HetznerAccountLimits.declareFirewallCount(workers, { atMost: -1 })).toThrow(/^phase1-pilot-test\/Workers\.declareFirewallCount\.atMost: -1 is not allowed: a resource creates no fewer than 0 firewalls\. Fix: write \{ atMost: 10 \}/);
    const server = new Server(stacks.test, 'Counted', { name: 'counted', serverType: 'cx23', image: 'debian-12', location: 'fsn1', count: 0 });
    expect(() => HetznerAccountLimits.declareFirewallCount(server as never, { atMost: 1 })).toThrow(/^phase1-pilot-test\/Counted\.declareFirewallCount\.firewall: 'hcloud_server' is not allowed: only firewalls are counted/);
  });

  // raiseFirewalls held for the whole App: a raise Hetzner granted one product's account let another product's
  // stacks, in an account Hetzner never raised, pass synth past 50 and fail at apply.
  test("a raise declared in a product's stack holds for that product's account only; one on the App for every account", () => {
    const app = Testing.app();
    const pilot = phase1Pilot(app);
    const paying = phase2PayingCustomers(app);
    addFirewalls(pilot.test, 55 - own(pilot.test) - own(pilot.production) - own(pilot.staging!), 'phase1-pilot-test');
    addFirewalls(paying.test, 55 - own(paying.test) - own(paying.production) - (paying.staging ? own(paying.staging) : 0), 'phase2-paying-test');
    expect(limitErrorsOf(app).map((e) => e.slice(0, e.indexOf(' is not allowed')))).toEqual(["phase1-pilot-test.firewalls: '55 firewalls'", "phase2-paying-test.firewalls: '55 firewalls'"]);
    HetznerAccountLimits.raiseFirewalls(pilot.production, { firewalls: 60, reason: 'raised by Hetzner support, ticket 123456 of 2026-11-02' });
    expect(limitErrorsOf(app)).toEqual([expect.stringMatching(/^phase2-paying-test\.firewalls: '55 firewalls' is not allowed: .* and Hetzner allows 50 firewalls per account, across its projects/)]);
    // The fix names a stack of the product still over, not the App, which would raise the pilot's account again too.
    expect(limitErrorsOf(app)[0]).toContain("declare it in a stack of product 'phase2-paying' (on the App it would hold for every account of the App): "
      + "HetznerAccountLimits.raiseFirewalls(<the stack phase2-paying-test>, { firewalls: 100, reason: '<the ticket>' }).");
    // Reported by the product's own first stack, which cdktf names beside the error, not by the App's first.
    expect(paying.test.node.validate()).toEqual(limitErrorsOf(app));
    HetznerAccountLimits.raiseFirewalls(app, { firewalls: 56, reason: 'raised by Hetzner support, ticket 123457 of 2026-11-03' });
    expect(limitErrorsOf(app)).toEqual([]);
    // One account, one limit: another number for it in another of its stacks is refused, the same one accepted.
    expect(() => HetznerAccountLimits.raiseFirewalls(pilot.test, { firewalls: 80, reason: 'raised by Hetzner support, ticket 123458 of 2026-11-04' })).toThrow(
      "phase1-pilot-test.raiseFirewalls.firewalls: 80 is not allowed: a raise to 60 is declared already for the account of product 'phase1-pilot' "
      + "('raised by Hetzner support, ticket 123456 of 2026-11-02'), and an account has one limit. Fix: declare the limit Hetzner granted once");
    HetznerAccountLimits.raiseFirewalls(pilot.test, { firewalls: 60, reason: 'raised by Hetzner support, ticket 123456 of 2026-11-02' });
  });

  // A firewall given the stack's own provider (no alias) explicitly was counted as an account of its own, one stack's
  // alone: the product's count came out low, synth passed, and Hetzner refused the 51st firewall at apply.
  test("a product's firewall given the stack's default provider explicitly counts in the product's account", () => {
    const app = Testing.app();
    const stacks = phase1Pilot(app);
    addFirewalls(stacks.test, 50 - own(stacks.test) - own(stacks.production) - own(stacks.staging!), 'phase1-pilot-test');
    expect(limitErrorsOf(app)).toEqual([]);
    new Firewall(stacks.production, 'Explicit', { provider: stacks.production.node.findChild('hcloud') as HcloudProvider, name: 'phase1-pilot-explicit-firewall' });
    expect(limitErrorsOf(app)).toEqual([expect.stringMatching(/^phase1-pilot-test\.firewalls: '51 firewalls' is not allowed: .* in one Hetzner account \(the projects of product 'phase1-pilot'/)]);
    // One of another alias may hold another account's token: it is counted apart (the App's total warns).
    const other = Testing.app();
    const apart = phase1Pilot(other);
    addFirewalls(apart.test, 50 - own(apart.test) - own(apart.production) - own(apart.staging!), 'phase1-pilot-test');
    new Firewall(apart.production, 'Recovery', { provider: new HcloudProvider(apart.production, 'recovery', { alias: 'recovery' }), name: 'phase1-pilot-recovery-firewall' });
    expect(limitErrorsOf(other)).toEqual([]);
  });

  test("a team's own stacks, which may deploy to one account (or to two), warn instead", () => {
    const app = Testing.app();
    addFirewalls(teamStack(app, 'acme-web'), 25, 'acme-web');
    addFirewalls(teamStack(app, 'acme-workers', { machineName: 'acme-worker', keyName: 'acme-workers-admin', publicKey: OTHER_KEY }), 25, 'acme-workers');
    expect(errorsOf(app)).toEqual([]);
    expect(limitWarningsOf(app)).toEqual([
      "Hetzner-FirewallsInAccount: acme-web.firewalls: '52 firewalls' is not allowed: acme-web creates 26 firewalls and acme-workers 26 may deploy to one Hetzner account "
      + '(a token of any of its projects deploys there), and Hetzner allows 50 firewalls per account, across its projects, so the deploy that creates the next one would fail part-way through. '
      + 'Fix: create fewer firewalls in the account: fewer machines (each Machine has a firewall of its own), or some of the stacks in another Hetzner account; '
      + "or ask Hetzner to raise the limit and declare it: HetznerAccountLimits.raiseFirewalls(app, { firewalls: 100, reason: '<the ticket>' }). "
      + 'If these stacks deploy to Hetzner accounts of their own, this is no problem.',
    ]);
    // Once, by the App's first stack, however often the App is validated.
    errorsOf(app);
    expect(limitWarningsOf(app)).toHaveLength(1);
  });

  // A stack whose only firewalls have a count read at plan was named as creating "0 firewalls" in the warning (and
  // the App's total as exact): a reader took that stack for one without firewalls.
  test('a stack whose only firewalls synth cannot count is named as such, not as creating 0, and the total is a floor', () => {
    const app = Testing.app();
    addFirewalls(teamStack(app, 'acme-web'), 25, 'acme-web');
    addFirewalls(teamStack(app, 'acme-workers', { machineName: 'acme-worker', keyName: 'acme-workers-admin', publicKey: OTHER_KEY }), 25, 'acme-workers');
    const tenants = new TerraformStack(app, 'acme-tenants');
    new HcloudProvider(tenants, 'hcloud', {});
    new Firewall(tenants, 'Tenants', { name: 'tenant-${count.index}', count: new TerraformVariable(tenants, 'tenants', { type: 'number' }).numberValue });
    expect(errorsOf(app)).toEqual([]);
    expect(limitWarningsOf(app)).toEqual([expect.stringContaining(
      "acme-web.firewalls: 'at least 52 firewalls' is not allowed: acme-web creates 26 firewalls, acme-workers 26 and acme-tenants firewalls synth cannot count "
      + '(count or for_each known only at plan: Hetzner-FirewallsUncounted) may deploy to one Hetzner account')]);
  });

  test("a product's stacks and a team's own stack past the limit together warn; the product alone within it fails nothing", () => {
    const app = Testing.app();
    const stacks = phase1Pilot(app);
    addFirewalls(stacks.test, 30 - own(stacks.test) - own(stacks.production) - own(stacks.staging!), 'phase1-pilot-test');
    addFirewalls(teamStack(app, 'acme-web', { machineName: 'acme-web-2', keyName: 'acme-web-admin', publicKey: OTHER_KEY }), 25, 'acme-web');
    expect(limitErrorsOf(app)).toEqual([]);
    expect(limitWarningsOf(app).filter((w) => w.startsWith("Hetzner-FirewallsInAccount: phase1-pilot-test.firewalls: '56 firewalls'"))).toHaveLength(1);
  });
});
