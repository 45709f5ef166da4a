import * as fc from 'fast-check';
import { App, Aspects, TerraformStack, Testing } from 'cdktf';
import { Firewall } from '../../generated/providers/hcloud/firewall';
import { LoadBalancer } from '../../generated/providers/hcloud/load-balancer';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import {
  AiActRole, BoundaryChecks, BoundaryPolicy, DataClass, DataFlow, EgressAllowlist, EgressForm, Environment, FirewallRule, Location, Machine,
  ObjectStorageBackend, Phase, Processor, Product, ServerType, SshKey, StagingMode,
} from '../../lib';
import { Port } from '../../lib/core/port';
import { coversWholeInternet } from '../../lib/core/cidr';
import { checkedStack, machine, mistral, policy } from './fixtures';
import { expectRefused, outcomeOf } from './refusal';

// The red-team corpus of issue #14: bad configurations, typed and untyped (as a JavaScript or JSON
// user would write them), over the public API of the boundary, the firewall rules, Machine's
// placement, ports and labels, Product and the state backend. Every one must be refused with a
// ValidationError (or a failing synth) whose message names the path, the value and the fix:
// 0 crashes (TypeError and friends), 0 invalid configurations accepted.

const ADMIN = ['203.0.113.0/24'];
const valid = () => ({
  environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [SshKey.fromName('admin')],
  adminCidrs: ADMIN, dataClasses: [DataClass.SENSITIVE],
});
/** A machine in a checked stack with its egress restricted; `props` overrides the valid base, typed or not. */
function machineWith(props: Record<string, unknown>, afterwards?: (m: Machine, s: TerraformStack) => void): () => TerraformStack {
  return () => {
    const stack = checkedStack();
    const m = new Machine(stack, 'App', { ...valid(), ...props } as any);
    EgressAllowlist.apply(m, { policy });
    afterwards?.(m, stack);
    return stack;
  };
}

const SPLIT_V4 = ['0.0.0.0/1', '128.0.0.0/1'];
const MAPPED = ['::ffff:0:0/96'];

// ---- bad values by field: every one is invalid for its field ------------------------------------
const UNTYPED: Array<[string, unknown]> = [
  ['null', null], ['NaN', NaN], ['Infinity', Infinity], ['number', 42], ['empty object', {}], ['list', []], ['boolean', true], ['function', () => 1],
];
const machineFields: Record<string, unknown[]> = {
  environment: ['production', 'test', { name: 'production', protectedFromLoss: true }, undefined, ...UNTYPED.map(([, v]) => v)],
  role: [42, null, {}, ['app'], 'feat/x', NaN],
  serverType: ['cx33', { name: 'cx33' }, ServerType.of('zz99'), null, 7, undefined],
  location: ['fsn1', Location.ASH, Location.HIL, Location.SIN, Location.of('mars'), 42, {}, null],
  dataClasses: ['sensitive', ['sensitive'], [null], [DataClass.SENSITIVE, 'public'], 42, {}],
  adminCidrs: [['0.0.0.0/0'], ['::/0'], SPLIT_V4, MAPPED, ['2000::/3'], ['10.0.0.1/8'], ['example.eu/24'], '203.0.113.0/24', [42], [null], [NaN], {}],
  labels: [{ 'data-class': 'public' }, { 'data-public': 'true' }, { environment: 'staging' }, { role: 'x' }, { 'managed-by': 'me' },
    { lifecycle: 'on-demand', purpose: 'release-rehearsal', 'expires-at': '2020-01-01' }, { 'expires-at': '2020-01-01' }, { a: 1 }, { a: null }, 'x', ['a'], { 'feat x': 'y' }, { ok: 'feat/x' }],
  ingress: [[FirewallRule.tcpIn(22, SPLIT_V4)], [FirewallRule.tcpIn(22, MAPPED)], [FirewallRule.tcpIn('1-65535', FirewallRule.ANYWHERE)], [FirewallRule.tcpIn('20-30', ['::/0'])],
    [FirewallRule.tcpIn(5432, SPLIT_V4)], [FirewallRule.tcpIn('5000-6000', MAPPED)], [FirewallRule.tcpOut(443, ['10.0.0.0/8'])], ['tcp 22'], [{ port: 22 }], 'x', [null]],
  egress: [[FirewallRule.tcpOut('1-65535', FirewallRule.ANYWHERE)], [FirewallRule.udpOut(5000, FirewallRule.ANYWHERE)], [FirewallRule.udpOut('1-65535', SPLIT_V4)],
    [FirewallRule.tcpIn(443, FirewallRule.ANYWHERE)], [{ direction: 'out' }], 'all', [null]],
  privateIp: [42, {}, null],
  hetznerBackups: ['yes', 1, null],
  sshKeys: ['admin', [{}], [null], [42]],
  name: [42, 'Production_App', '-x', 'x'.repeat(70)],
};
const badPorts: unknown[] = ['abc', 70000, '70000', '6000-5000', 0, -1, 22.5, NaN, Infinity, '', '22-', '1-65536', null, {}, [22], true];
const badPeers: unknown[] = ['0.0.0.0/0', [], [42], [null], ['10.0.0.1/8'], ['1.2.3.4'], ['::ffff:1.2.3.4/128'], [NaN], null, {}];
const badProcessorProps: unknown[] = [
  null, 'Mistral', { name: 42, legalSeat: { city: 'Paris', country: 'FR' }, hostnames: ['api.x.eu'] },
  { name: 'X', legalSeat: 'Paris', hostnames: ['api.x.eu'] }, { name: 'X', legalSeat: { city: 'Paris', country: 'fr' }, hostnames: ['api.x.eu'] },
  { name: 'X', legalSeat: { city: 'Paris', country: 'FR' }, hostnames: 'api.x.eu' }, { name: 'X', legalSeat: { city: 'Paris', country: 'FR' }, hostnames: ['https://api.x.eu'] },
  { name: 'X', legalSeat: { city: 'Paris', country: 'FR' }, hostnames: [42] }, { name: 'X', legalSeat: { city: 42, country: 'FR' }, hostnames: ['api.x.eu'] },
  { name: '', legalSeat: { city: 'Paris', country: 'FR' }, hostnames: ['api.x.eu'] }, { name: 'X', legalSeat: { city: 'Paris', country: 'FR' }, hostnames: ['api.x.eu'], purpose: 42 },
  // IP literals (audit boundary3): a Processor "seated in Paris" at an address says nothing about who is reached.
  { name: 'X', legalSeat: { city: 'Paris', country: 'FR' }, hostnames: ['203.0.113.7'] }, { name: 'X', legalSeat: { city: 'Paris', country: 'FR' }, hostnames: ['api.x.eu', '10.0.0.5'] },
];
const usModels = new Processor({ name: 'US Models', legalSeat: { city: 'San Francisco', country: 'US' }, hostnames: ['api.us.example'] });
const badPolicyProps: unknown[] = [
  null, [], { aiActRoles: 'deployer', egress: [] }, { aiActRoles: ['importer'], egress: [] }, { aiActRoles: [], egress: [] }, { aiActRoles: [AiActRole.DEPLOYER] },
  { aiActRoles: [AiActRole.DEPLOYER], egress: {} }, { aiActRoles: [AiActRole.DEPLOYER], egress: [null] },
  { aiActRoles: [AiActRole.DEPLOYER], egress: [{ dataClass: 'public', to: [mistral], form: EgressForm.RAW }] },
  { aiActRoles: [AiActRole.DEPLOYER], egress: [{ dataClass: DataClass.PUBLIC, to: ['mistral'], form: EgressForm.RAW }] },
  { aiActRoles: [AiActRole.DEPLOYER], egress: [{ dataClass: DataClass.PUBLIC, to: mistral, form: EgressForm.RAW }] },
  { aiActRoles: [AiActRole.DEPLOYER], egress: [{ dataClass: DataClass.PUBLIC, to: [mistral], form: 'plain' }] },
  { aiActRoles: [AiActRole.DEPLOYER], egress: [{ dataClass: DataClass.PUBLIC, to: [usModels], form: EgressForm.RAW }] },
  { aiActRoles: [AiActRole.DEPLOYER], egress: [{ dataClass: DataClass.SECRET, to: [mistral], form: EgressForm.PSEUDONYMIZED }] },
  { aiActRoles: [AiActRole.DEPLOYER], egress: [{ dataClass: DataClass.SENSITIVE, to: [mistral], form: EgressForm.RAW }] },
  { aiActRoles: [AiActRole.DEPLOYER], egress: [{ dataClass: DataClass.PUBLIC, to: [Processor.mistralAi()], form: EgressForm.RAW }, { dataClass: DataClass.PUBLIC, to: [Processor.mistralAi()], form: EgressForm.PSEUDONYMIZED }] },
  { aiActRoles: [AiActRole.DEPLOYER], egress: [], extraEgressHostnames: ['https://registry.acme.eu'] },
  { aiActRoles: [AiActRole.DEPLOYER], egress: [], extraEgressHostnames: 'registry.acme.eu' },
  { aiActRoles: [AiActRole.DEPLOYER], egress: [], extraEgressHostnames: ['192.0.2.1'] },
];
const badFlows: unknown[] = [
  null, 'mistral', { processor: 'mistral', dataClass: DataClass.PUBLIC, form: EgressForm.RAW }, { processor: mistral, dataClass: 'public', form: EgressForm.RAW },
  { processor: mistral, dataClass: DataClass.PUBLIC, form: 'plain' }, { processor: mistral, dataClass: DataClass.PUBLIC, form: EgressForm.RAW, purpose: 7 },
  // Typed, but not allowed by the policy: the pack refuses them at synth.
  { processor: mistral, dataClass: DataClass.SENSITIVE, form: EgressForm.PSEUDONYMIZED }, { processor: Processor.jinaAi(), dataClass: DataClass.PSEUDONYMIZED, form: EgressForm.PSEUDONYMIZED },
  { processor: usModels, dataClass: DataClass.PUBLIC, form: EgressForm.RAW }, { processor: mistral, dataClass: DataClass.SECRET, form: EgressForm.RAW },
];
const productBase = () => ({
  name: 'acme', phase: Phase.ONE, admin: { sshPublicKeys: { ops: 'ssh-ed25519 AAAA ops@acme.eu' }, cidrs: ADMIN }, boundary: policy, stateBucket: 'acme-tfstate',
});
const productFields: Record<string, unknown[]> = {
  name: [42, 'ACME', '', null, 'a_b'],
  phase: ['one', 1, { name: 'one' }, null, undefined],
  admin: [null, 'ops', { sshPublicKeys: 'x', cidrs: ADMIN }, { sshPublicKeys: {}, cidrs: '203.0.113.0/24' }, { sshPublicKeys: {}, cidrs: ['0.0.0.0/0'] },
    { sshPublicKeys: {}, cidrs: SPLIT_V4 }, { sshPublicKeys: {}, cidrs: MAPPED }, { sshPublicKeys: { ops: 42 }, cidrs: ADMIN }, { sshPublicKeys: {}, cidrs: ['10.0.0.1/8'] }],
  boundary: [{}, null, 'policy', { aiActRoles: [AiActRole.DEPLOYER], egress: [] }],
  stateBucket: ['', 'ACME', 'a', 'a..b', '-acme', '192.168.0.1', 'x'.repeat(64), 42, null, 'acme_state'],
  location: ['fsn1', 42, {}],
  stateLocation: ['fsn1', null],
  staging: ['reuse', {}, 1],
  dataFlows: [{}, [null], [{ processor: 'mistral' }], 'x'],
  unavailableServerTypes: ['cx33', [42]],
  earlyAdoptions: ['x', [{ component: 'gpu', reason: 'x'.repeat(30) }]],
};

describe('red team: generated bad configurations', () => {
  const field = <T extends Record<string, unknown[]>>(fields: T) =>
    fc.constantFrom(...Object.keys(fields)).chain((k) => fc.constantFrom(...fields[k].map((v) => [k, v] as const)));

  test('Machine: one field wrong (typed or untyped) is refused with path, value and fix, never a crash', () => {
    fc.assert(fc.property(field(machineFields), ([key, value]) => {
      expectRefused(machineWith({ [key]: value }));
    }), { numRuns: 120, seed: 1414 });
  });

  test('Machine: two fields wrong at once are still refused', () => {
    fc.assert(fc.property(field(machineFields), field(machineFields), ([k1, v1], [k2, v2]) => {
      fc.pre(k1 !== k2);
      expectRefused(machineWith({ [k1]: v1, [k2]: v2 }));
    }), { numRuns: 60, seed: 1415 });
  });

  test('FirewallRule: bad ports and peers are refused as values', () => {
    const factories = ['tcpIn', 'udpIn', 'tcpOut', 'udpOut'] as const;
    fc.assert(fc.property(fc.constantFrom(...factories), fc.constantFrom(...badPorts), fc.boolean(), (factory, port, badPeer) => {
      expectRefused(() => { (FirewallRule as any)[factory](badPeer ? 443 : port, badPeer ? badPeers[Math.abs(String(port).length) % badPeers.length] : ADMIN); });
    }), { numRuns: 60, seed: 1416 });
  });

  test('Processor, BoundaryPolicy and DataFlow: bad props are refused', () => {
    fc.assert(fc.property(fc.constantFrom(
      ...badProcessorProps.map((p) => () => { new Processor(p as any); }),
      ...badPolicyProps.map((p) => () => { new BoundaryPolicy(p as any); }),
      ...badFlows.map((f) => () => {
        const stack = checkedStack();
        DataFlow.declare(machine(stack), f as any);
        return stack;
      }),
    ), (build) => {
      expectRefused(build);
    }), { numRuns: 60, seed: 1417 });
  });

  test('Product: one field wrong is refused', () => {
    fc.assert(fc.property(field(productFields), ([key, value]) => {
      expectRefused(() => { new Product({ ...productBase(), [key]: value } as any); });
    }), { numRuns: 60, seed: 1418 });
  });

  test('generated firewall blocks: whatever splits the internet, SSH and PostgreSQL stay closed', () => {
    // Random prefixes that together cover all of IPv4: the first split at a random length, each half halved again at random.
    const cover = fc.integer({ min: 1, max: 8 }).map((bits) => {
      const blocks: string[] = [];
      const step = 2 ** (32 - bits);
      for (let i = 0; i < 2 ** bits; i += 1) {
        const n = i * step;
        blocks.push(`${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}/${bits}`);
      }
      return blocks;
    });
    fc.assert(fc.property(cover, fc.constantFrom(22, 5432, '20-30', '5000-6000', '1-65535'), (blocks, port) => {
      expect(coversWholeInternet(blocks)).toBe(true);
      expectRefused(machineWith({ ingress: [FirewallRule.tcpIn(port, blocks)] }), /SSH|PostgreSQL|to the internet/);
    }), { numRuns: 40, seed: 1419 });
  });
});

describe('red team: every bypass of issue #14', () => {
  test('1. a pack added to the App checks every stack', () => {
    const app = Testing.app();
    Aspects.of(app).add(new BoundaryChecks({ policy }));
    const stack = new TerraformStack(app, 'production');
    new HcloudProvider(stack, 'hcloud', {});
    new ObjectStorageBackend(stack, { bucket: 'acme-state' });
    const m = new Machine(stack, 'App', { ...valid(), location: Location.ASH, dataClasses: [DataClass.PUBLIC] });
    m.server.location = 'ash';
    m.server.labels = { 'data-class': 'sensitive' };
    expectRefused(() => stack, /Boundary-EuPlacement: production\/App\/Resource\.location: 'ash' is not allowed/);
  });

  test('1. a stack a pack on the App cannot reach fails the app synth with the fix', () => {
    const app = new App({ outdir: require('fs').mkdtempSync(require('path').join(require('os').tmpdir(), 'redteam-')) });
    Aspects.of(app).add(new BoundaryChecks({ policy }));
    const reached = new TerraformStack(app, 'reached');
    new ObjectStorageBackend(reached, { bucket: 'acme-state' });
    const lone = new TerraformStack(app, 'lone');
    new HcloudProvider(lone, 'hcloud', {});
    new Firewall(lone, 'Raw', { name: 'raw', rule: [{ direction: 'in', protocol: 'tcp', port: '22', sourceIps: ['0.0.0.0/0'] }] });
    expect(() => app.synth()).toThrow(/lone\.aspects: .* is not allowed: cdktf 0\.21 and cdktn 0\.24 do not invoke aspects added above a stack.* Fix: add the pack to the stack itself/);
  });

  test('1. two packs on one stack both run', () => {
    const stack = checkedStack();
    const onlySsh = new BoundaryChecks({ policy, rules: [require('../../lib').BOUNDARY_RULES.find((r: any) => r.id === 'Boundary-AdminSshOnly')] });
    Aspects.of(stack).add(onlySsh);
    new Firewall(stack, 'Raw', { name: 'raw', rule: [{ direction: 'in', protocol: 'tcp', port: '22', sourceIps: ['0.0.0.0/0'] }] });
    const message = expectRefused(() => stack);
    expect(message.match(/Boundary-AdminSshOnly/g)).toHaveLength(2);
  });

  test('2. user labels cannot override the standard labels', () => {
    expectRefused(machineWith({ labels: { 'data-class': 'public' } }), /production\/App\.labels\.data-class: 'public' is not allowed: the library sets this label/);
    expectRefused(machineWith({ labels: { environment: 'staging', lifecycle: 'on-demand', purpose: 'release-rehearsal', 'expires-at': '2020-01-01' } }), /labels\.environment/);
    expectRefused(machineWith({ labels: { lifecycle: 'on-demand' } }), /labels\.lifecycle: 'on-demand' is not allowed: only on-demand staging resources carry it/);
  });

  test('2. a raw label cannot make a declared sensitive machine public', () => {
    expectRefused(machineWith({}, (m) => { m.server.location = 'ash'; m.server.labels = { 'data-class': 'public' }; }), /Boundary-EuPlacement: .*holds sensitive data/);
    expectRefused(machineWith({}, (m) => { m.server.labels = { 'data-class': 'public' }; m.firewall.addOverride('rule', []); }), /Boundary-RestrictedEgress/);
  });

  test.each([
    ['0.0.0.0/1 + 128.0.0.0/1', SPLIT_V4], ['::ffff:0:0/96', MAPPED], ['2000::/3', ['2000::/3']],
  ])('3. SSH and 5432 open to %s are refused', (_name, blocks) => {
    expectRefused(() => {
      const stack = checkedStack();
      new Firewall(stack, 'Raw', { name: 'raw', rule: [{ direction: 'in', protocol: 'tcp', port: '22', sourceIps: blocks }, { direction: 'in', protocol: 'tcp', port: '5432', sourceIps: blocks }] });
      return stack;
    }, /^(?=[\s\S]*Boundary-AdminSshOnly: production\/Raw\.rule)(?=[\s\S]*Boundary-NoPublicDataStore: production\/Raw\.rule)/);
  });

  test('3. Machine\'s own SSH check sees 22 inside a range', () => {
    const stack = checkedStack();
    // The pack is off: Machine itself must refuse it.
    Aspects.of(stack).all.splice(0);
    const m = () => { new Machine(stack, 'App', { ...valid(), ingress: [FirewallRule.tcpIn('1-65535', FirewallRule.ANYWHERE)] }); return stack; };
    expectRefused(m, /production\/App\.ingress: 'tcp 1-65535 from 0\.0\.0\.0\/0, ::\/0' is not allowed: its ports include 22/);
  });

  test.each(['abc', 70000, '6000-5000'])('3. port %p is refused as a value', (port) => {
    expectRefused(() => { FirewallRule.tcpIn(port, ADMIN); }, /FirewallRule\.tcpIn\.port: .* is not allowed: .* Fix: /);
  });

  test('3. a reversed range in a raw firewall does not slip past the data-store rule', () => {
    expectRefused(() => {
      const stack = checkedStack();
      new Firewall(stack, 'Raw', { name: 'raw', rule: [{ direction: 'in', protocol: 'tcp', port: '6000-5000', sourceIps: ['0.0.0.0/0'] }] });
      return stack;
    }, /Boundary-NoPublicDataStore/);
  });

  test('4. placement is read from every placing field', () => {
    expectRefused(() => {
      const stack = checkedStack();
      new LoadBalancer(stack, 'Lb', { name: 'lb', loadBalancerType: 'lb11', networkZone: 'us-east' });
      return stack;
    }, /Boundary-EuPlacement: production\/Lb\.network_zone: 'us-east' is not allowed/);
    expectRefused(machineWith({}, (m) => { m.server.addOverride('location', undefined); m.server.addOverride('datacenter', 'ash-dc1'); }), /Boundary-EuPlacement: .*\.datacenter: 'ash-dc1' is not allowed/);
  });

  test('5. restricted egress means only the allowlist\'s ports', () => {
    expectRefused(machineWith({ egress: [FirewallRule.tcpOut('1-65535', FirewallRule.ANYWHERE)] }), /Boundary-RestrictedEgress: .*'tcp 1-65535 to 0\.0\.0\.0\/0, ::\/0' is not allowed/);
    // Audit (mutation): a range that starts at an allowed port was never tried, so judging a range by its first port passed.
    expectRefused(machineWith({ egress: [FirewallRule.tcpOut('443-8443', FirewallRule.ANYWHERE)] }), /Boundary-RestrictedEgress: .*'tcp 443-8443 to 0\.0\.0\.0\/0, ::\/0' is not allowed/);
    expectRefused(machineWith({ egress: [FirewallRule.udpOut('53-65535', FirewallRule.ANYWHERE)] }), /Boundary-RestrictedEgress: .*'udp 53-65535 to 0\.0\.0\.0\/0, ::\/0' is not allowed/);
    expectRefused(() => {
      const stack = checkedStack();
      machine(stack, 'App', { egress: [FirewallRule.udpOut(443, FirewallRule.ANYWHERE)] }, false);
      return stack;
    }, /no host allowlist narrows these rules/);
  });

  test('6. processors compare by value, so a fresh Processor.mistralAi() flow is allowed', () => {
    const stack = checkedStack();
    DataFlow.declare(machine(stack), { processor: Processor.mistralAi(), dataClass: DataClass.PSEUDONYMIZED, form: EgressForm.PSEUDONYMIZED });
    expect(outcomeOf(() => stack).kind).toBe('accepted');
  });

  test('7. a policy can say "Mistral for pseudonymized data only"', () => {
    const only = new BoundaryPolicy({ aiActRoles: [AiActRole.DEPLOYER], egress: [{ dataClass: DataClass.PSEUDONYMIZED, to: [Processor.mistralAi()], form: EgressForm.PSEUDONYMIZED }] });
    expect(only.allows(DataClass.PUBLIC, mistral, EgressForm.RAW)).toBe(false);
    const doc = require('../../lib/boundary/boundary-document').boundaryDocument({ title: 'acme', policy: only, stacks: [] });
    expect(doc).toMatch(/\| public \| nobody: never leaves the EU control plane \| never \|/);
    expect(doc).toMatch(/\| pseudonymized \| Mistral AI \(Paris, FR\) \| pseudonymized \|/);
  });

  test('8. the host allowlist holds the policy\'s processors without any flow', () => {
    const m = machine(checkedStack());
    expect(EgressAllowlist.hostnamesFor(m, { policy })).toEqual(expect.arrayContaining(['api.mistral.ai', 'api.jina.ai']));
  });

  test.each(['', 'ACME', 'a..b'])('9. state bucket %p is refused', (bucket) => {
    expectRefused(() => { new ObjectStorageBackend(new TerraformStack(Testing.app(), 'production'), { bucket }); }, /production\.stateBackend\.bucket: .* is not allowed/);
  });

  test('9. two stacks cannot share one state key', () => {
    const app = Testing.app();
    new ObjectStorageBackend(new TerraformStack(app, 'a'), { bucket: 'acme-state', key: 'shared.tfstate' });
    expectRefused(() => { new ObjectStorageBackend(new TerraformStack(app, 'b'), { bucket: 'acme-state', key: 'shared.tfstate' }); },
      /b\.stateBackend\.key: 'shared\.tfstate' is not allowed: stack a already keeps its state/);
  });

  test('11. environment as a string never builds an unprotected server', () => {
    expectRefused(machineWith({ environment: 'production' }), /production\/App\.environment: 'production' is not allowed: it is not an Environment \(a string is not one/);
    expectRefused(() => { new Product({ ...productBase(), phase: 'one' } as any); }, /Product\(acme\)\.phase: 'one' is not allowed/);
    expectRefused(() => { new Product({ ...productBase(), staging: 'reuse' } as any); }, /Product\(acme\)\.staging: 'reuse' is not allowed/);
  });

  test('11. NaN and Infinity are printed as such', () => {
    expectRefused(() => { FirewallRule.tcpIn(NaN, ADMIN); }, /port: NaN is not allowed/);
    expectRefused(() => { Port.of(Infinity); }, /port: Infinity is not allowed/);
  });

  test('a valid configuration still passes (the corpus is not refusing everything)', () => {
    expect(outcomeOf(machineWith({})).kind).toBe('accepted');
    expect(() => new Product({ ...productBase(), staging: StagingMode.reuseTestMachine() })).not.toThrow();
  });
});
