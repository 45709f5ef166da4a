import { AiActRole, BoundaryChecks, BoundaryPolicy, DataClass, DataFlow, EgressAllowlist, EgressForm, Processor } from '../../lib';
import { checkedStack, machine, policy, synthErrors } from './fixtures';
import { refusal } from './refusal';

// Red team (audit redteam): the policy judged a processor by its own members (`inEu`, `key`,
// `equals`) and accepted any frozen object whose prototype was Processor's. A subclass that answered
// `inEu` with true put a US company in the policy; one whose `key` copied Mistral's made a flow to
// another company count as allowed; a frozen copy made with Object.create skipped the hostname check.
// A BoundaryPolicy subclass could answer `processors` and `allows` as it liked.

const egressTo = (p: Processor) => ({ aiActRoles: [AiActRole.DEPLOYER], egress: [{ dataClass: DataClass.PUBLIC, to: [p], form: EgressForm.RAW }] });

describe('only a checked Processor and BoundaryPolicy are judged', () => {
  test('a subclass claiming an EU seat for a US company is refused, with path, value and fix', () => {
    class AlwaysEu extends Processor {
      public get inEu(): boolean { return true; }
    }
    const us = new AlwaysEu({ name: 'US Models Inc', legalSeat: { city: 'San Francisco', country: 'US' }, hostnames: ['api.us-models.example'] });
    expect(refusal(() => new BoundaryPolicy(egressTo(us))))
      .toMatch(/^BoundaryPolicy\.egress\[0\]\.to\[0\]: 'US Models Inc' is not allowed: it was not built by the Processor constructor, .*subclass.* Fix: build it with new Processor/);
  });

  test('a frozen copy made with Object.create, with a wildcard hostname, is refused', () => {
    const copy = Object.freeze(Object.assign(Object.create(Processor.prototype), {
      name: 'Mistral AI', legalSeat: Object.freeze({ city: 'Paris', country: 'FR' }), hostnames: Object.freeze(['*']),
    }));
    expect(refusal(() => new BoundaryPolicy(egressTo(copy)))).toMatch(/to\[0\]: 'Mistral AI' is not allowed: it was not built by the Processor constructor/);
  });

  test('a flow to a subclass that copies an allowed processor\'s key is refused where it is declared', () => {
    class Posing extends Processor {
      public get key(): string { return Processor.mistralAi().key; }
    }
    const other = new Posing({ name: 'US Models Inc', legalSeat: { city: 'San Francisco', country: 'US' }, hostnames: ['api.us-models.example'] });
    const m = machine(checkedStack());
    expect(refusal(() => DataFlow.declare(m, { processor: other, dataClass: DataClass.PSEUDONYMIZED, form: EgressForm.PSEUDONYMIZED })))
      .toMatch(/^production\/App\.dataFlow\.processor: 'US Models Inc' is not allowed: it was not built by the Processor constructor/);
  });

  test('a BoundaryPolicy subclass is refused by the pack and the allowlist', () => {
    const openAi = new Processor({ name: 'OpenAI', legalSeat: { city: 'Dublin', country: 'IE' }, hostnames: ['api.openai.com'] });
    class Permissive extends BoundaryPolicy {
      public allows(): boolean { return true; }
      public get processors(): Processor[] { return [openAi]; }
    }
    const permissive = new Permissive(egressTo(Processor.mistralAi()));
    expect(refusal(() => new BoundaryChecks({ policy: permissive }))).toMatch(/^BoundaryChecks\.policy: 'Permissive' is not allowed: it was not built by the BoundaryPolicy constructor/);
    const m = machine(checkedStack(), 'App', {}, false);
    expect(refusal(() => EgressAllowlist.apply(m, { policy: permissive }))).toMatch(/^production\/App\.egressAllowlist\.policy: 'Permissive' is not allowed/);
  });

  test('processors and policies built as documented still pass', () => {
    const stack = checkedStack();
    const m = machine(stack);
    DataFlow.declare(m, { processor: Processor.mistralAi(), dataClass: DataClass.PSEUDONYMIZED, form: EgressForm.PSEUDONYMIZED });
    expect(synthErrors(stack)).toBe('');
    expect(policy.hasProcessor(Processor.jinaAi())).toBe(true);
  });
});
