/**
 * Hetzner's APIs, as the hcloud provider's block names them: the Cloud API and the Hetzner API of Storage Boxes.
 * The provider reads `HCLOUD_ENDPOINT` and `HCLOUD_HETZNER_ENDPOINT` only when its block sets no endpoint, so
 * the stacks set both: a variable left in a shell or in CI settings would otherwise send the token, and every
 * request with its secrets (user data, passwords), to another host on a plain `cdktf deploy`.
 */
export const HETZNER_API_ENDPOINTS = { endpoint: 'https://api.hetzner.cloud/v1', endpoint_hetzner: 'https://api.hetzner.com/v1' } as const;

/**
 * Where the Hetzner API token may go. The library's API client reads `HCLOUD_ENDPOINT`, and so does Terraform's
 * provider in a stack not built by this library; the commands that use the token check it.
 */
const HETZNER_ENDPOINTS: readonly string[] = Object.values(HETZNER_API_ENDPOINTS);

/** Any `HCLOUD_…ENDPOINT`: the one the provider documents and those it may add, such as the Hetzner API's. */
const ENDPOINT_VARIABLE = /^HCLOUD_(?:\w+_)?ENDPOINT$/;

/**
 * The endpoint variables of `env` that send the token away from Hetzner and from this machine, one message each
 * (naming the variable, never its value: it may carry credentials). Hetzner's own URLs pass, `file:` URLs (the
 * library's local stand-in for Hetzner) and loopback addresses (a local stand-in of the API).
 */
export function redirectedEndpoints(env: NodeJS.ProcessEnv, command: string): string[] {
  return Object.keys(env).sort()
    .filter((name) => ENDPOINT_VARIABLE.test(name) && !keepsTokenWithHetzner(env[name] ?? ''))
    .map((name) => `${name} is set to a host other than Hetzner's API (${HETZNER_ENDPOINTS.join(', ')}): the token and every request, `
      + `secrets included, would go there. Fix: unset ${name} before ${command} (and remove it from the CI settings).`);
}

function keepsTokenWithHetzner(value: string): boolean {
  const url = value.trim().replace(/\/+$/, '');
  return url === '' || HETZNER_ENDPOINTS.includes(url) || url.startsWith('file:') || isLoopbackHttpEndpoint(url);
}

/** Whether `value` is an http(s) URL of this machine's loopback (127.0.0.0/8, ::1, localhost): a local stand-in of the API. */
export function isLoopbackHttpEndpoint(value: string): boolean {
  try {
    const { protocol, hostname } = new URL(value.trim());
    return (protocol === 'http:' || protocol === 'https:') && (hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname));
  } catch {
    return false;
  }
}
