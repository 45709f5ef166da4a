import { HETZNER_API_ENDPOINTS, redirectedEndpoints } from './private/hetzner-endpoints';

/** The resource collections of the Hetzner Cloud API the operational commands touch. */
export type HcloudCollection = 'servers' | 'load_balancers' | 'volumes' | 'primary_ips' | 'floating_ips' | 'firewalls' | 'networks' | 'ssh_keys' | 'placement_groups' | 'images';

/** The fields of a Hetzner Cloud resource these commands read. */
export interface HcloudResource {
  readonly id: number;
  /** The resource's name; null for a snapshot or backup image (Hetzner names only system images). */
  readonly name: string | null;
  /** Images only: the description a snapshot was taken with. */
  readonly description?: string;
  readonly labels: Record<string, string>;
  readonly protection?: { readonly delete?: boolean };
  /** Servers only: the image the server was created from (null once that image is deleted). */
  readonly image?: { readonly id: number } | null;
  /** Servers only: the primary IPs and firewalls the server uses. */
  readonly public_net?: {
    readonly ipv4?: { readonly id: number } | null;
    readonly ipv6?: { readonly id: number } | null;
    readonly firewalls?: ReadonlyArray<{ readonly id: number }>;
  };
  /** Servers only: the private networks the server is attached to. */
  readonly private_net?: ReadonlyArray<{ readonly network: number }>;
  /** Servers only: the IDs of the volumes attached to the server. */
  readonly volumes?: readonly number[];
  /** Servers only: the placement group the server is in. */
  readonly placement_group?: { readonly id: number } | null;
  /** Floating IPs only: the ID of the server the address is assigned to, null when unassigned. */
  readonly server?: number | null;
  /** Primary IPs only: the ID of the resource the address is assigned to, null when unassigned. */
  readonly assignee_id?: number | null;
  /** Primary IPs only: what `assignee_id` names (`server`; `unassigned` when it is null, since 1 August 2026). */
  readonly assignee_type?: string;
}

export interface HcloudApiClientOptions {
  /** API token; sent as a bearer token, never printed. */
  readonly token: string;
  /**
   * API base URL.
   * @default 'https://api.hetzner.cloud/v1' - the constructor reads no environment; `HcloudApiClient.fromEnvironment` passes HCLOUD_ENDPOINT here when it is set
   */
  readonly endpoint?: string;
  /**
   * How often to poll a running action.
   * @default 1000 ms
   */
  readonly pollIntervalMs?: number;
  /**
   * How long to wait for an action before giving up.
   * @default 300000 ms (5 minutes)
   */
  readonly actionTimeoutMs?: number;
  /**
   * How often a request the API answered with a rate limit (429) or a passing outage (502, 503, 504), or a read or
   * delete whose connection broke, is sent again, waiting the API's Retry-After or 1, 2, 4… seconds in between.
   * @default 3
   */
  readonly retries?: number;
}

/**
 * What fetch reports when a connection broke or a lookup failed for the moment: the request may not have arrived, and
 * a second try may well get through. A refused connection or an unknown host is a setting to fix, not retried.
 */
const TRANSIENT_NETWORK_CODES = ['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT'];

/** No answer came from the API: the connection could not be made or broke; `transient` when a retry may pass. */
class HcloudApiUnreachable extends Error {
  constructor(message: string, public readonly transient: boolean) {
    super(message);
  }
}

/** An answer of the API that is an error, with its HTTP status and the API's error code. */
export class HcloudApiError extends Error {
  constructor(message: string, public readonly status: number, public readonly code?: string,
    /** How long the API asked to wait before trying again (its Retry-After), if it said. */
    public readonly retryAfterMs?: number,
    /**
     * The request answered, as `METHOD /path`: a delete's error may come from polling its action (`GET /actions/7`),
     * and a 404 there says nothing about the deleted resource.
     */
    public readonly request?: string) {
    super(message);
  }

  /**
   * Hetzner said the resource is not there: 404 with its error code `not_found`. A 404 without it (a proxy's HTML
   * page, an HCLOUD_ENDPOINT that is not the API) says nothing about the resource.
   */
  public get isNotFound(): boolean {
    return this.status === 404 && this.code === 'not_found';
  }

  /** The project's request budget (3600 an hour) is spent: further requests fail too until it refills. */
  public get isRateLimit(): boolean {
    return this.status === 429 || this.code === 'rate_limit_exceeded';
  }
}

interface Action { readonly id: number; readonly command?: string; readonly status: 'running' | 'success' | 'error'; readonly error?: { code?: string; message: string } }

/**
 * A minimal Hetzner Cloud API client: list by label selector (all pages), create, delete, wait for
 * actions, take snapshots. Errors carry the API's own code and message, never the token.
 */
export class HcloudApiClient {
  public static fromEnvironment(env: NodeJS.ProcessEnv = process.env): HcloudApiClient {
    const token = env.HCLOUD_TOKEN;
    if (!token) throw new Error('HCLOUD_TOKEN is not set. Fix: export HCLOUD_TOKEN with a token of the Hetzner Cloud project (read & write).');
    const redirected = redirectedEndpoints({ HCLOUD_ENDPOINT: env.HCLOUD_ENDPOINT }, 'running this command');
    if (redirected.length > 0) throw new Error(redirected.join('\n'));
    return new HcloudApiClient({ token, endpoint: env.HCLOUD_ENDPOINT });
  }

  private readonly endpoint: string;
  /** What a message may never contain: the token, and credentials in the endpoint. */
  private readonly secrets: string[];

  constructor(private readonly options: HcloudApiClientOptions) {
    this.endpoint = (options.endpoint ?? HETZNER_API_ENDPOINTS.endpoint).replace(/\/+$/, '');
    // Longest first, so that a secret holding another is replaced whole.
    this.secrets = [options.token, ...endpointCredentials(this.endpoint)].filter((t) => t.length > 0).sort((a, b) => b.length - a.length);
    if (endpointCredentials(this.endpoint).length > 0) {
      throw new Error(`HCLOUD_ENDPOINT ${this.redact(this.endpoint)} holds credentials (user:password@ or a query), which the API client `
        + 'never sends and would print in its messages. Fix: give the plain API base URL, such as https://api.hetzner.cloud/v1; the token goes in HCLOUD_TOKEN.');
    }
  }

  /** Every resource of a collection matching a label selector, across all pages. */
  public async list(collection: HcloudCollection, labelSelector: string): Promise<HcloudResource[]> {
    const all: HcloudResource[] = [];
    for (let page: number | null = 1; page !== null;) {
      // An empty selector lists the whole collection (the API takes no empty label_selector).
      const query = new URLSearchParams({ ...(labelSelector ? { label_selector: labelSelector } : {}), page: String(page), per_page: '50' });
      const body: any = await this.request('GET', `/${collection}?${query}`);
      all.push(...(body[collection] ?? []));
      page = body.meta?.pagination?.next_page ?? null;
    }
    return all;
  }

  /** Deletes a resource and waits for the deletion to finish when the API runs it as an action. */
  public async delete(collection: HcloudCollection, id: number): Promise<void> {
    const body: any = await this.request('DELETE', `/${collection}/${id}`);
    if (body?.action) await this.waitFor(body.action);
  }

  /**
   * Creates a resource and returns it. Not sent again after an outage (a second one would be created, or refused as a
   * duplicate name): only a rate-limited request, which the API did not carry out, is.
   */
  public async create(collection: HcloudCollection, fields: Record<string, unknown>): Promise<HcloudResource> {
    const body: any = await this.request('POST', `/${collection}`, fields);
    if (body?.action) await this.waitFor(body.action);
    // The answer holds the resource under its singular name (`placement_group`), beside its actions.
    return Object.entries(body ?? {}).find(([key]) => key !== 'action' && key !== 'actions')?.[1] as HcloudResource;
  }

  /** Snapshots a server and waits until the image exists; returns the image ID. */
  public async snapshotServer(serverId: number, description: string, labels: Record<string, string>): Promise<number> {
    const body: any = await this.request('POST', `/servers/${serverId}/actions/create_image`, { type: 'snapshot', description, labels });
    await this.waitFor(body.action);
    return body.image.id;
  }

  private async waitFor(action: Action): Promise<void> {
    const interval = this.options.pollIntervalMs ?? 1000;
    const deadline = Date.now() + (this.options.actionTimeoutMs ?? 300_000);
    let current = action;
    const named = (a: Action) => `Hetzner action ${a.id}${a.command ? ` (${a.command})` : ''}`;
    while (current.status === 'running') {
      if (Date.now() > deadline) {
        throw new Error(`${named(current)} was still running after ${(this.options.actionTimeoutMs ?? 300_000) / 1000} s, so this run stopped waiting for it. `
          + `Fix: look at it in the Hetzner Cloud console (or GET /actions/${current.id}); once it has finished, run the command again.`);
      }
      await new Promise((resolve) => setTimeout(resolve, interval));
      current = ((await this.request('GET', `/actions/${current.id}`)) as any).action;
    }
    if (current.status !== 'success') {
      throw new Error(`${named(current)} failed: ${current.error ? `${current.error.code ? `${current.error.code}: ` : ''}${current.error.message}` : current.status}. `
        + 'Fix: remove the cause the API names (a locked or protected resource, one still in use), then run the command again.');
    }
  }

  private async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const retries = this.options.retries ?? 3;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.send(method, path, body);
      } catch (e) {
        // A DELETE whose first answer was lost to an outage may have gone through: not found on a retry means gone.
        if (attempt > 0 && method === 'DELETE' && e instanceof HcloudApiError && e.isNotFound) return undefined;
        // A rate-limited request was not carried out, so any may go again; after an outage only those that
        // change nothing twice (a second snapshot would be billed).
        // A broken connection is an outage too: a daily reaper run failed on one reset connection.
        const idempotent = method === 'GET' || method === 'DELETE';
        const retryable = (e instanceof HcloudApiError && (e.isRateLimit || ([502, 503, 504].includes(e.status) && idempotent)))
          || (e instanceof HcloudApiUnreachable && e.transient && idempotent);
        if (retryable && attempt < retries) {
          await new Promise((resolve) => setTimeout(resolve, (e instanceof HcloudApiError ? e.retryAfterMs : undefined) ?? 1000 * 2 ** attempt));
          continue;
        }
        // A proxy, or an HCLOUD_ENDPOINT that is not the API, may echo the request (the Authorization header) back.
        const message = this.redact((e as Error).message);
        throw e instanceof HcloudApiError ? new HcloudApiError(message, e.status, e.code, e.retryAfterMs, e.request) : new Error(message);
      }
    }
  }

  /** Replaces every secret in a text with a placeholder. */
  private redact(text: string): string {
    return this.secrets.reduce((t, secret) => t.split(secret).join('<redacted>'), text);
  }

  private async send(method: string, path: string, body?: unknown): Promise<unknown> {
    const url = `${this.endpoint}${path.split('?')[0]}`;
    let response: Response;
    try {
      response = await fetch(`${this.endpoint}${path}`, {
        method,
        headers: { 'Authorization': `Bearer ${this.options.token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch (e) {
      // fetch says only "fetch failed"; the reason (DNS, refused, TLS) is its cause.
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new HcloudApiUnreachable(`cannot reach the Hetzner API: ${method} ${url} failed (${cause?.code ?? ''}${cause?.code && cause?.message ? ': ' : ''}${cause?.message ?? (e as Error).message}). `
        + 'Fix: check the network and DNS from this machine, or HCLOUD_ENDPOINT if you set it (default https://api.hetzner.cloud/v1).',
      TRANSIENT_NETWORK_CODES.includes(cause?.code ?? ''));
    }
    const text = await response.text();
    const failure = (message: string, code?: string): HcloudApiError => {
      const retryAfter = Number(response.headers.get('retry-after') ?? NaN);
      // Honoured up to a minute, so that a run waits for the API rather than hang on it.
      return new HcloudApiError(message, response.status, code, Number.isFinite(retryAfter) && retryAfter >= 0 ? Math.min(retryAfter, 60) * 1000 : undefined,
        `${method} ${path.split('?')[0]}`);
    };
    let parsed: any;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      throw failure(`the Hetzner API at ${url} answered ${response.status} with something that is not JSON: ${text.slice(0, 200)}. Fix: check HCLOUD_ENDPOINT points at the Cloud API (https://api.hetzner.cloud/v1).`);
    }
    if (!response.ok) {
      const error = parsed?.error;
      throw failure(`Hetzner API ${method} ${path.split('?')[0]} failed: ${response.status} ${error?.code ?? ''} ${error?.message ?? text}`.trim(), error?.code);
    }
    return parsed;
  }
}

/** The user, password and query of a URL, when it has them (each percent-encoded as written, and decoded). */
function endpointCredentials(endpoint: string): string[] {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return [];
  }
  const parts = [url.username, url.password, url.search.slice(1)].filter((p) => p !== '');
  return [...new Set(parts.flatMap((p) => [p, safeDecode(p)]))];
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
