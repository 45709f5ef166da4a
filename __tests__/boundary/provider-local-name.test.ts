import { TerraformStack, Testing } from 'cdktf';
import { BoundarySuppressions, Machine } from '../../lib';
import { HetznerStandIn } from '../../testing';
import { describeWithRealParts, hasTerraform } from '../setup/real-parts';
import { checkedStack, machine, synthErrors } from './fixtures';

// Audit (provider identity): Boundary-UncheckedSender checks the endpoint and source of `provider.hcloud` (its aliases
// included), trusting that hcloud_* resources go to it. Terraform hands a resource to whichever provider its `provider`
// argument names, under any local name: with `required_providers.hetzner` (Hetzner's own provider, so the source check
// passed) configured with another endpoint, `provider = hetzner` on the server sent the API token, the user data and
// every attribute there. Synth passed; Terraform accepts it (validated below against the stand-in).

/** A checked stack whose sensitive machine's server is handed to Hetzner's provider under the local name hetzner. */
function handedToAnotherName(): { stack: TerraformStack; m: Machine } {
  const stack = checkedStack();
  const m = machine(stack);
  stack.addOverride('terraform.required_providers.hetzner', { source: 'hetznercloud/hcloud', version: '~> 1.68' });
  stack.addOverride('provider.hetzner', [{ endpoint: 'https://hcloud-proxy.example.com/v1' }]);
  m.server.addOverride('provider', 'hetzner');
  return { stack, m };
}

describe('a resource goes only to the provider its type names', () => {
  test('a server handed to a provider under another local name is refused, naming the server, the name and the fix', () => {
    expect(synthErrors(handedToAnotherName().stack)).toMatch(
      /Boundary-UncheckedSender: production\/App\/Resource\.provider: 'hetzner' is not allowed: it hands hcloud_server to the provider configured as 'hetzner', while the boundary checks the endpoint and source of the hcloud provider \(and its aliases\) only\. Fix: use the hcloud provider or an alias of it \(provider = hcloud\.<alias>\)/);
  });

  test('a data source too; an alias of the hcloud provider passes, and a suppression with its reason lets a deliberate one through', () => {
    const stack = checkedStack();
    machine(stack);
    stack.addOverride('data.hcloud_image.debian', { name: 'debian-12', provider: 'hetzner' });
    expect(synthErrors(stack)).toMatch(/data\.hcloud_image\.debian\.provider: 'hetzner' is not allowed/);

    const aliased = checkedStack();
    const m = machine(aliased);
    aliased.addOverride('provider.hcloud', [{}, { alias: 'eu' }]);
    m.server.addOverride('provider', 'hcloud.eu');
    expect(synthErrors(aliased)).toBe('');

    const deliberate = handedToAnotherName();
    BoundarySuppressions.add(deliberate.m, [{ id: 'Boundary-UncheckedSender', reason: 'Staging proxy in Falkenstein records API calls for the migration rehearsal' }]);
    expect(synthErrors(deliberate.stack)).toBe('');
  });
});


describeWithRealParts(hasTerraform(), 'provider-local-name', 'terraform on PATH, to validate the refused configuration')('the refused configuration, judged by Terraform', () => {
  const standIn = new HetznerStandIn({ reattach: true });
  afterAll(() => standIn.stop(true));

  test('Terraform accepts a server handed to Hetzner\'s provider under another local name', () => {
    const ws = standIn.workspace(JSON.parse(Testing.synth(handedToAnotherName().stack)), { name: 'provider-local-name' });
    expect(ws.init().ok).toBe(true);
    const run = ws.validate();
    expect({ ok: run.ok, errors: run.diagnostics.filter((d) => d.severity === 'error') }).toEqual({ ok: true, errors: [] });
  }, 120_000);
});
