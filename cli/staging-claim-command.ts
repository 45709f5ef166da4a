import { ownCdk } from './cdk';
import { labelValueProblem } from '../lib/core/labels';
import { expiryProblem } from '../lib/environments/staging';
import { StagingClaims, stagingServersOf } from '../lib/environments/staging-claim';
import { StagingReaper, StagingResource } from '../lib/environments/staging-reaper';
import { ParsedArgs, stringFlag } from './parsed-args';
import { productionProjectClient } from './production-project';
import type { CliIo } from './run-cli';
import { noneUp } from './staging-none-up';
import { UsageError } from './usage-error';

export const STAGING_CLAIM_USAGE = `  cdktf-sovereign-hetzner staging claim --stack NAME --release ID --expires-at YYYY-MM-DD
      Claims the staging of the stack --stack names for the release --release names, before staging is
      brought up: a placement group NAME-release-claim (free) labelled stack=NAME, release=ID and as
      on-demand staging expiring with it (delete-expired deletes a claim a killed release left). Hetzner
      takes a name once per project, so of two releases claiming at once exactly one wins; the other fails
      (exit 1) naming the release that holds staging, before it touches anything. It also fails, giving
      the claim up again, when a staging server of the stack (labelled stack=NAME) is up: a release stopped
      without taking it down. The release path runs it for you, and staging unclaim at its end.
      Needs a token of the Hetzner project staging lives in, as staging list does.
      Example: npx cdktf-sovereign-hetzner staging claim --stack acme-staging --release 20261125-090000-3fa2c1 --expires-at 2026-11-28`;

export const STAGING_UNCLAIM_USAGE = `  cdktf-sovereign-hetzner staging unclaim --stack NAME --release ID
      Gives up the claim of the release --release names on the stack's staging, once staging is down: it
      fails (exit 1), keeping the claim, while a staging server of the stack is up, so that no other
      release is built on staging that was not taken down. A claim another release holds, or none, is
      left alone (exit 0): a release only ever gives up its own. The release path runs it after taking
      staging down. Needs a token of the Hetzner project staging lives in, as staging list does.
      Example: npx cdktf-sovereign-hetzner staging unclaim --stack acme-staging --release 20261125-090000-3fa2c1`;

/**
 * `staging claim` and `staging unclaim`: the release that claims a stack's staging is the one that brings it up and
 * takes it down. Two releases at once both passed `--none-up` before either brought staging up, and the one that
 * ended first took staging down under the other's rehearsal (or, its deploy refused, destroyed the other's staging).
 */
export async function stagingClaimCommand(sub: 'claim' | 'unclaim', args: ParsedArgs, io: CliIo): Promise<number> {
  const stack = labelValueFlag(args, 'stack');
  const release = labelValueFlag(args, 'release');
  const expiresAt = sub === 'claim' ? stringFlag(args, 'expires-at') : undefined;
  const expiry = expiresAt === undefined ? undefined : expiryProblem(expiresAt);
  if (expiry) throw new UsageError(`--expires-at ${expiresAt} is not allowed: ${expiry}. Fix: pass staging's expiry, such as --expires-at 2026-11-28.`);
  const client = productionProjectClient(io.env);
  const claims = new StagingClaims(client);
  const up = async () => stagingServersOf(await new StagingReaper(client).find(new Date()), stack);
  const servers = (found: readonly StagingResource[]) => found.map((r) => `server ${r.name} (id ${r.id}, expires-at ${r.expiresAt})`).join(', ');
  const unclaim = `npx cdktf-sovereign-hetzner staging unclaim --stack ${stack}`;
  if (sub === 'claim') {
    const holder = await claims.take(stack, release, expiresAt!);
    if (holder) {
      io.err(`error: staging of ${stack} is claimed by release ${holder.release} (expires-at ${holder.expiresAt}): it is bringing staging up, rehearsing on it or `
        + 'taking it down. Nothing was changed. Fix: let that release end, then release again; if it no longer runs (it was killed), take staging down '
        + `(STAGING_EXPIRES_AT=${holder.expiresAt} npx ${ownCdk().command} destroy ${stack} --auto-approve), give up its claim (${unclaim} --release ${holder.release}), then release again.`);
      return 1;
    }
    const left = await up();
    if (left.length > 0) {
      const mine = await claims.find(stack);
      if (mine?.release === release) await claims.drop(mine);
      noneUp(left, stack, io);
      return 1;
    }
    io.out(`Staging of ${stack} is claimed by release ${release} until ${expiresAt}.`);
    return 0;
  }
  const claim = await claims.find(stack);
  if (claim === undefined || claim.release !== release) {
    io.out(claim === undefined ? `No release holds staging of ${stack}: nothing to give up.` : `Staging of ${stack} is claimed by release ${claim.release}, not ${release}: left alone.`);
    return 0;
  }
  const left = await up();
  if (left.length > 0) {
    io.err(`error: staging of ${stack} is still up: ${servers(left)}. The claim of release ${release} stays, so that no other release is built on it. `
      + `Fix: take staging down (STAGING_EXPIRES_AT=${claim.expiresAt} npx ${ownCdk().command} destroy ${stack} --auto-approve), then run ${unclaim} --release ${release}.`);
    return 1;
  }
  await claims.drop(claim);
  io.out(`Release ${release} gave up its claim on staging of ${stack}.`);
  return 0;
}

/** A valued option that becomes a label value (a stack's name, a release's ID): refused here, not by the API. */
function labelValueFlag(args: ParsedArgs, name: string): string {
  const value = stringFlag(args, name);
  const problem = labelValueProblem(value);
  if (problem) throw new UsageError(`--${name} ${value} is not allowed: ${problem}. Fix: see \`cdktf-sovereign-hetzner help ${args.command}\`.`);
  return value;
}
