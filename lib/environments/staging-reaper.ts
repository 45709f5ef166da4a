import { HcloudApiClient, HcloudApiError, HcloudCollection, HcloudResource } from './hcloud-api-client';
import { EXPIRES_AT_LABEL, expiryProblem, isExpired, ON_DEMAND_LABELS, STACK_LABEL } from './staging';

/** One on-demand staging resource found by the reaper. */
export interface StagingResource {
  readonly collection: HcloudCollection;
  readonly id: number;
  readonly name: string;
  readonly expiresAt: string;
  readonly expired: boolean;
  /**
   * The stack it belongs to, as its `stack` label names it.
   * @default - none: a resource from before the label, or made by hand
   */
  readonly stack?: string;
  /** Why it will not be deleted even if expired, if so. */
  readonly skipReason?: string;
}

/**
 * The Terraform resource types the reaper removes, each with its API collection, in deletion order: servers first,
 * since their IPs, volumes and firewalls can only go once nothing uses them. A staging stack's labelled resource of
 * another type (a snapshot, a certificate, a storage box, a zone) is never reaped: OnDemandLabels warns.
 */
export const REAPED_COLLECTIONS: Readonly<Record<string, HcloudCollection>> = Object.freeze({
  hcloud_server: 'servers',
  hcloud_load_balancer: 'load_balancers',
  hcloud_volume: 'volumes',
  hcloud_primary_ip: 'primary_ips',
  hcloud_floating_ip: 'floating_ips',
  hcloud_firewall: 'firewalls',
  hcloud_network: 'networks',
  hcloud_ssh_key: 'ssh_keys',
  hcloud_placement_group: 'placement_groups',
});
const DELETION_ORDER: readonly HcloudCollection[] = Object.values(REAPED_COLLECTIONS);
/** The labels, each with its value, an on-demand staging resource has; it has EXPIRES_AT_LABEL too, of any value. */
const STAGING_LABELS: Readonly<Record<string, string>> = { environment: 'staging', ...ON_DEMAND_LABELS };
const SELECTOR = [...Object.entries(STAGING_LABELS).map(([k, v]) => `${k}=${v}`), EXPIRES_AT_LABEL].join(',');
/** The label keys SELECTOR needs: a resource without them is no staging resource of the reaper's. */
const SELECTOR_KEYS = [...Object.keys(STAGING_LABELS), EXPIRES_AT_LABEL];

/**
 * Finds on-demand staging resources and deletes the expired ones.
 *
 * It touches only resources labelled `environment=staging`, `lifecycle=on-demand` and
 * `purpose=release-rehearsal` with a valid `expires-at` date in the past, checks those labels
 * again itself rather than trusting the API's filter, and never deletes a delete-protected one, nor what a server
 * it keeps uses (its firewalls, network, volumes, placement group), nor a floating or primary IP assigned to any
 * server it does not delete in the same run.
 */
export class StagingReaper {
  constructor(private readonly client: HcloudApiClient) {}

  /** Every on-demand staging resource, expired or not, in deletion order. */
  public async find(now: Date): Promise<StagingResource[]> {
    const found: Array<StagingResource & { readonly resource: HcloudResource }> = [];
    for (const collection of DELETION_ORDER) {
      for (const resource of await this.client.list(collection, SELECTOR)) {
        if (!isOnDemandStaging(resource)) continue;
        const expiresAt = resource.labels[EXPIRES_AT_LABEL];
        const invalid = expiryProblem(expiresAt);
        found.push({
          collection, id: resource.id, name: resource.name ?? '(no name)', expiresAt, resource,
          ...(resource.labels[STACK_LABEL] !== undefined ? { stack: resource.labels[STACK_LABEL] } : {}),
          expired: !invalid && isExpired(expiresAt, now),
          ...(invalid ? { skipReason: `invalid expires-at label: ${invalid}` }
            : resource.protection?.delete ? { skipReason: 'delete protection is on' } : {}),
        });
      }
    }
    // A server that stays keeps what it uses. Judged alone, its network went (Hetzner deletes a network in use and
    // detaches its servers), and its addresses and firewall failed every run (Hetzner refuses those while in use).
    const heldBy = new Map<string, string>();
    const kept = new Map<number, string>();
    for (const server of found.filter((r) => r.collection === 'servers' && (!r.expired || r.skipReason))) {
      const why = `in use by server ${server.name} (id ${server.id}), which stays (${server.skipReason ?? `it expires on ${server.expiresAt}`})`;
      kept.set(server.id, why);
      for (const used of resourcesUsedBy(server.resource)) if (!heldBy.has(used)) heldBy.set(used, why);
    }
    // An address (floating or primary IP) stays while assigned to a server this run does not delete (one on a server
    // it deletes goes after that server, assuming the server's deletion unassigns it: no source at hand says so; a
    // primary IP with auto_delete goes with the server). Hetzner refuses to delete an assigned one since 1 May 2026
    // (422 must_be_unassigned: its API reference, 'Delete a Floating IP' and 'Delete a Primary IP'; its Terraform
    // provider and Ansible collection unassign first; hetzner-facts-beyond-shared.json, floatingIps and primaryIps),
    // so every daily run would fail on it; and unassigning it first would take the address from a server that stays:
    // a kept staging server, or one no staging label marks, such as the test machine a staging stack may reuse.
    const deleted = new Set(found.filter((r) => r.collection === 'servers' && r.expired && !r.skipReason).map((r) => r.id));
    for (const ip of found) {
      const kind = ASSIGNED_ADDRESSES[ip.collection];
      const assignee = kind?.assignee(ip.resource);
      if (!kind || !assignee || (assignee.type === 'server' && deleted.has(assignee.id))) continue;
      const { type } = assignee;
      // Keeping the address is the likelier wish (DNS records and allow-lists may name it): removing the
      // labels the reaper selects by ends the daily "keeping" line without touching the server.
      const stranger = `assigned to ${type} id ${assignee.id}, which the reaper does not remove`
        + `${type === 'server' ? ' (it is no on-demand staging server: the test machine, say)' : ''}; unassigning it would take the `
        + `address from that ${type}. Fix: to keep the address, remove the staging labels the reaper selects it by `
        + `(hcloud ${kind.cli} remove-label ${ip.id} ${SELECTOR_KEYS.join(' ')}): it is then no staging resource and this line ends. `
        + `Only if that ${type} truly no longer needs it: ${kind.unassign(ip.id, assignee)}; the next run then deletes it`;
      heldBy.set(`${ip.collection}/${ip.id}`, (type === 'server' ? kept.get(assignee.id) : undefined) ?? stranger);
    }
    return found.map(({ resource: _resource, ...r }) => {
      const held = heldBy.get(`${r.collection}/${r.id}`);
      return held && r.expired && !r.skipReason ? { ...r, skipReason: held } : r;
    });
  }

  /** Deletes the expired, unprotected resources in order; returns what it deleted. */
  public async deleteExpired(now: Date, log: (line: string) => void = () => undefined): Promise<StagingResource[]> {
    const deleted: StagingResource[] = [];
    const failed: string[] = [];
    const found = await this.find(now);
    // Expired and still billed: the run's log says why each one stays, not only `staging list`.
    for (const r of found.filter((f) => f.expired && f.skipReason)) log(`keeping ${r.collection} ${r.name} (id ${r.id}, expired ${r.expiresAt}): ${r.skipReason}`);
    const expired = found.filter((r) => r.expired && !r.skipReason);
    for (const [i, resource] of expired.entries()) {
      log(`deleting ${resource.collection} ${resource.name} (id ${resource.id}, expired ${resource.expiresAt})`);
      // One refusal (an address still assigned to a kept server) must not leave every later resource billed.
      try {
        await this.client.delete(resource.collection, resource.id);
        deleted.push(resource);
      } catch (e) {
        // Gone since it was listed: Hetzner deletes a primary IP with auto_delete together with its server, which this
        // run deleted first (hetzner-facts-beyond-shared.json, primaryIps), or someone deleted it by hand meanwhile.
        // Only Hetzner's own not_found for this DELETE says so: a proxy's HTML 404 made every delete "gone" and the
        // run pass with everything still billed, and a 404 polling the deletion's action says nothing of the resource.
        if (e instanceof HcloudApiError && e.isNotFound && e.request === `DELETE /${resource.collection}/${resource.id}`) {
          log(`${resource.collection} ${resource.name} (id ${resource.id}) was gone already`
            + `${resource.collection === 'primary_ips' ? ' (a primary IP with auto_delete goes with its server)' : ''}`);
          continue;
        }
        failed.push(`${resource.collection} ${resource.name} (id ${resource.id}): ${(e as Error).message}`);
        log(`could not delete ${resource.collection} ${resource.name}: ${(e as Error).message}`);
        // The project's request budget is spent (after the client's retries): every further request would fail too,
        // and spend what the project's own deploys need. Stop, and say what is left.
        if (e instanceof HcloudApiError && e.isRateLimit) {
          const left = expired.slice(i + 1).map((r) => `${r.collection} ${r.name} (id ${r.id})`);
          throw new Error(`the Hetzner API's rate limit stopped the run: deleted ${deleted.length} expired staging resource(s); not deleted: `
            + `${[failed[failed.length - 1], ...left].join('; ')}. Fix: run delete-expired again later (the project's 3600 requests an hour `
            + 'refill one a second); a project shared by several environments shares that budget.');
        }
      }
    }
    if (failed.length > 0) {
      throw new Error(`deleted ${deleted.length} expired staging resource(s), but ${failed.length} could not be deleted: ${failed.join('; ')}. `
        + 'Fix: remove what holds them (delete protection, an attachment) in the Hetzner console or with hcloud, then run delete-expired again.');
    }
    return deleted;
  }
}

/**
 * The addresses Hetzner refuses to delete while assigned: what each is assigned to, as the address itself says, its
 * hcloud command, and how to unassign it by hand. A primary IP is unassigned only from a powered-off server (422
 * server_not_stopped), and the server powers on again only with a network interface left
 * (hetzner-facts-beyond-shared.json, primaryIps). A server has one primary IPv4 and one IPv6 at most, so unassigning
 * one takes that public address from it; a floating IP is an extra address, unassigned while the server runs.
 */
const ASSIGNED_ADDRESSES: Partial<Record<HcloudCollection, {
  readonly cli: string;
  assignee(ip: HcloudResource): { readonly type: string; readonly id: number } | undefined;
  unassign(id: number, assignee: { readonly type: string; readonly id: number }): string;
}>> = {
  floating_ips: {
    cli: 'floating-ip',
    assignee: (ip) => (ip.server === undefined || ip.server === null ? undefined : { type: 'server', id: ip.server }),
    unassign: (id) => `unassign it (hcloud floating-ip unassign ${id}: the server keeps its own primary addresses)`,
  },
  primary_ips: {
    cli: 'primary-ip',
    // Only servers take primary IPs today; Hetzner means to allow other assignees, which the reaper never deletes.
    assignee: (ip) => (ip.assignee_id === undefined || ip.assignee_id === null ? undefined
      : { type: ip.assignee_type ?? 'server', id: ip.assignee_id }),
    // shutdown, not poweroff: poweroff cuts the power as a pulled plug would.
    unassign: (id, assignee) => (assignee.type !== 'server' ? `unassign it (hcloud primary-ip unassign ${id})`
      : `shut the server down (hcloud server shutdown ${assignee.id}, and wait until it is off), unassign it (hcloud primary-ip `
        + `unassign ${id}: Hetzner refuses while the server runs; the server loses that public address for good, as it has one `
        + `primary IPv4 and one IPv6 at most) and start it again (hcloud server poweron ${assignee.id}). A server starts only with a `
        + `network interface: if this was its last, assign it another primary IP while it is off (hcloud primary-ip assign `
        + `--server ${assignee.id} OTHER_ID) or attach it to a private network first`),
  },
};

/** What a server uses, as `<collection>/<id>`: its firewalls, networks, volumes and placement group (its addresses say
 * themselves which server they are assigned to: ASSIGNED_ADDRESSES). */
function resourcesUsedBy(server: HcloudResource): string[] {
  const net = server.public_net;
  return [
    ...(net?.firewalls ?? []).map((f) => `firewalls/${f.id}`),
    ...(server.private_net ?? []).map((n) => `networks/${n.network}`),
    ...(server.volumes ?? []).map((id) => `volumes/${id}`),
    ...(server.placement_group ? [`placement_groups/${server.placement_group.id}`] : []),
  ];
}

function isOnDemandStaging(resource: HcloudResource): boolean {
  const labels = resource.labels ?? {};
  return Object.entries(STAGING_LABELS).every(([key, value]) => labels[key] === value) && EXPIRES_AT_LABEL in labels;
}
