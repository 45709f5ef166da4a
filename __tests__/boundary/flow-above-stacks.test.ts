import { Construct } from 'constructs';
import { Testing } from 'cdktf';
import { DataClass, DataFlow, EgressForm, Processor } from '../../lib';
import { boundaryDocument } from '../../lib/boundary/boundary-document';
import { checkedStack, machine, policy } from './fixtures';
import { refusal } from './refusal';

// Audit (flows): the rules and boundary.md read the flows declared in each stack. A flow declared on the App (or on a
// construct grouping stacks), even one the policy forbids (sensitive data raw to Jina), was neither checked nor
// published: synth passed and boundary.md did not list it, as a suppression there once did.

describe('a data flow is declared inside the stack that makes it', () => {
  const forbidden = { processor: Processor.jinaAi(), dataClass: DataClass.SENSITIVE, form: EgressForm.RAW, purpose: 'embeddings of support tickets' };

  test('on the App it is refused, naming the App, the flow and the fix', () => {
    const app = Testing.app();
    machine(checkedStack('production', app));
    expect(refusal(() => DataFlow.declare(app, forbidden))).toBe(
      "App.dataFlow: 'sensitive → Jina AI (raw)' is not allowed: the App is above every stack, and each stack's boundary checks and boundary.md read only the flows declared in it, "
      + 'so this one would be neither checked nor published. Fix: declare it on the machine or construct that sends the data, inside its stack');
  });

  test('on a construct grouping stacks it is refused too (from JavaScript as well)', () => {
    const app = Testing.app();
    const group = new Construct(app, 'Environments');
    checkedStack('production', group as never);
    expect(refusal(() => DataFlow.declare(group, forbidden as never))).toMatch(/^Environments\.dataFlow: 'sensitive → Jina AI \(raw\)' is not allowed: 'Environments' is above every stack/);
  });

  test('inside a stack it is accepted, checked and published', () => {
    const stack = checkedStack();
    const m = machine(stack);
    DataFlow.declare(m, { processor: Processor.mistralAi(), dataClass: DataClass.PSEUDONYMIZED, form: EgressForm.PSEUDONYMIZED, purpose: 'scrubbed ticket summaries' });
    Testing.synth(stack, true);
    expect(boundaryDocument({ title: 'acme', policy, stacks: [stack] })).toContain('| production/App | pseudonymized | Mistral AI | pseudonymized | scrubbed ticket summaries | yes |');
  });
});
