import { promises as dns } from 'dns';
import * as http from 'http';
import { AddressInfo, BlockList, isIP } from 'net';

export interface StandInResource {
  id: number;
  name: string;
  labels: Record<string, string>;
  protection?: { delete: boolean };
  /** Images: the description a snapshot was taken with (Hetzner gives a snapshot no name: `name` is null). */
  description?: string;
  /** Servers: the image the server was created from. */
  image?: { id: number } | null;
  /** Servers: the primary IPs and firewalls they use, as the API shows them. */
  public_net?: { ipv4?: { id: number } | null; ipv6?: { id: number } | null; firewalls?: Array<{ id: number }> };
  /** Servers: the private networks they are attached to. */
  private_net?: Array<{ network: number }>;
  /** Floating IPs: the ID of the server the address is assigned to, null when unassigned. */
  server?: number | null;
  /** Primary IPs: the ID of the server the address is assigned to, null when unassigned. */
  assignee_id?: number | null;
  /** Primary IPs: deleted together with the server it is assigned to. */
  auto_delete?: boolean;
}

/**
 * A loopback stand-in for the Hetzner Cloud API endpoints the operational commands call:
 * paginated lists with label selectors, creates (a name once per collection), deletes (servers answer with an
 * action), actions, and server snapshots. It records every request so tests can check what was deleted.
 */
export class HcloudApiStandIn {
  public readonly requests: Array<{ method: string; path: string; authorization?: string }> = [];
  /** `<collection>/<name>` of each resource deleted, by a DELETE or along with its server (a primary IP with auto_delete). */
  public readonly deleted: string[] = [];
  /** `<collection>/<name>` of each resource created through the stand-in, in order. */
  public readonly created: string[] = [];
  public perPage = 2;
  /**
   * `<collection>/<id>` whose delete the API refuses, for any kind: 423 locked, as Hetzner answers while another action
   * runs on the resource. (An assigned address's refusal, 422 must_be_unassigned, follows from its assignment.)
   */
  public readonly refuseDelete = new Set<string>();
  /**
   * Answers to give before serving requests normally, one per matching request: a rate limit (429) or an outage (503),
   * for requests whose `METHOD /path` starts with `match`. `times` counts down; `Infinity` never lets them through.
   */
  /**
   * Answers to give instead, `times` times; `dropConnection` closes the connection without an answer; `html` answers
   * that page instead of the API's JSON error, as a proxy in front of the API would.
   */
  public readonly failures: Array<{ match: string; status: number; code: string; times: number; retryAfter?: string; dropConnection?: boolean; html?: string }> = [];
  /** Answer lists with every resource, as an API (or a proxy that drops the query) that ignores `label_selector` would. */
  public ignoreLabelSelector = false;
  /** One server for each loopback address it listens on, all on one port. */
  private readonly servers: http.Server[] = [];
  private nextActionId = 1000;
  private nextImageId = 4242;
  private nextCreatedId = 9000;
  private actions = new Map<number, number>(); // action id → polls left while running

  constructor(public readonly collections: Record<string, StandInResource[]>, private readonly token = 'test-token') {}

  /**
   * Listens on this machine's loopback and returns the API's URL there, naming `host`: 127.0.0.1, ::1 (IPv6's, as
   * `[::1]`), or localhost, where it listens on every address localhost resolves to (127.0.0.1, ::1 or both), on one
   * port, since a client may try any of them first. `lookup` gives localhost's addresses (the system's resolver unless a
   * test gives its own).
   *
   * Refused when localhost resolves to an address outside loopback (127.0.0.0/8, ::1): tests send traffic to loopback
   * only. Where localhost resolves to ::1 on a host without IPv6 (`::1 localhost` in /etc/hosts all the same), ::1 is
   * left out; another address must be bound. A port taken on a later address meanwhile gives a fresh port for all.
   */
  public async start(host: '127.0.0.1' | '::1' | 'localhost' = '127.0.0.1', lookup: LocalhostLookup = systemLookup): Promise<string> {
    const addresses = host === 'localhost' ? loopbackOnly(await lookup('localhost')) : [host];
    for (let attempt = 1; ; attempt++) {
      const port = await this.listenOnEach(addresses, host === 'localhost');
      if (port !== undefined) return `http://${host === '::1' ? '[::1]' : host}:${port}/v1`;
      // Another process took the first address's port on a later one between the two binds: rare, so a few tries.
      if (attempt === PORT_ATTEMPTS) throw new Error(`HcloudApiStandIn.start('${host}'): ${PORT_ATTEMPTS} ports in a row were taken on one of ${addresses.join(', ')} once bound on another. Fix: look for a process binding many loopback ports (ss -ltnp).`);
    }
  }

  /**
   * Listens on each address, on one port, and returns it; undefined when another process held that port on a later
   * address. With `resolved`, the addresses are localhost's, and ::1 is left out where this host has no IPv6.
   */
  private async listenOnEach(addresses: string[], resolved: boolean): Promise<number | undefined> {
    let port = 0;
    const unavailable: string[] = [];
    for (const address of addresses) {
      const server = http.createServer((req, res) => this.handle(req, res));
      const failure = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
        server.once('error', resolve).listen(port, address, () => resolve(undefined));
      });
      if (failure === undefined) {
        this.servers.push(server);
        port = (server.address() as AddressInfo).port;
        continue;
      }
      if (resolved && address === '::1' && (failure.code === 'EADDRNOTAVAIL' || failure.code === 'EAFNOSUPPORT')) {
        unavailable.push(`${address} (${failure.code})`);
        continue;
      }
      await this.stop();
      if (failure.code === 'EADDRINUSE' && port !== 0) return undefined;
      throw failure;
    }
    if (this.servers.length === 0) {
      throw new Error(`HcloudApiStandIn.start('localhost'): localhost resolves to ${addresses.join(', ')} only, and this host cannot listen there: ${unavailable.join(', ')}. Fix: map localhost to 127.0.0.1 in /etc/hosts, or start the stand-in at '127.0.0.1'.`);
    }
    return port;
  }

  public async stop(): Promise<void> {
    await Promise.all(this.servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    this.requests.push({ method: req.method ?? '', path: url.pathname + url.search, authorization: req.headers.authorization });
    const send = (status: number, body?: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(body === undefined ? '' : JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${this.token}`) return send(401, { error: { code: 'unauthorized', message: 'unable to authenticate' } });
    const failure = this.failures.find((f) => f.times > 0 && `${req.method} ${url.pathname}`.startsWith(f.match));
    if (failure) {
      failure.times--;
      if (failure.dropConnection) return void req.socket.destroy();
      if (failure.html !== undefined) {
        res.writeHead(failure.status, { 'Content-Type': 'text/html' });
        return void res.end(failure.html);
      }
      res.writeHead(failure.status, { 'Content-Type': 'application/json', ...(failure.retryAfter !== undefined ? { 'Retry-After': failure.retryAfter } : {}) });
      res.end(JSON.stringify({ error: { code: failure.code, message: failure.status === 429 ? 'limit of 3600 requests per hour reached' : 'service unavailable' } }));
      return undefined;
    }
    const [, version, collection, idText, sub, action] = url.pathname.split('/');
    if (version !== 'v1') return send(404, { error: { code: 'not_found', message: 'not found' } });

    if (collection === 'actions' && req.method === 'GET') {
      const id = Number(idText);
      const left = this.actions.get(id) ?? 0;
      this.actions.set(id, left - 1);
      return send(200, { action: { id, status: left > 0 ? 'running' : 'success' } });
    }
    const items = this.collections[collection];
    if (!items) return send(404, { error: { code: 'not_found', message: `unknown collection ${collection}` } });

    if (req.method === 'POST' && idText === undefined) {
      // Hetzner refuses a second resource of a name in a project (uniqueness_error), whoever asks first wins.
      let body = '';
      req.on('data', (chunk) => { body += chunk; });
      req.on('end', () => {
        const { name, labels } = JSON.parse(body || '{}');
        if (items.some((i) => i.name === name)) return send(409, { error: { code: 'uniqueness_error', message: 'name is already used' } });
        const created: StandInResource = { id: this.nextCreatedId++, name: String(name), labels: labels ?? {} };
        items.push(created);
        this.created.push(`${collection}/${created.name}`);
        return send(201, { [collection.replace(/s$/, '')]: created });
      });
      return undefined;
    }
    if (req.method === 'GET' && idText === undefined) {
      const matching = this.ignoreLabelSelector ? items : items.filter((item) => matchesSelector(item.labels, url.searchParams.get('label_selector') ?? ''));
      const page = Number(url.searchParams.get('page') ?? '1');
      const slice = matching.slice((page - 1) * this.perPage, page * this.perPage);
      const next = page * this.perPage < matching.length ? page + 1 : null;
      return send(200, { [collection]: slice, meta: { pagination: { page, next_page: next } } });
    }
    const item = items.find((i) => i.id === Number(idText));
    if (!item) return send(404, { error: { code: 'not_found', message: `${collection} with ID ${idText} not found` } });
    if (req.method === 'DELETE' && sub === undefined) {
      // 423 protected, as Hetzner answers (hetzner-facts-beyond-shared.json, errors; the status is in its uncertain list).
      if (item.protection?.delete) return send(423, { error: { code: 'protected', message: 'resource is protected' } });
      if (this.refuseDelete.has(`${collection}/${item.id}`)) {
        return send(423, { error: { code: 'locked', message: 'the item you are trying to access is locked (there is already an action running)' } });
      }
      // What Hetzner does with a resource a server still uses: it refuses to delete an applied firewall, and deletes a
      // network all the same, detaching its servers in the background.
      const servers = this.collections.servers ?? [];
      if (collection === 'firewalls' && servers.some((sv) => sv.public_net?.firewalls?.some((f) => f.id === item.id))) {
        return send(422, { error: { code: 'resource_in_use', message: 'firewall still applied to a resource' } });
      }
      // Since 1 May 2026 Hetzner refuses to delete an assigned floating or primary IP (hetzner-facts-beyond-shared.json,
      // floatingIps and primaryIps: its API reference). That deleting its server unassigns it is assumed here, not
      // sourced (hetzner-facts-beyond-shared.json, uncertain); a primary IP with auto_delete goes with the server.
      const assignedTo = collection === 'floating_ips' ? item.server : collection === 'primary_ips' ? item.assignee_id : null;
      if (assignedTo != null) return send(422, { error: { code: 'must_be_unassigned', message: `${collection === 'floating_ips' ? 'floating' : 'primary'} ip must be unassigned` } });
      if (collection === 'networks') for (const sv of servers) sv.private_net = sv.private_net?.filter((n) => n.network !== item.id);
      items.splice(items.indexOf(item), 1);
      this.deleted.push(`${collection}/${item.name}`);
      if (collection === 'servers') {
        for (const ip of this.collections.floating_ips ?? []) if (ip.server === item.id) ip.server = null;
        const primaryIps = this.collections.primary_ips ?? [];
        for (const ip of primaryIps.filter((p) => p.assignee_id === item.id)) {
          if (ip.auto_delete) {
            primaryIps.splice(primaryIps.indexOf(ip), 1);
            this.deleted.push(`primary_ips/${ip.name}`);
          } else {
            ip.assignee_id = null;
          }
        }
      }
      if (collection !== 'servers') return send(204);
      return send(200, { action: this.startAction() });
    }
    if (req.method === 'POST' && collection === 'servers' && sub === 'actions' && action === 'create_image') {
      // The image joins the project's images (when the test models them), with the labels it was given.
      let body = '';
      req.on('data', (chunk) => { body += chunk; });
      req.on('end', () => {
        const id = this.nextImageId++;
        const { description, labels } = JSON.parse(body || '{}');
        this.collections.images?.push({ id, name: null as unknown as string, description: String(description), labels: labels ?? {} });
        send(201, { image: { id }, action: this.startAction() });
      });
      return undefined;
    }
    return send(405, { error: { code: 'method_not_allowed', message: 'not supported by the stand-in' } });
  }

  private startAction(): { id: number; status: string } {
    const id = this.nextActionId++;
    this.actions.set(id, 1); // running for one poll, then success
    return { id, status: 'running' };
  }
}

/** Hetzner's label selector: comma-separated `key=value`, `key!=value`, `key` and `!key`. */
function matchesSelector(labels: Record<string, string>, selector: string): boolean {
  return selector.split(',').filter(Boolean).every((term) => {
    const neq = /^(.+)!=(.*)$/.exec(term);
    if (neq) return labels[neq[1]] !== neq[2];
    const eq = /^(.+?)==?(.*)$/.exec(term);
    if (eq) return labels[eq[1]] === eq[2];
    return term.startsWith('!') ? !(term.slice(1) in labels) : term in labels;
  });
}

/** localhost's addresses as a resolver gives them. */
export type LocalhostLookup = (hostname: 'localhost') => Promise<Array<{ address: string }>>;

const systemLookup: LocalhostLookup = (hostname) => dns.lookup(hostname, { all: true });

const PORT_ATTEMPTS = 5;

/** Loopback: IPv4's 127.0.0.0/8 and IPv6's ::1. */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** The resolver's answer, each address once; refused when any is not loopback, or when it has none. */
function loopbackOnly(answer: Array<{ address: string }>): string[] {
  const addresses = [...new Set(answer.map((a) => a.address))];
  const outside = addresses.filter((address) => !(isIP(address) !== 0 && LOOPBACK.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4')));
  if (addresses.length === 0 || outside.length > 0) {
    throw new Error(`HcloudApiStandIn.start('localhost'): localhost resolves to ${addresses.join(', ') || 'no address'}${outside.length > 0 ? `, and ${outside.join(', ')} is not loopback (127.0.0.0/8, ::1)` : ''}: `
      + 'tests send traffic to this machine\'s loopback only. Fix: map localhost to 127.0.0.1 (and ::1) in /etc/hosts, or start the stand-in at \'127.0.0.1\'.');
  }
  return addresses;
}
