import { TerraformStack, Testing } from 'cdktf';
import { Firewall } from '../../generated/providers/hcloud/firewall';
import { builtArguments, synthesizedArgument } from '../../lib/hetzner/private/synthesized-argument';

describe('builtArguments: what the library built, apart from what an override changed', () => {
  function firewall() {
    const stack = new TerraformStack(Testing.app(), 'stack');
    return new Firewall(stack, 'Fw', { name: 'built' });
  }

  test('leaves the overrides out, where the synthesized arguments carry them', () => {
    const fw = firewall();
    fw.addOverride('name', 'overridden');
    expect(builtArguments(fw, ['name'])).toEqual({ name: 'built' });
    expect(synthesizedArgument(fw, 'name')).toBe('overridden');
  });

  test('fails loudly on a CDK that keeps overrides elsewhere, rather than taking the overridden resource for the built one', () => {
    const fw = firewall();
    fw.addOverride('name', 'overridden');
    delete (fw as any).rawOverrides;
    expect(() => builtArguments(fw, ['name'])).toThrow(/stack\/Fw: this CDK keeps a resource's overrides outside `rawOverrides`.*Fix: use cdktf 0\.21 or cdktn 0\.24/);
  });
});
