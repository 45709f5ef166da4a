import { TerraformVariable } from 'cdktf';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import { BoundarySuppressions } from '../../lib';
import { checkedStack, machine, synthErrors } from './fixtures';

// Red team (audit redteam): every rule reads hcloud_* resources trusting that the hcloud provider is
// Hetzner's and talks to Hetzner. An endpoint pointed elsewhere (a proxy or a mock left in) received
// the API token and every attribute (user data, the bundle and its secrets); a required_providers
// source naming another binary ran under the name hcloud. Synth passed either way.

function provider(stack: ReturnType<typeof checkedStack>): HcloudProvider {
  return stack.node.findChild('hcloud') as HcloudProvider;
}

describe('the hcloud provider must be Hetzner\'s, talking to Hetzner', () => {
  test('an endpoint outside Hetzner is refused, with path, value and fix', () => {
    const stack = checkedStack();
    machine(stack);
    provider(stack).endpoint = 'https://hcloud-proxy.example.com/v1';
    expect(synthErrors(stack)).toMatch(/Boundary-UncheckedSender: production\.provider\.hcloud\.endpoint: 'https:\/\/hcloud-proxy\.example\.com\/v1' is not allowed: the hcloud provider sends the API token and every attribute .* Fix: set endpoint to https:\/\/api\.hetzner\.cloud\/v1, as this library's stacks do/);
  });

  test('an endpoint from a variable, and the Hetzner API endpoint elsewhere, are refused too', () => {
    const stack = checkedStack();
    machine(stack);
    provider(stack).endpoint = new TerraformVariable(stack, 'hcloud_endpoint', { type: 'string' }).stringValue;
    provider(stack).endpointHetzner = 'http://127.0.0.1:8080/v1';
    const errors = synthErrors(stack);
    expect(errors).toMatch(/production\.provider\.hcloud\.endpoint: '\$\{var\.hcloud_endpoint\}' is not allowed: .*, or synth cannot know it is\./);
    expect(errors).toMatch(/production\.provider\.hcloud\.endpoint_hetzner: 'http:\/\/127\.0\.0\.1:8080\/v1' is not allowed/);
  });

  test('another source for the hcloud provider (or a local-only one) is refused', () => {
    const stack = checkedStack();
    machine(stack);
    stack.addOverride('terraform.required_providers.hcloud.source', 'example.com/acme/hcloud');
    stack.addOverride('terraform.required_providers.random', { source: 'acme/random' });
    const errors = synthErrors(stack);
    expect(errors).toMatch(/production\.terraform\.required_providers\.hcloud\.source: 'example\.com\/acme\/hcloud' is not allowed: .* Fix: use hetznercloud\/hcloud/);
    expect(errors).toMatch(/production\.terraform\.required_providers\.random\.source: 'acme\/random' is not allowed/);
  });

  test('Hetzner\'s own endpoints and sources pass; a suppressed exception is accepted', () => {
    const stack = checkedStack();
    machine(stack);
    provider(stack).endpoint = 'https://api.hetzner.cloud/v1/';
    stack.addOverride('terraform.required_providers.hcloud.source', 'registry.opentofu.org/hetznercloud/hcloud');
    expect(synthErrors(stack)).toBe('');
    provider(stack).endpointHetzner = 'https://hetzner-mock.internal.example/v1';
    BoundarySuppressions.add(stack, [{ id: 'Boundary-UncheckedSender', reason: 'Recorded API responses for the contract tests, never deployed' }]);
    expect(synthErrors(stack)).toBe('');
  });
});
