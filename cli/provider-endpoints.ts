/**
 * The hcloud provider's API endpoints, and the environment variables that move them. The provider reads
 * `HCLOUD_ENDPOINT` (and a twin for the Hetzner API of Storage Boxes) when its block sets no endpoint, so a
 * variable left in a deploy's shell or CI settings sends the API token, and every request with its secrets
 * (user data, passwords), to another host. Synth cannot see the environment of a later `terraform plan`;
 * `check` and `guard` run in it.
 */
const HETZNER_ENDPOINTS: readonly string[] = ['https://api.hetzner.cloud/v1', 'https://api.hetzner.com/v1'];

/** Any `HCLOUD_…ENDPOINT`: the one the provider documents and those it may add, such as the Hetzner API's. */
const ENDPOINT_VARIABLE = /^HCLOUD_(?:\w+_)?ENDPOINT$/;

/**
 * The endpoint variables of `env` that point the provider away from Hetzner, one message each (naming the variable,
 * never its value: it may carry credentials). Hetzner's own URLs pass, and `file:` URLs: the library's local stand-in
 * for Hetzner, which sends nothing off the machine.
 */
export function redirectedEndpoints(env: NodeJS.ProcessEnv, command: string): string[] {
  return Object.keys(env).sort()
    .filter((name) => ENDPOINT_VARIABLE.test(name) && !isHetznerOrLocal(env[name] ?? ''))
    .map((name) => `${name} is set to a host other than Hetzner's API (${HETZNER_ENDPOINTS.join(', ')}): the hcloud provider `
      + `would send the API token and every request, secrets included, there. Fix: unset ${name} before ${command} `
      + '(and remove it from the CI settings).');
}

function isHetznerOrLocal(value: string): boolean {
  const url = value.trim().replace(/\/+$/, '');
  return url === '' || HETZNER_ENDPOINTS.includes(url) || url.startsWith('file:');
}
