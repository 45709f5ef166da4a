import { Lazy, TerraformVariable } from 'cdktf';
import { Environment, Machine, Processor, ServerType, SshKey } from '../../lib';
import { quote } from '../../lib/core/validation-message';
import { expectRefused, refusal } from '../boundary/refusal';
import { testStack } from '../setup/stack';

// A value given as a cdktf token (Lazy, TerraformVariable, a resource attribute) where the library
// needs the literal is refused; its text is only a placeholder ('${TfToken[TOKEN.7]}'), which the
// message used to print as if it were what the user wrote, without saying what it is.

const lazy = (value: string) => Lazy.stringValue({ produce: () => value });

describe('a token in a message', () => {
  test('is said to be one', () => {
    expect(quote(lazy('0.0.0.0/0'))).toMatch(/^'\$\{TfToken\[TOKEN\.\d+\]\}' \(a Terraform token: a Lazy value, a variable or an attribute, not known when this was checked\)$/);
    expect(quote(`team=${lazy('x')}`)).toMatch(/\(a Terraform token: /);
    expect(quote('0.0.0.0/0')).toBe("'0.0.0.0/0'");
  });

  test('a Machine given its admin networks as a variable is refused saying the value is a token', () => {
    expectRefused(() => {
      const { stack } = testStack();
      const cidr = new TerraformVariable(stack, 'office', { type: 'string' });
      new Machine(stack, 'App', {
        environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [SshKey.fromName('admin')], adminCidrs: [cidr.stringValue],
      });
      return stack;
    }, /production\/App\.adminCidrs: '\$\{TfToken\[TOKEN\.\d+\]\}' \(a Terraform token: .*\) is not allowed: a CIDR block is/);
  });

  test("a processor's country given as a token is refused with a fix that works", () => {
    // Before, the fix was "write it as '${'": the first two letters of the placeholder.
    const message = refusal(() => new Processor({ name: 'X', legalSeat: { city: 'Paris', country: lazy('FR') }, hostnames: ['api.x.fr'] }));
    expect(message).toMatch(/^Processor\(X\)\.legalSeat\.country: '\$\{TfToken\[TOKEN\.\d+\]\}' \(a Terraform token: .*\) is not allowed: a country is an ISO 3166-1 alpha-2 code in capitals, written as text.*\. Fix: write it as 'FR'$/);
  });
});
