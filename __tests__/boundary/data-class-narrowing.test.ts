import { Construct } from 'constructs';
import { LoadBalancer } from '../../generated/providers/hcloud/load-balancer';
import { Server } from '../../generated/providers/hcloud/server';
import { Volume } from '../../generated/providers/hcloud/volume';
import { VolumeAttachment } from '../../generated/providers/hcloud/volume-attachment';
import { DataClass, DataVolume, EgressAllowlist, Environment, Machine, ServerType, Size, SshKey } from '../../lib';
import { checkedStack, machine, policy, synthErrors } from './fixtures';

// Audit 04: DataClass.declare replaced a Machine's own declaration, so with its labels replaced too, a
// machine built as SENSITIVE was judged public: placed in Ashburn, no firewall, synth passing. A
// declaration may now add classes, never drop one declared on the construct or above it.

describe('a data class declaration never narrows', () => {
  test('redeclaring a sensitive Machine as public is refused, naming the path, value and fix', () => {
    const m = machine(checkedStack());
    expect(() => DataClass.declare(m, [DataClass.PUBLIC]))
      .toThrow(/^production\/App\.dataClasses: \["public"\] is not allowed: production\/App already holds sensitive, and a declaration can add classes but never remove one \(sensitive\)\. Fix: declare every class it holds: \[DataClass\.PUBLIC, DataClass\.SENSITIVE\]$/);
  });

  test('declaring public on a resource inside the Machine is refused too', () => {
    const m = machine(checkedStack());
    expect(() => DataClass.declare(m.server, [DataClass.PUBLIC])).toThrow(/production\/App\/\w+\.dataClasses: \["public"\] is not allowed/);
  });

  test('adding a class is accepted and the rules read the wider declaration', () => {
    const stack = checkedStack();
    const m = machine(stack);
    DataClass.declare(m, [DataClass.SENSITIVE, DataClass.SECRET]);
    expect(DataClass.declaredFor(m.server)).toEqual([DataClass.SENSITIVE, DataClass.SECRET]);
    expect(synthErrors(stack)).toBe('');
  });
});

// Second pass: a declaration inherited down the tree. DataClass.declare(stack, [DataClass.PUBLIC]) made every
// undeclared raw store below the stack public: a team's raw Server in Ashburn and a raw Volume (holding whatever the
// team put on it) attached to a public machine, open egress, passed synth. An ancestor's declaration now reaches a
// raw server, volume, snapshot or Storage Box only when it holds sensitive or secret data.
describe('an inherited declaration never makes a raw store public', () => {
  test('public on the stack: a raw server outside the EU and a raw volume on a public machine are judged sensitive (undeclared)', () => {
    const stack = checkedStack();
    DataClass.declare(stack, [DataClass.PUBLIC]);
    new Server(stack, 'Batch', { name: 'batch', serverType: 'cpx21', image: 'debian-12', location: 'ash' });
    const web = machine(stack, 'Web', { dataClasses: [DataClass.PUBLIC] }, false);
    const team = new Construct(stack, 'Team');
    const raw = new Volume(team, 'Scratch', { name: 'scratch', size: 10, location: 'fsn1' });
    new VolumeAttachment(team, 'ScratchAttachment', { serverId: web.server.id as unknown as number, volumeId: raw.id as unknown as number });
    const errors = synthErrors(stack);
    expect(errors).toMatch(/Boundary-EuPlacement: production\/Batch\.location: 'ash' is not allowed: hcloud_server holds sensitive \(undeclared\) data, which must stay in the EU.*on a raw resource the label data-class=public/);
    expect(errors).toMatch(/production\/Web\/Resource\.egress: 'allow all' is not allowed: the server holds sensitive \(on production\/Team\/Scratch, attached to it\) data/);
  });

  test('a raw volume inside a public Machine is not the machine\'s server: it is judged sensitive too, and the fix offers declaring it', () => {
    const stack = checkedStack();
    const web = machine(stack, 'Web', { dataClasses: [DataClass.PUBLIC] }, false);
    new Volume(web, 'Extra', { name: 'extra', size: 10, location: 'fsn1', serverId: web.server.id as unknown as number });
    expect(synthErrors(stack)).toMatch(/production\/Web\/Resource\.egress: 'allow all' is not allowed: the server holds sensitive \(on production\/Web\/Extra, attached to it\).* Fix: apply EgressAllowlist to the machine.*; or, if production\/Web\/Extra holds only public data, declare so on the volume: DataClass\.declare\(volume, \[DataClass\.PUBLIC\]\), or its label data-class=public/);
  });

  test('a volume declared sensitive that widens a public Machine is not offered to be declared public', () => {
    const stack = checkedStack();
    const web = machine(stack, 'Web', { dataClasses: [DataClass.PUBLIC] }, false);
    DataClass.declare(new Volume(stack, 'Extra', { name: 'extra', size: 10, location: 'fsn1', serverId: web.server.id as unknown as number }), [DataClass.SENSITIVE]);
    const errors = synthErrors(stack);
    expect(errors).toMatch(/production\/Web\/Resource\.egress: 'allow all' is not allowed: the server holds sensitive \(on production\/Extra, attached to it\)/);
    expect(errors).not.toMatch(/declare so on the volume/);
  });

  test('public on the stack: a raw load balancer outside the EU, which carries users\' traffic and can terminate TLS, is judged sensitive (undeclared)', () => {
    const stack = checkedStack();
    DataClass.declare(stack, [DataClass.PUBLIC]);
    new LoadBalancer(stack, 'Edge', { name: 'edge', loadBalancerType: 'lb11', location: 'ash' });
    expect(synthErrors(stack)).toMatch(/Boundary-EuPlacement: production\/Edge\.location: 'ash' is not allowed: hcloud_load_balancer holds sensitive \(undeclared\) data, which must stay in the EU/);
    // Declared on itself, it may stand in Ashburn.
    const own = checkedStack('own');
    DataClass.declare(own, [DataClass.PUBLIC]);
    DataClass.declare(new LoadBalancer(own, 'Edge', { name: 'edge', loadBalancerType: 'lb11', location: 'ash' }), [DataClass.PUBLIC]);
    expect(synthErrors(own)).toBe('');
  });

  test('declared on the store itself, by its label, by a Machine or DataVolume, or stricter from above, it still counts', () => {
    const stack = checkedStack();
    DataClass.declare(stack, [DataClass.PUBLIC]);
    DataClass.declare(new Server(stack, 'Mirror', { name: 'mirror', serverType: 'cpx21', image: 'debian-12', location: 'ash' }), [DataClass.PUBLIC]);
    new Server(stack, 'Docs', { name: 'docs', serverType: 'cpx21', image: 'debian-12', location: 'ash', labels: { 'data-class': 'public' } });
    const web = machine(stack, 'Web', { dataClasses: [DataClass.PUBLIC] }, false);
    new DataVolume(stack, 'Assets', { machine: web, size: Size.gibibytes(20), withoutBackup: 'Assets are rebuilt from the repository' });
    expect(synthErrors(stack)).toBe('');

    const strict = checkedStack('strict');
    const team = new Construct(strict, 'Team');
    DataClass.declare(team, [DataClass.SENSITIVE, DataClass.SECRET]);
    const vault = new Server(team, 'Vault', { name: 'vault', serverType: 'cpx21', image: 'debian-12', location: 'ash' });
    expect(synthErrors(strict)).toMatch(/strict\/Team\/Vault\.location: 'ash' is not allowed: hcloud_server holds secret data/);
    expect(DataClass.declaredFor(vault)).toEqual([DataClass.SENSITIVE, DataClass.SECRET]);
  });
});

// Third pass: a Machine left at its default under a stack declared [DataClass.PUBLIC] was refused as if the caller had
// dropped a class: "production/App.dataClasses: ["sensitive"] ... production/App already holds public", naming a
// class the caller never wrote on the machine and a declaration made on the stack as the machine's own.
describe('a default Machine under a stack declared public', () => {
  const props = { environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [SshKey.fromName('admin')], adminCidrs: ['203.0.113.0/24'] };

  test('is refused saying the default is sensitive, where public was declared, and what to write for each case', () => {
    const stack = checkedStack();
    DataClass.declare(stack, [DataClass.PUBLIC]);
    expect(() => new Machine(stack, 'App', props)).toThrow(
      "production/App.dataClasses: 'left out (the default)' is not allowed: a Machine that declares no classes holds [DataClass.SENSITIVE] by default, "
      + "and 'production' above it is declared to hold [DataClass.PUBLIC]: a declaration below may add classes to that one but not leave one out, "
      + 'so the default is refused rather than read as either [DataClass.PUBLIC] or [DataClass.PUBLIC, DataClass.SENSITIVE]. Fix: say what the machine holds: dataClasses: [DataClass.PUBLIC] '
      + "if it holds only what 'production' declares, or dataClasses: [DataClass.PUBLIC, DataClass.SENSITIVE] if it holds sensitive data too "
      + '(it then needs the egress allowlist, EgressAllowlist.apply)');
  });

  test('a plain-JavaScript caller passing dataClasses: [] gets the same message; either fix passes', () => {
    const stack = checkedStack();
    DataClass.declare(stack, [DataClass.PUBLIC]);
    expect(() => new Machine(stack, 'App', { ...props, dataClasses: [] })).toThrow(/^production\/App\.dataClasses: 'left out \(the default\)' is not allowed: a Machine that declares no classes/);
    new Machine(stack, 'Web', { ...props, role: 'web', dataClasses: [DataClass.PUBLIC] });
    EgressAllowlist.apply(new Machine(stack, 'Api', { ...props, role: 'api', dataClasses: [DataClass.PUBLIC, DataClass.SENSITIVE] }), { policy });
    expect(synthErrors(stack)).toBe('');
  });

  // It spoke of public data and an allowlist only the sensitive choice needs, whatever was declared above.
  test('under a declaration of secret data, it names secret, and the allowlist either choice needs', () => {
    const stack = checkedStack();
    const vault = new Construct(stack, 'Vault');
    DataClass.declare(vault, [DataClass.SECRET]);
    expect(() => new Machine(vault, 'App', props)).toThrow(
      "'production/Vault' above it is declared to hold [DataClass.SECRET]: a declaration below may add classes to that one but not leave one out, "
      + 'so the default is refused rather than read as either [DataClass.SECRET] or [DataClass.SENSITIVE, DataClass.SECRET]. Fix: say what the machine holds: '
      + "dataClasses: [DataClass.SECRET] if it holds only what 'production/Vault' declares, or dataClasses: [DataClass.SENSITIVE, DataClass.SECRET] "
      + 'if it holds sensitive data too (either needs the egress allowlist, EgressAllowlist.apply)');
  });

  test('a declaration on another construct above names that one, not the machine', () => {
    const stack = checkedStack();
    const team = new Construct(stack, 'Team');
    DataClass.declare(team, [DataClass.SENSITIVE, DataClass.SECRET]);
    expect(() => new Machine(team, 'App', props)).toThrow(/'production\/Team' above it is declared to hold \[DataClass\.SENSITIVE, DataClass\.SECRET\].*Fix: declare what it holds: dataClasses: \[DataClass\.SENSITIVE, DataClass\.SECRET\]$/);
    const m = machine(checkedStack('other'));
    expect(() => DataClass.declare(m, [DataClass.PUBLIC])).toThrow(/^other\/App\.dataClasses: \["public"\] is not allowed: other\/App already holds sensitive/);
  });
});
