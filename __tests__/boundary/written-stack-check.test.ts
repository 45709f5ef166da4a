import * as fs from 'fs';
import * as path from 'path';
import { Aspects, TerraformStack, Testing } from 'cdktf';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import { addCustomSynthesis } from 'cdktf/lib/synthesize/synthesizer';
import { BoundaryChecks, Environment, Machine, ObjectStorageBackend, SecretVariable, StorageBox } from '../../lib';
import { checkedStack, machine, policy } from './fixtures';
import { MESSAGE } from './refusal';
import { thrownMessage, withHcl } from '../setup/stack';

// Audit 11: the pack checked the stack from the stack's validation; cdktf then runs the children's
// validations and the onSynthesize hooks, and renders cdk.tf.json again. A change made in between was
// written unchecked. The pack now also checks the JSON the stack writes.

/** Moves a machine to Ashburn with no firewall: refused by two rules if anyone checks. */
function moveOut(m: Machine): void {
  for (const r of [m.server, m.ipv4!, m.ipv6]) r.location = 'ash';
  m.server.firewallIds = [];
}

const written = (app: ReturnType<typeof Testing.app>, stack = 'production') => path.join(app.outdir, 'stacks', stack, 'cdk.tf.json');

describe('the pack checks what the stack writes', () => {
  test.each<[string, (m: Machine) => void]>([
    ['a child validation', (m) => m.node.addValidation({ validate: () => { moveOut(m); return []; } })],
    ['an onSynthesize hook', (m) => addCustomSynthesis(m, { onSynthesize: () => moveOut(m) })],
  ])('a change made by %s after the stack\'s validation is refused, and nothing is written', (_name, change) => {
    const app = Testing.app();
    const m = machine(checkedStack('production', app));
    change(m);
    const message = thrownMessage(() => app.synth());
    expect(message).toMatch(/^Validation failed with the following errors:/);
    expect(message).toMatch(/Boundary-EuPlacement: production\/App\/\w+\.location: 'ash' is not allowed/);
    expect(message).toMatch(/Boundary-RestrictedEgress: production\/App\/\w+\.egress: 'allow all' is not allowed/);
    const lines = message.split('\n').map((l) => /^\s*\[[^\]]*\] (.*)$/.exec(l)?.[1]).filter((l): l is string => l !== undefined);
    for (const line of lines) expect(line).toMatch(MESSAGE);
    expect(fs.existsSync(written(app))).toBe(false);
  });

  test('a pack added to the App checks the written stack too', () => {
    const app = Testing.app();
    Aspects.of(app).add(new BoundaryChecks({ policy }));
    const stack = new TerraformStack(app, 'test');
    new HcloudProvider(stack, 'hcloud', {});
    new ObjectStorageBackend(stack, { bucket: 'acme-state' });
    const m = machine(stack);
    addCustomSynthesis(m, { onSynthesize: () => moveOut(m) });
    expect(thrownMessage(() => app.synth())).toMatch(/Boundary-EuPlacement: test\/App\/\w+\.location: 'ash'/);
  });

  // With --hcl the written file is HCL: the check takes the JSON rendered with it, or renders the stack again, never a
  // rendering a hook made before a later hook changed the stack.
  test.each<[boolean, 'toTerraform' | 'toHclTerraform']>([[false, 'toTerraform'], [true, 'toTerraform'], [true, 'toHclTerraform']])('with --hcl, a change after a hook rendered the stack is refused, and nothing is written (the stack holds a secret: %s; the hook called %s)', (withSecret, render) => {
    withHcl(true, () => {
      const app = Testing.app();
      const stack = checkedStack('production', app);
      const m = machine(stack);
      if (withSecret) new StorageBox(stack, 'Box', { environment: Environment.PRODUCTION, password: new SecretVariable(stack, 'box_password', { description: 'Password of the box' }) });
      // Hooks run leaves first: the server's renders the stack, compliant still; the machine's then moves it out.
      addCustomSynthesis(m.server, { onSynthesize: () => { stack[render](); } });
      addCustomSynthesis(m, { onSynthesize: () => moveOut(m) });
      expect(thrownMessage(() => app.synth())).toMatch(/Boundary-EuPlacement: production\/App\/\w+\.location: 'ash' is not allowed/);
      expect(fs.existsSync(path.join(app.outdir, 'stacks', 'production', 'cdk.tf'))).toBe(false);
    });
  });

  // Review (mend): the JSON the check reads with --hcl is rendered once after the validations (the pack's own renders):
  // before the HCL when the stack checks a secret (and kept for the check), after it when not.
  test.each([false, true])('with --hcl, the check renders the stack\'s JSON once after its validation (the stack holds a secret: %s)', (withSecret) => {
    withHcl(true, () => {
      const app = Testing.app();
      const stack = checkedStack('production', app);
      machine(stack);
      if (withSecret) new StorageBox(stack, 'Box', { environment: Environment.PRODUCTION, password: new SecretVariable(stack, 'box_password', { description: 'Password of the box' }) });
      const json = jest.spyOn(stack, 'toTerraform');
      const hcl = jest.spyOn(stack, 'toHclTerraform');
      expect(thrownMessage(() => app.synth())).toBe('');
      expect(hcl).toHaveBeenCalledTimes(1);
      // The validations render before the writer's HCL; every render from its call on is the check's.
      const [writer] = hcl.mock.invocationCallOrder;
      expect(json.mock.invocationCallOrder.filter((order) => order < writer).length).toBeGreaterThan(0);
      expect(json.mock.invocationCallOrder.filter((order) => order > writer)).toHaveLength(1);
    });
  });

  // Review (mend): toHclTerraform writes only the terraform block of a stack's overrides, toTerraform applies them all
  // (cdktf 0.21, cdktn 0.24 alike): the JSON the check read said fsn1, the cdk.tf written said ash.
  test.each([false, true])('a stack override of a resource is checked as written with JSON, and refused with --hcl (hcl: %s)', (hcl) => {
    withHcl(hcl, () => {
      const app = Testing.app();
      const stack = checkedStack('production', app);
      const m = machine(stack);
      m.server.location = 'ash';
      const key = `resource.hcloud_server.${stack.getLogicalId(m.server)}.location`;
      stack.addOverride(key, 'fsn1');
      // An earlier synth's file of the stack: a refused synth leaves none behind.
      const earlier = path.join(app.outdir, 'stacks', 'production', hcl ? 'cdk.tf' : 'cdk.tf.json');
      fs.mkdirSync(path.dirname(earlier), { recursive: true });
      fs.writeFileSync(earlier, hcl ? '# earlier' : '{}');
      const message = thrownMessage(() => app.synth());
      if (!hcl) {
        expect(message).toBe('');
        expect(JSON.parse(fs.readFileSync(written(app), 'utf8')).resource.hcloud_server[stack.getLogicalId(m.server)].location).toBe('fsn1');
        return;
      }
      expect(message).toContain(`[production] stack.addOverride('${key}'): with HCL output (--hcl, SYNTH_HCL_OUTPUT, Testing.synthHcl) cdktf 0.21 and cdktn 0.24 write only the terraform block`);
      expect(message).toMatch(/Put it on the element instead .*, or synthesize JSON \(without --hcl\)/);
      expect(fs.existsSync(earlier)).toBe(false);
    });
  });

  // Review (mend): the refusal ran before cdktf's synthesizer, which runs the Aspects and the onSynthesize hooks: an
  // override added there was read by the check as fsn1 while cdk.tf said ash.
  test.each<[string, (stack: TerraformStack, add: () => void) => void]>([
    ['an Aspect', (stack, add) => Aspects.of(stack).add({ visit: (node) => { if (node === stack) add(); } })],
    ['an onSynthesize hook', (stack, add) => addCustomSynthesis(stack, { onSynthesize: add })],
  ])('with --hcl, a stack override of a resource added by %s is refused, and no cdk.tf of the stack is left', (_name, addBy) => {
    withHcl(true, () => {
      const app = Testing.app();
      const stack = checkedStack('production', app);
      const m = machine(stack);
      const key = `resource.hcloud_server.${stack.getLogicalId(m.server)}.location`;
      // Compliant when the stack is validated; the override hides the move from the JSON, not from cdk.tf.
      addBy(stack, () => {
        m.server.location = 'ash';
        stack.addOverride(key, 'fsn1');
      });
      const message = thrownMessage(() => app.synth());
      expect(message).toContain(`[production] stack.addOverride('${key}'): with HCL output (--hcl, SYNTH_HCL_OUTPUT, Testing.synthHcl) cdktf 0.21 and cdktn 0.24 write only the terraform block`);
      expect(fs.existsSync(path.join(app.outdir, 'stacks', 'production', 'cdk.tf'))).toBe(false);
    });
  });

  test('with --hcl, a dependency an Aspect adds is in manifest.json', () => {
    withHcl(true, () => {
      const app = Testing.app();
      const network = checkedStack('network', app);
      const production = checkedStack('production', app);
      machine(production);
      Aspects.of(production).add({ visit: (node) => { if (node === production && production.dependencies.length === 0) production.addDependency(network); } });
      expect(thrownMessage(() => app.synth())).toBe('');
      const manifest = JSON.parse(fs.readFileSync(path.join(app.outdir, 'manifest.json'), 'utf8'));
      expect(manifest.stacks.production.dependencies).toEqual([network.node.path]);
    });
  });

  test('with --hcl, an override on the element itself is written and checked', () => {
    withHcl(true, () => {
      const app = Testing.app();
      const stack = checkedStack('production', app);
      const m = machine(stack);
      m.server.addOverride('location', 'ash');
      expect(thrownMessage(() => app.synth())).toMatch(/Boundary-EuPlacement: production\/App\/\w+\.location: 'ash' is not allowed/);
      m.server.addOverride('location', 'fsn1');
      expect(thrownMessage(() => app.synth())).toBe('');
      const hclText = fs.readFileSync(path.join(app.outdir, 'stacks', 'production', 'cdk.tf'), 'utf8');
      expect(hclText).toMatch(/location\s*=\s*"fsn1"/);
    });
  });

  test('an unchanged compliant stack is written', () => {
    const app = Testing.app();
    machine(checkedStack('production', app));
    expect(thrownMessage(() => app.synth())).toBe('');
    expect(fs.existsSync(written(app))).toBe(true);
  });
});
