import * as os from 'os';
import { Requirement } from './check';

/** Variables that reach a Hetzner project, a state bucket or the machines: a rehearsal gets none of them. */
const ACCESS_VARIABLES = [/^HCLOUD_TOKEN(_|$)/, /^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)(_|$)/, /^SSH_AUTH_SOCK$/];

/**
 * Variables that pick the runner's own credentials out of a configuration (an AWS profile, role or container
 * credentials endpoint; an hcloud context): with them a rehearsal step reads the state bucket or acts in the project
 * with the runner's credentials, though it holds no key itself. Unset.
 */
const CREDENTIAL_CHOOSERS = [
  /^AWS_(DEFAULT_)?PROFILE$/, /^AWS_(ROLE_ARN|ROLE_SESSION_NAME|WEB_IDENTITY_TOKEN_FILE|SECURITY_TOKEN)$/,
  /^AWS_CONTAINER_(CREDENTIALS_(RELATIVE|FULL)_URI|AUTHORIZATION_TOKEN(_FILE)?)$/, /^HCLOUD_CONTEXT$/,
];

/**
 * The configuration files the AWS tools (Terraform's S3 backend, the AWS CLI and SDKs) and the hcloud CLI read
 * credentials from, `~/.aws/credentials`, `~/.aws/config` and `~/.config/hcloud/cli.toml` unless these name others:
 * pointed at an empty file, so that the runner's (through HOME, which the rehearsal keeps for its own tools' caches
 * and settings) are never read.
 */
export const EMPTIED_CONFIG_FILES = ['AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'HCLOUD_CONFIG'] as const;

/**
 * The environment of the rehearsal on `stack`: the caller's, without any Hetzner token, state key pair or SSH agent,
 * without the runner's AWS and hcloud configuration (profiles, contexts, credential files), and without the `TF_VAR_`
 * secrets only other stacks read. The rehearsal is the app team's script, run against staging; with production's
 * token (HCLOUD_TOKEN alone is production's project too), production's state key pair (the one staging's state is
 * read with, which reads and writes production's state and the secrets in it), a profile or context holding either,
 * or the agent holding production's admin key (staging built from production's snapshot accepts it), it could touch
 * production.
 */
export function rehearsalEnvironment(env: NodeJS.ProcessEnv, requirements: readonly Requirement[], stack: string): NodeJS.ProcessEnv {
  const otherStacks = new Set(requirements.filter((r) => r.variable && !r.stacks.includes(stack)).map((r) => `TF_VAR_${r.name}`));
  const dropped = [...ACCESS_VARIABLES, ...CREDENTIAL_CHOOSERS];
  return {
    ...Object.fromEntries(Object.entries(env).filter(([name]) => !otherStacks.has(name) && !dropped.some((pattern) => pattern.test(name)))),
    ...Object.fromEntries(EMPTIED_CONFIG_FILES.map((name) => [name, os.devNull])),
  };
}
