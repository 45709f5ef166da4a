import { TerraformStack, Testing } from 'cdktf';
import { Firewall } from '../../generated/providers/hcloud/firewall';
import { builtArguments, recordBuilt, synthesizedArgument } from '../../lib/hetzner/private/synthesized-argument';

describe('builtArguments: what the library built, apart from what an override changed', () => {
  function firewall() {
    const stack = new TerraformStack(Testing.app(), 'stack');
    const fw = new Firewall(stack, 'Fw', { name: 'built' });
    recordBuilt(fw);
    return fw;
  }

  test('leaves the overrides and later setters out, where the synthesized arguments carry them', () => {
    const fw = firewall();
    fw.addOverride('name', 'overridden');
    expect(builtArguments(fw, ['name'])).toEqual({ name: 'built' });
    expect(synthesizedArgument(fw, 'name')).toBe('overridden');
    const set = firewall();
    set.name = 'set later';
    expect(builtArguments(set, ['name'])).toEqual({ name: 'built' });
    expect(synthesizedArgument(set, 'name')).toBe('set later');
  });

  test('refuses a resource whose build was never recorded', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    expect(() => builtArguments(new Firewall(stack, 'Raw', { name: 'x' }), ['name'])).toThrow(/stack\/Raw: the library did not record what it built/);
  });

  test('fails loudly on a CDK that keeps overrides elsewhere, rather than taking the overridden resource for the built one', () => {
    const fw = firewall();
    fw.addOverride('name', 'overridden');
    delete (fw as any).rawOverrides;
    expect(() => builtArguments(fw, ['name'])).toThrow(/stack\/Fw: this CDK keeps a resource's overrides outside `rawOverrides`.*Fix: use cdktf 0\.21 or cdktn 0\.24/);
  });
});
