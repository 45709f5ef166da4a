import { HcloudApiClient } from '../lib/environments/hcloud-api-client';
import { projectTokenVariable } from '../lib/environments/release-plan';
import { isLoopbackHttpEndpoint } from '../lib/environments/private/hetzner-endpoints';
import { STAND_IN_TOKEN } from '../testing/harness/stand-in-names';

/**
 * The client of production's Hetzner project, where `snapshot` and `staging` act (staging is built from production's
 * snapshot): HCLOUD_TOKEN_PRODUCTION when each environment has a project, as `release` reads it; HCLOUD_TOKEN otherwise.
 * A different HCLOUD_TOKEN beside it is refused: listing another project's staging would say "none" and be wrong.
 */
export function productionProjectClient(env: NodeJS.ProcessEnv): HcloudApiClient {
  // The same rules as the release's: both project tokens or neither, and two different ones.
  if (!usesProjectTokens(env)) return HcloudApiClient.fromEnvironment(notStandIn(env, 'HCLOUD_TOKEN'));
  const name = projectTokenVariable('production');
  const production = env[name]!;
  if (env.HCLOUD_TOKEN && env.HCLOUD_TOKEN !== production) {
    throw new Error(`HCLOUD_TOKEN and ${name} are both set, to different tokens: this command acts in production's Hetzner project (its `
      + `snapshots, and staging built from them), which ${name} names. Fix: unset HCLOUD_TOKEN, or set it to production's token.`);
  }
  return HcloudApiClient.fromEnvironment(notStandIn({ ...env, HCLOUD_TOKEN: production }, name));
}

/**
 * `env`, unless `name` holds the stand-in's token and HCLOUD_ENDPOINT names no http(s) server of this machine (a local
 * stand-in of the API): the shell of a rehearsal against the stand-in (docs/testing.md) has the token, and the stand-in
 * serves Terraform alone. Without an endpoint, or with Hetzner's, the command would send the token to Hetzner and report
 * a 401 about a token nobody issued; with the stand-in's file: endpoint it would fail on a URL it cannot fetch.
 */
function notStandIn(env: NodeJS.ProcessEnv, name: string): NodeJS.ProcessEnv {
  if (!standInTokenIn(env, name) || isLoopbackHttpEndpoint(env.HCLOUD_ENDPOINT ?? '')) return env;
  const fileEndpoint = (env.HCLOUD_ENDPOINT ?? '').trim().startsWith('file:')
    ? ' HCLOUD_ENDPOINT\'s file: URL names the stand-in\'s project, which only the stand-in\'s provider reads.' : '';
  throw new Error(`${name} is the stand-in's token (docs/testing.md): this command talks to Hetzner's API, which the stand-in does not `
    + `serve (it stands in for the provider under Terraform only), so nothing was asked.${fileEndpoint} Fix: run it with a token of the Hetzner Cloud project `
    + `(in a shell without the stand-in's environment); ${STAND_IN_STEPS}`);
}

/**
 * What to do against the stand-in instead, for every refusal of its token: the steps run by hand, each with
 * --skip-provider-lock, which keeps cdktf from locking the provider from the public registry (docs/testing.md).
 */
export const STAND_IN_STEPS = 'against the stand-in, run the steps by hand as docs/testing.md shows '
  + '(cdktf deploy and destroy with --skip-provider-lock).';

/**
 * Whether each environment has a Hetzner project (and token) of its own, as Hetzner recommends: HCLOUD_TOKEN_TEST for
 * test's steps, HCLOUD_TOKEN_PRODUCTION for the others (staging built from production's snapshot lives there).
 * One HCLOUD_TOKEN for every step deployed test into production's project, or production into test's.
 */
export function usesProjectTokens(env: NodeJS.ProcessEnv): boolean {
  const names = (['test', 'production'] as const).map(projectTokenVariable);
  const set = names.filter((name) => (env[name] ?? '') !== '');
  if (set.length === 0) return false;
  if (set.length < names.length) {
    throw new Error(`${set[0]} is set but ${names.find((n) => !set.includes(n))} is not: with a Hetzner project per environment, the release `
      + `acts in both, and the other steps would use HCLOUD_TOKEN, another environment's project. Fix: export both ${names.join(' and ')}, or neither (one project, HCLOUD_TOKEN).`);
  }
  if (env[names[0]] === env[names[1]]) {
    throw new Error(`${names.join(' and ')} hold the same token: that is one Hetzner project, not one per environment, and test's steps would `
      + `act in production's. Fix: export each project's own token, or only HCLOUD_TOKEN (one project for all).`);
  }
  return true;
}

/** Whether `name` holds the stand-in's token (docs/testing.md). */
export function standInTokenIn(env: NodeJS.ProcessEnv, name: string): boolean {
  return env[name] === STAND_IN_TOKEN;
}
