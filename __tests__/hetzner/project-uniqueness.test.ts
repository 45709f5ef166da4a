import { App, TerraformStack, Testing } from 'cdktf';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import { Firewall } from '../../generated/providers/hcloud/firewall';
import { Server } from '../../generated/providers/hcloud/server';
import { DataVolume, Environment, Machine, PrivateNetwork, ServerType, Size } from '../../lib';
import { SshKey } from '../../lib';
import { ADMIN_CIDRS, ADMIN_KEY, warningsOf } from '../setup/stack';
import { KEY, OTHER_KEY, teamStack } from './team-stacks';
import { fingerprintOf, fingerprintPattern } from './ssh-keygen-fingerprint';
import { EXAMPLES } from '../../examples';
import { phase1Pilot } from '../../examples/phase1-pilot';
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
      /^phase1-pilot-production\/AdminKey-admin\/Resource\.public_key: .* is not allowed: phase1-pilot-staging\/Extra\/Resource \(stack phase1-pilot-staging\) is in production's Hetzner project, where staging lives too .*Fix: register the key in one stack only, and refer to it in the other by name: SshKey\.fromName\('phase1-pilot-staging-extra'\)$/)]);
  });

  test('one stack with a second provider (another project\'s token) may use a name twice, one under each provider', () => {
    const app = Testing.app();
    const stack = teamStack(app, 'acme-web', { volumeName: 'acme-data' });
    const recovery = new HcloudProvider(stack, 'recovery', { alias: 'recovery' });
    new Server(stack, 'RecoveryWeb', { provider: recovery, name: 'acme-web', serverType: 'cx23', image: 'debian-12', location: 'hel1' });
    expect(errorsOf(app)).toEqual([]);
    expect(nameWarningsOf(app)).toEqual([]);
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

// Hetzner allows 50 firewalls per project (docs.hetzner.com/cloud/firewalls/faq; hetzner-facts firewall.limits
// .firewallsTotal). Every Machine brings a firewall of its own, and staging's stack lives in production's project:
// each stack alone synthesized, and Hetzner refused the 51st firewall at apply, part-way through the deploy.
describe('at most 50 firewalls per Hetzner project, across the stacks of one App', () => {
  /** `n` firewalls more in `stack` (the bulk of a team's further machines, without their servers). */
  const addFirewalls = (stack: TerraformStack, n: number, prefix: string) => {
    for (let i = 0; i < n; i += 1) new Firewall(stack, `${prefix}-extra-${i}`, { name: `${prefix}-extra-${i}-firewall` });
  };
  const limitWarningsOf = (app: App) => app.node.findAll().filter(TerraformStack.isStack).flatMap(warningsOf).filter((w) => w.startsWith('Hetzner-FirewallsInProject: '));

  test("a product's production and staging stacks with 51 firewalls in production's project fail synth, naming the count, the stacks and the fix", () => {
    const app = Testing.app();
    const stacks = phase1Pilot(app);
    const own = (stack: TerraformStack) => Object.keys(JSON.parse(Testing.synth(stack)).resource.hcloud_firewall).length;
    const [production, staging] = [own(stacks.production), own(stacks.staging!)];
    addFirewalls(stacks.production, 26 - production, 'phase1-pilot-production');
    addFirewalls(stacks.staging!, 25 - staging, 'phase1-pilot-staging');
    const errors = errorsOf(app).filter((e) => e.includes('firewalls per project'));
    expect(errors).toEqual(['phase1-pilot-staging', 'phase1-pilot-production'].map((id) => `${id}.firewalls: '51 firewalls' is not allowed: `
      + `${id} creates ${id.endsWith('staging') ? 25 : 26} firewalls and ${id.endsWith('staging') ? 'phase1-pilot-production 26' : 'phase1-pilot-staging 25'} `
      + "in production's Hetzner project, where staging lives too (it is built from production's snapshot, which only that project can use), and Hetzner allows 50 firewalls per project, "
      + 'so the deploy that creates the next one fails part-way through. Fix: create at most 50 firewalls in one project: fewer machines (each Machine has a firewall of its own), '
      + "staging on test's machine (StagingMode.reuseTestMachine()), or some of the stacks in a Hetzner project of their own (a provider with its token)"));
    // Test has a project of its own: its stack is not counted, nor refused.
    expect(errorsOf(app).filter((e) => e.startsWith('phase1-pilot-test'))).toEqual([]);
  });

  test('50 firewalls in one project pass; 51 in one stack fail', () => {
    const app = Testing.app();
    const stacks = phase1Pilot(app);
    const own = (stack: TerraformStack) => Object.keys(JSON.parse(Testing.synth(stack)).resource.hcloud_firewall).length;
    addFirewalls(stacks.production, 25 - own(stacks.production), 'phase1-pilot-production');
    addFirewalls(stacks.staging!, 25 - own(stacks.staging!), 'phase1-pilot-staging');
    // Test's project is another one: 50 more there are no problem for production's.
    addFirewalls(stacks.test, 49, 'phase1-pilot-test');
    expect(errorsOf(app).filter((e) => e.includes('firewalls per project'))).toEqual([]);
    addFirewalls(stacks.test, 1, 'phase1-pilot-test-more');
    expect(errorsOf(app).filter((e) => e.includes('firewalls per project'))).toEqual([expect.stringMatching(
      /^phase1-pilot-test\.firewalls: '51 firewalls' is not allowed: phase1-pilot-test creates 51 firewalls in one Hetzner project \(one provider, one token\), and Hetzner allows 50 firewalls per project/)]);
  });

  test("a team's own stacks, which one token deploys to one project (a token each, to two), warn instead", () => {
    const app = Testing.app();
    addFirewalls(teamStack(app, 'acme-web'), 25, 'acme-web');
    addFirewalls(teamStack(app, 'acme-workers', { machineName: 'acme-worker', keyName: 'acme-workers-admin', publicKey: OTHER_KEY }), 25, 'acme-workers');
    expect(errorsOf(app)).toEqual([]);
    expect(limitWarningsOf(app)).toEqual([
      "Hetzner-FirewallsInProject: acme-web.firewalls: '52 firewalls' is not allowed: acme-web creates 26 firewalls and acme-workers 26 may deploy to one Hetzner project "
      + '(one HCLOUD_TOKEN deploys every stack to one project), and Hetzner allows 50 firewalls per project, so the deploy that creates the next one would fail part-way through. '
      + 'Fix: create at most 50 firewalls in one project: fewer machines (each Machine has a firewall of its own), or some of the stacks in a Hetzner project of their own (a provider with its token) '
      + 'If these stacks deploy to Hetzner projects of their own (a token each), this is no problem.',
      expect.stringMatching(/^Hetzner-FirewallsInProject: acme-workers\.firewalls: '52 firewalls' is not allowed: acme-workers creates 26 firewalls and acme-web 26 may deploy/),
    ]);
    // Once, however often the App is validated.
    errorsOf(app);
    expect(limitWarningsOf(app)).toHaveLength(2);
  });
});
