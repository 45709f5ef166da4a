import { AiActRole, BoundaryPolicy, DataClass, EgressAllowlist, EgressForm, Processor } from '../../lib';
import { Testing } from 'cdktf';
import * as lib from '../../lib';
import { LoadBalancer } from '../../generated/providers/hcloud/load-balancer';
import { checkedStack, machine, publicHost } from './fixtures';

// Audit 07: BoundaryPolicy and Processor checked themselves once, in the constructor, and stayed
// editable: from JavaScript, a secret allowance pushed afterwards, a US seat or another hostname
// widened what the rules and the egress allowlist trusted at synth. Both are frozen once checked.

describe('a checked policy and its processors cannot be edited afterwards', () => {
  test('a processor keeps its seat, name and hostnames', () => {
    const mistral = Processor.mistralAi() as any;
    expect(() => { mistral.legalSeat.country = 'US'; }).toThrow(TypeError);
    expect(() => { mistral.name = 'US Models Inc'; }).toThrow(TypeError);
    expect(() => mistral.hostnames.push('api.openai.com')).toThrow(TypeError);
    expect(mistral.legalSeat.country).toBe('FR');
    expect(mistral.hostnames).toEqual(['api.mistral.ai']);
  });

  test('a policy keeps its allowances, and the allowlist never gets an unvetted host', () => {
    const mistral = Processor.mistralAi();
    const policy = new BoundaryPolicy({ aiActRoles: [AiActRole.DEPLOYER], egress: [{ dataClass: DataClass.PSEUDONYMIZED, to: [mistral], form: EgressForm.PSEUDONYMIZED }] }) as any;
    expect(() => policy.allowances.push({ dataClass: DataClass.SECRET, to: [mistral], form: EgressForm.RAW })).toThrow(TypeError);
    expect(() => policy.allowances[0].to.push(mistral)).toThrow(TypeError);
    expect(() => { policy.allowances[0].form = EgressForm.RAW; }).toThrow(TypeError);
    expect(() => policy.extraEgressHostnames.push('api.openai.com')).toThrow(TypeError);
    expect(policy.formFor(DataClass.SECRET, mistral)).toBeUndefined();
    const m = machine(checkedStack(), 'App', { dataClasses: [DataClass.SENSITIVE, DataClass.SECRET] });
    expect(EgressAllowlist.hostnamesFor(m, { policy })).not.toContain('api.openai.com');
  });

  test('the caller\'s own lists stay theirs', () => {
    const egress = [{ dataClass: DataClass.PUBLIC, to: [Processor.mistralAi()], form: EgressForm.RAW }];
    const extra = [publicHost('registry.acme.eu')];
    new BoundaryPolicy({ aiActRoles: [AiActRole.DEPLOYER], egress, extraEgressHostnames: extra });
    expect(Object.isFrozen(egress)).toBe(false);
    expect(Object.isFrozen(egress[0])).toBe(false);
    expect(Object.isFrozen(extra)).toBe(false);
  });

  test('a look-alike processor not built by the constructor is refused', () => {
    const forged = Object.assign(Object.create(Processor.prototype), { name: 'Mistral AI', legalSeat: { city: 'Paris', country: 'FR' }, hostnames: ['api.mistral.ai'] });
    expect(() => new BoundaryPolicy({ aiActRoles: [AiActRole.DEPLOYER], egress: [{ dataClass: DataClass.PUBLIC, to: [forged], form: EgressForm.RAW }] }))
      .toThrow(/^BoundaryPolicy\.egress\[0\]\.to\[0\]: 'Mistral AI' is not allowed: it was not built by the Processor constructor.*Fix: build it with new Processor/);
  });
});

// The rule pack is every BoundaryChecks' default: from JavaScript, BOUNDARY_RULES.splice(0) or a rule's evaluate
// replaced left every stack of the process checked by no rule, and each still passed as checked.
describe('the rule pack and the Storage Box locations cannot be edited', () => {
  test('BOUNDARY_RULES keeps its rules, and each rule its evaluate', () => {
    const rules = lib.BOUNDARY_RULES as any;
    const count = rules.length;
    expect(() => rules.splice(0)).toThrow(TypeError);
    expect(() => rules.push({ id: 'Boundary-Nothing', evaluate: () => [] })).toThrow(TypeError);
    expect(() => { rules[0].evaluate = () => []; }).toThrow(TypeError);
    expect(rules.length).toBe(count);
    const stack = checkedStack();
    new LoadBalancer(stack, 'Lb', { name: 'lb', loadBalancerType: 'lb11', location: 'ash' });
    expect(() => Testing.synth(stack, true)).toThrow(/Boundary-EuPlacement/);
  });

  test('STORAGE_BOX_LOCATIONS takes no location Hetzner has no Storage Box in', () => {
    expect(() => (lib.STORAGE_BOX_LOCATIONS as any).push(lib.Location.of('ash'))).toThrow(TypeError);
    expect(lib.STORAGE_BOX_LOCATIONS.map((l) => l.name)).toEqual(['fsn1', 'hel1']);
  });
});
