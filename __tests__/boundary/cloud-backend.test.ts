import { Aspects, CloudBackend, NamedCloudWorkspace, TerraformStack, Testing } from 'cdktf';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import { BoundaryChecks, BoundarySuppressions } from '../../lib';
import { boundaryDocument } from '../../lib/boundary/boundary-document';
import { checkedStack, machine, policy, synthErrors } from './fixtures';

// Audit (state backends): Boundary-EuStateBackend read only `terraform.backend`. cdktf's CloudBackend writes a
// `terraform.cloud` block instead, so a stack keeping its state (every secret in it) on HCP Terraform, and running
// its plans there, counted as local state: a warning, and boundary.md said "local backend".

/** A checked production stack with one sensitive machine and no backend of its own. */
function stackWithoutBackend(): TerraformStack {
  const stack = new TerraformStack(Testing.app(), 'production');
  new HcloudProvider(stack, 'hcloud', {});
  Aspects.of(stack).add(new BoundaryChecks({ policy }));
  machine(stack);
  return stack;
}

describe('a cloud block is a state backend, judged like any other', () => {
  test("cdktf's CloudBackend (HCP Terraform) is refused, naming the stack, the host and the fix", () => {
    const stack = stackWithoutBackend();
    new CloudBackend(stack, { organization: 'acme', workspaces: new NamedCloudWorkspace('production') });
    expect(synthErrors(stack)).toMatch(/Boundary-EuStateBackend: production\.terraform\.cloud: 'app\.terraform\.io \(organization acme\)' is not allowed: HCP Terraform \(or Terraform Enterprise\) keeps the state, every secret in it included.*Fix: use ObjectStorageBackend/);
  });

  test('a cloud block written by an override, beside an EU backend, is refused too', () => {
    const stack = checkedStack();
    machine(stack);
    stack.addOverride('terraform.cloud', { hostname: 'tfe.example.com', organization: 'acme', workspaces: { name: 'production' } });
    expect(synthErrors(stack)).toMatch(/production\.terraform\.cloud: 'tfe\.example\.com \(organization acme\)' is not allowed/);
  });

  test('a suppression with its reason lets an EU-hosted Terraform Enterprise through, and boundary.md names where the state is', () => {
    const stack = stackWithoutBackend();
    new CloudBackend(stack, { hostname: 'tfe.acme.eu', organization: 'acme', workspaces: new NamedCloudWorkspace('production') });
    BoundarySuppressions.add(stack, [{ id: 'Boundary-EuStateBackend', reason: 'Terraform Enterprise runs on our own Hetzner server in Falkenstein' }]);
    expect(synthErrors(stack)).toBe('');
    expect(boundaryDocument({ title: 'acme', policy, stacks: [stack] }))
      .toContain('- production: cloud block: HCP Terraform or Terraform Enterprise at tfe.acme.eu (organization acme)');
  });
});
