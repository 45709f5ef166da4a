import { randomBytes } from 'crypto';
import { HcloudApiClient, HcloudApiError, HcloudResource } from './hcloud-api-client';
import { EXPIRES_AT_LABEL, ON_DEMAND_LABELS, STACK_LABEL } from './staging';
import { StagingResource } from './staging-reaper';

/** How often a claim is tried when its name is taken but no claim holds it (a holder that just gave it up). */
const CLAIM_ATTEMPTS = 3;

/** The label holding the ID of the release that holds a stack's staging. */
export const RELEASE_LABEL = 'release';

/** A release's hold on a stack's staging: the release that brings staging up, rehearses on it and takes it down. */
export interface StagingClaim {
  readonly id: number;
  readonly stack: string;
  readonly release: string;
  readonly expiresAt: string;
}

/**
 * The name of a stack's claim. Hetzner takes a name once per project, so of two releases creating it at once exactly
 * one succeeds: the claim is a lock taken atomically, where "check that staging is down, then bring it up" let both
 * pass the check.
 */
export function claimName(stack: string): string {
  return `${stack}-release-claim`;
}

/** A release's ID, for the claim's label: its start (UTC) and a random part, such as `20261125-090000-3fa2c1`. */
export function newReleaseId(now: Date): string {
  return `${now.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}-${randomBytes(3).toString('hex')}`;
}

/** The staging servers of `stack` that are up, by the stack's label (never by name: another stack's may share a prefix). */
export function stagingServersOf(found: readonly StagingResource[], stack: string): StagingResource[] {
  return found.filter((r) => r.collection === 'servers' && r.stack === stack);
}

/**
 * Claims on staging, kept as a placement group (free, and deleted by nothing else) named after the stack and labelled
 * as on-demand staging with the claim's expiry: a claim a killed release left behind is deleted with its staging by
 * `staging delete-expired`.
 */
export class StagingClaims {
  constructor(private readonly client: HcloudApiClient) {}

  /** The claim on `stack`'s staging, if one is held. */
  public async find(stack: string): Promise<StagingClaim | undefined> {
    const found = await this.client.list('placement_groups', `${STACK_LABEL}=${stack},${RELEASE_LABEL}`);
    const claim = found.find((r) => r.name === claimName(stack));
    return claim && toClaim(claim);
  }

  /**
   * Takes the claim on `stack`'s staging for `release`. Returns the claim another release holds when it is taken; throws
   * when a resource of the claim's name exists that is no claim.
   */
  public async take(stack: string, release: string, expiresAt: string): Promise<StagingClaim | undefined> {
    const labels = { environment: 'staging', ...ON_DEMAND_LABELS, [EXPIRES_AT_LABEL]: expiresAt, [STACK_LABEL]: stack, [RELEASE_LABEL]: release };
    // A holder may give its claim up between our refused create and the look at who holds it: then the name is free,
    // and taking it again is right. A name still taken with no claim behind it, time after time, is no claim.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.create('placement_groups', { name: claimName(stack), type: 'spread', labels });
        return undefined;
      } catch (e) {
        if (!(e instanceof HcloudApiError && e.code === 'uniqueness_error')) throw e;
      }
      const holder = await this.find(stack);
      if (holder) return holder;
      if (attempt < CLAIM_ATTEMPTS) continue;
      throw new Error(`a placement group named ${claimName(stack)} exists, but it is no release's claim (it lacks the labels ${STACK_LABEL}=${stack} and ${RELEASE_LABEL}). `
        + 'Nothing was changed. Fix: rename or delete that placement group (the release path takes the name for its claim), then release again.');
    }
  }

  /** Gives up a claim. */
  public async drop(claim: StagingClaim): Promise<void> {
    await this.client.delete('placement_groups', claim.id);
  }
}

function toClaim(resource: HcloudResource): StagingClaim {
  return { id: resource.id, stack: resource.labels[STACK_LABEL], release: resource.labels[RELEASE_LABEL], expiresAt: resource.labels[EXPIRES_AT_LABEL] };
}
