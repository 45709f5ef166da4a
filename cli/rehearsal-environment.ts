import { Requirement } from './check';

/** Variables that reach a Hetzner project, a state bucket or the machines: a rehearsal gets none of them. */
const ACCESS_VARIABLES = [/^HCLOUD_TOKEN(_|$)/, /^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)(_|$)/, /^SSH_AUTH_SOCK$/];

/**
 * The environment of the rehearsal on `stack`: the caller's, without any Hetzner token, state key pair or SSH agent,
 * and without the `TF_VAR_` secrets only other stacks read. The rehearsal is the app team's script, run against staging;
 * with production's token (HCLOUD_TOKEN alone is production's project too), production's state key pair (the one
 * staging's state is read with, which reads and writes production's state and the secrets in it) or the agent holding
 * production's admin key (staging built from production's snapshot accepts it), it could touch production.
 */
export function rehearsalEnvironment(env: NodeJS.ProcessEnv, requirements: readonly Requirement[], stack: string): NodeJS.ProcessEnv {
  const otherStacks = new Set(requirements.filter((r) => r.variable && !r.stacks.includes(stack)).map((r) => `TF_VAR_${r.name}`));
  return Object.fromEntries(Object.entries(env).filter(([name]) => !otherStacks.has(name) && !ACCESS_VARIABLES.some((pattern) => pattern.test(name))));
}
