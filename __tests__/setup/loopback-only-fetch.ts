/** Whether `hostname` (as URL.hostname spells it) is this machine's loopback: 127.0.0.0/8, ::1 or localhost. */
function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/**
 * Spies on fetch, the HTTP client of the in-process CLI (lib/environments/hcloud-api-client.ts), until `restore()`:
 * a request to any host but this machine's loopback is refused before it leaves and its scheme and host recorded in `remote`.
 * Tests of a refusal (the stand-in's token, Hetzner's endpoint) would otherwise, should the refusal regress, send a
 * token to Hetzner's API and wait on it; with this they fail, on `remote`, at once. Its own loopback test, deliberately
 * not the CLI's (isLoopbackHttpEndpoint), so that a regression there cannot open this too.
 */
export function loopbackOnlyFetch(): { readonly remote: readonly string[]; restore(): void } {
  const remote: string[] = [];
  const real = globalThis.fetch;
  const spy = jest.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    if (!isLoopbackHost(url.hostname)) {
      // Scheme and host only: a query or user part could hold a secret, and the failure's message is printed.
      const where = `${url.protocol}//${url.host}`;
      remote.push(where);
      throw new Error(`a test's request to ${where} was refused: tests send traffic only to loopback`);
    }
    return real(input, init);
  });
  return { remote, restore: () => spy.mockRestore() };
}
