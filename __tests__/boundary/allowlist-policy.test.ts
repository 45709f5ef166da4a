import { Testing } from 'cdktf';
import { AiActRole, BoundaryPolicy, DataClass, EgressAllowlist, EgressForm, Processor } from '../../lib';
import { boundaryDocument } from '../../lib/boundary/boundary-document';
import { allowlistFor } from '../../lib/boundary/private/egress-declarations';
import { checkedStack, machine, policy, publicHost, synthErrors } from './fixtures';

// Red team (audit redteam): the host allowlist let through every processor of the policy given to
// EgressAllowlist.apply, and read that policy (and its extra hosts) only at synth, from the caller's
// object. A machine allowlisted with another policy than the stack's pack, or whose options a
// JavaScript caller edited after apply, reached processors the checked policy never named, while
// boundary.md's "What may leave" (the checked policy) did not list them.

const aleph = new Processor({ name: 'Aleph Alpha', legalSeat: { city: 'Heidelberg', country: 'DE' }, hostnames: ['api.aleph-alpha.com'] });
const experiment = new BoundaryPolicy({
  aiActRoles: [AiActRole.DEPLOYER],
  egress: [{ dataClass: DataClass.PSEUDONYMIZED, to: [aleph], form: EgressForm.PSEUDONYMIZED }],
  extraEgressHostnames: [publicHost('paste.example.com')],
});

describe('a host allowlist opens only what the checked policy names', () => {
  test('an allowlist built from another policy than the stack\'s pack is refused, naming each foreign processor and host', () => {
    const stack = checkedStack();
    const m = machine(stack, 'App', {}, false);
    EgressAllowlist.apply(m, { policy: experiment });
    const errors = synthErrors(stack);
    expect(errors).toMatch(/Boundary-ProcessorAllowed: production\/App\.egressAllowlist\.policy: 'processor Aleph Alpha \(Heidelberg, DE\): api\.aleph-alpha\.com' is not allowed: the machine's host allowlist was built from another BoundaryPolicy .* Fix: pass the same policy to EgressAllowlist\.apply and BoundaryChecks/);
    expect(errors).toMatch(/production\/App\.egressAllowlist\.policy: 'extra host paste\.example\.com' is not allowed/);
  });

  test('a policy equal by value, or naming fewer processors, is accepted', () => {
    const stack = checkedStack();
    const m = machine(stack, 'App', {}, false);
    EgressAllowlist.apply(m, { policy: new BoundaryPolicy({ aiActRoles: [AiActRole.DEPLOYER], egress: [{ dataClass: DataClass.PUBLIC, to: [Processor.mistralAi()], form: EgressForm.RAW }] }) });
    expect(synthErrors(stack)).toBe('');
  });

  test('options edited after apply (from JavaScript) change neither the table nor boundary.md', () => {
    const stack = checkedStack();
    const m = machine(stack, 'App', {}, false);
    const options: any = { policy, hostnames: [publicHost('registry.acme.eu')] };
    EgressAllowlist.apply(m, options);
    options.hostnames.push('1.2.3.4', '*.example.com');
    options.policy = { extraEgressHostnames: [], processors: [{ name: 'OpenAI', legalSeat: { city: 'San Francisco', country: 'US' }, hostnames: ['api.openai.com'] }] };
    expect(synthErrors(stack)).toBe('');
    const hostnames = allowlistFor(m.server)!.hostnames();
    expect(hostnames).toEqual(expect.arrayContaining(['registry.acme.eu', 'api.mistral.ai', 'api.jina.ai']));
    for (const unvetted of ['1.2.3.4', '*.example.com', 'api.openai.com']) expect(hostnames).not.toContain(unvetted);
    const bundle = JSON.stringify(Testing.synth(stack));
    expect(bundle).not.toContain('api.openai.com');
    expect(boundaryDocument({ title: 'acme', policy, stacks: [stack] })).not.toMatch(/openai|1\.2\.3\.4|\*\.example\.com/);
  });
});
