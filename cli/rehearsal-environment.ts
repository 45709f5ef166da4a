import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Requirement } from './check';
import { rehearsalHomeUnsafe, rehearsalSsh, rehearsalSshProgram, SSH_PROGRAM_VARIABLES } from './rehearsal-ssh';

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
 * pointed at an empty file, so that the runner's are never read (with `--keep-home` too, where HOME is the runner's).
 */
export const EMPTIED_CONFIG_FILES = ['AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'HCLOUD_CONFIG'] as const;

/** A variable of the rehearsal's environment, decided: its name, and why it is withheld or kept. */
export interface VariableDecision {
  /** The variable, or the family of variables, as a pattern of names. */
  readonly pattern: RegExp;
  readonly why: string;
}

/**
 * Variables that name where a tool the rehearsal may run finds credentials reaching production (a configuration file
 * or directory, a repository and its password), or hold them: unset, with a scratch HOME and with --keep-home alike,
 * since they may name files outside HOME, which a scratch HOME does not hide.
 */
export const WITHHELD_FILE_VARIABLES: readonly VariableDecision[] = [
  {
    pattern: /^RCLONE_CONFIG(_|$)/,
    why: "rclone's configuration file (RCLONE_CONFIG), remotes defined by variables (RCLONE_CONFIG_<REMOTE>_SECRET_ACCESS_KEY) "
      + 'and the password of an encrypted file (RCLONE_CONFIG_PASS): Hetzner documents rclone for Object Storage, which holds the state bucket',
  },
  {
    pattern: /^RCLONE_PASSWORD_COMMAND$/,
    why: "the command printing the password of rclone's encrypted configuration: with --keep-home, it decrypts the runner's "
      + 'rclone.conf, which holds the state bucket\'s keys',
  },
  { pattern: /^RCLONE_S3_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)$/, why: "rclone's S3 key pair for every remote: the state bucket's" },
  { pattern: /^S3CMD_CONFIG$/, why: "s3cmd's configuration file, ~/.s3cfg by another name: the state bucket's key pair" },
  { pattern: /^MC_CONFIG_DIR$/, why: "mc's configuration directory, ~/.mc by another name: its aliases hold the state bucket's key pair" },
  { pattern: /^MC_HOST_/, why: 'an mc alias as a URL holding its key pair (https://KEY:SECRET@fsn1.your-objectstorage.com)' },
  {
    pattern: /^RESTIC_(FROM_)?(REPOSITORY(_FILE)?|PASSWORD(_FILE|_COMMAND)?)$/,
    why: "restic's repository and its password (or the file or command giving it): production's backups, which restic reads "
      + '(its dumps hold the users\' data) and, with the runner\'s SSH, prunes',
  },
  {
    pattern: /^(TF_TOKEN_|TF_CLI_CONFIG_FILE$|TERRAFORM_CONFIG$)/,
    why: "a Terraform host's API token (TF_TOKEN_app_terraform_io), or the CLI configuration holding such tokens (a credentials "
      + "block, ~/.terraform.d/credentials.tfrc.json by another name): HCP Terraform's workspaces plan and apply, and hold state; a "
      + 'rehearsal deploys nothing, and its synth needs no registry token (the providers are public); one that runs Terraform on '
      + 'purpose (a provider mirror) names a configuration of its own',
  },
  {
    pattern: /^DOCKER_(CONFIG|CERT_PATH|CONTEXT)$/,
    why: "docker's configuration directory (~/.docker by another name: the registries' logins and credential helpers, with which "
      + 'a rehearsal pushes over the image production pulls), the client certificate of a TLS daemon (a remote one: a machine of '
      + "production's), and the context picking a daemon out of that directory (the rehearsal's HOME has none); a public image "
      + 'needs no login',
  },
  {
    pattern: /^PG(PASSWORD|PASSFILE|SERVICEFILE|SYSCONFDIR|SSLKEY)$/,
    why: "libpq's password, the files holding passwords per host or service (~/.pgpass and ~/.pg_service.conf by other names, "
      + "PGSYSCONFDIR's pg_service.conf) and a client certificate's key: the runner's reach production's database through a tunnel "
      + "or a restore drill's, and staging's, built from production's snapshot, has production's roles; staging's own password "
      + "reaches the rehearsal as TF_VAR_database_app_password_staging",
  },
];

/**
 * Variables of that kind the rehearsal keeps: what its own tools may be given on purpose, holding nothing that reaches
 * production's Hetzner project, state bucket, machines or backups. A record, not a rule: the rehearsal's environment is
 * the caller's less what is withheld (the app team's own variables, E2E_USER and the like, pass unnamed), so a variable
 * named nowhere is kept all the same; a rule would make this an allowlist, breaking every rehearsal on the first
 * variable it did not foresee. It says that each of these was weighed, and why it passes; the release suite runs a
 * rehearsal with a name matching each entry and checks that it arrives, and that no name is both kept and withheld.
 */
export const KEPT_FILE_VARIABLES: readonly VariableDecision[] = [
  {
    pattern: /^npm_config_userconfig$/i,
    why: "npm's user configuration (a private registry and its token): how a rehearsal gets the registry settings its HOME's "
      + "missing ~/.npmrc would hold (the project's .npmrc is read either way); npm reaches no production",
  },
  {
    pattern: /^DOCKER_HOST$/,
    why: "the daemon the rehearsal's containers run on (an e2e suite's, Testcontainers'): a local socket reaches no production; a "
      + "remote one over ssh:// goes through the rehearsal's ssh (no identity of the runner's), over TLS it needs DOCKER_CERT_PATH (withheld)",
  },
  { pattern: /^KUBECONFIG$/, why: "a Kubernetes cluster's: production here is Hetzner servers, none a cluster's; a rehearsal may be given a test cluster" },
  { pattern: /^GOOGLE_APPLICATION_CREDENTIALS$/, why: 'a Google service account\'s key: production here holds no Google account; a rehearsal may be given one (a device farm)' },
  {
    pattern: /^(GIT_SSH(_COMMAND)?|RSYNC_RSH)$/,
    why: "the ssh that git and rsync run: as plain `ssh` it is the rehearsal's (rehearsalSsh, first on PATH), and one named by "
      + 'its absolute path (/usr/bin/ssh, which reads the runner account\'s ~/.ssh) is replaced by it (rehearsalSshProgram); '
      + 'an identity file it names (-i) is one the runner gave git on purpose',
  },
];

/**
 * Variables that move a tool's configuration, data or cache out of HOME (rclone's, s3cmd's and mc's configuration live
 * under XDG_CONFIG_HOME; key rings under XDG_DATA_HOME; rclone's VFS cache, plaintext copies of the files it served,
 * production's dumps among them, under XDG_CACHE_HOME): with a scratch HOME, unset, so that they follow it. The
 * runner's browser downloads under XDG_CACHE_HOME are linked into that HOME as those under ~/.cache are (SHARED_CACHES).
 */
const HOME_MOVERS = [/^XDG_(CONFIG|DATA|STATE|CACHE)_HOME$/];

/**
 * The caches in the runner's HOME that a scratch HOME links to, for the tools that find them by HOME alone (npm's
 * `~/.npm`; Playwright's, Cypress's and Puppeteer's browsers under `~/.cache` (Playwright's and Cypress's under
 * XDG_CACHE_HOME where the runner sets it; Puppeteer's always in HOME), Playwright's and Cypress's on macOS
 * under `~/Library/Caches`): they hold downloads, no credentials. Each tool's own directory, never the whole
 * `~/.cache` (XDG_CACHE_HOME's, where the runner sets it) or `~/Library/Caches`, where other tools keep what they read (rclone's VFS cache: plaintext copies of
 * the files it served, production's dumps among them), and which the rehearsal could write to.
 */
export const SHARED_CACHES = [
  '.npm', '.cache/ms-playwright', '.cache/Cypress', '.cache/puppeteer', 'Library/Caches/ms-playwright', 'Library/Caches/Cypress',
] as const;

/** An empty HOME made for one rehearsal, and its removal. */
export interface ScratchHome {
  readonly path: string;
  /** The directory of its ssh, scp and sftp (see rehearsalSsh), first on the rehearsal's PATH. */
  readonly bin: string;
  /** Removes it, its links to the runner's caches but not what they link to. */
  remove(): void;
}

/** What scratchHome's directory is named by, in os.tmpdir(); mkdtemp adds six letters and digits. */
const SCRATCH_HOME_PREFIX = 'sovereign-rehearsal-home-';

/**
 * Why scratchHome's HOME could not be named safely (see rehearsalHomeUnsafe), asked before any step: refused at the
 * rehearsal, the release would have deployed test and brought staging up for nothing.
 */
export function scratchHomeRefusal(): ReturnType<typeof rehearsalHomeUnsafe> {
  return rehearsalHomeUnsafe(path.join(os.tmpdir(), `${SCRATCH_HOME_PREFIX}XXXXXX`));
}

/**
 * A HOME of the rehearsal's own, empty but for links to the runner's caches (SHARED_CACHES): the runner's HOME holds
 * what reaches production beyond the files EMPTIED_CONFIG_FILES names, such as `~/.s3cfg`,
 * `~/.config/rclone/rclone.conf` and `~/.mc/config.json` (the tools Hetzner documents for Object Storage, holding the
 * state bucket's keys) and `~/.ssh/id_*` (production's admin key, which staging built from production's snapshot
 * accepts). OpenSSH finds `~/.ssh` by the account's entry in the password database, not by HOME: the ssh, scp and sftp
 * found on the runner's PATH get stand-ins that read this HOME's `~/.ssh` instead (rehearsalSsh), and an ssh run by its
 * path is kept from the account's by accountSshCover. `runner`: the runner's environment (HOME, PATH, XDG_CACHE_HOME).
 */
export function scratchHome(runner: NodeJS.ProcessEnv): ScratchHome {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), SCRATCH_HOME_PREFIX));
  // rmSync removes a link, not its target: the runner's caches stay.
  const remove = () => fs.rmSync(home, { recursive: true, force: true });
  // The runner's ~/.cache is where its XDG_CACHE_HOME says, which the rehearsal does not get (HOME_MOVERS).
  const runnerCache = runner.XDG_CACHE_HOME && path.isAbsolute(runner.XDG_CACHE_HOME) ? runner.XDG_CACHE_HOME : runner.HOME && path.join(runner.HOME, '.cache');
  try {
    for (const cache of runner.HOME ? SHARED_CACHES : []) {
      // Puppeteer reads no XDG_CACHE_HOME: its cacheDirectory is os.homedir()/.cache/puppeteer, wherever the runner's cache is.
      const target = cache.startsWith('.cache/') && cache !== '.cache/puppeteer' ? path.join(runnerCache!, cache.slice('.cache/'.length)) : path.join(runner.HOME!, cache);
      if (!fs.existsSync(target)) continue;
      fs.mkdirSync(path.dirname(path.join(home, cache)), { recursive: true });
      fs.symlinkSync(target, path.join(home, cache));
    }
    return { path: home, bin: rehearsalSsh(home, runner.PATH), remove };
  } catch (e) {
    // Made part-way, it is not left behind: the release's step fails with the reason.
    remove();
    throw e;
  }
}

/**
 * libpq's files in HOME, by the variables naming them: libpq before PostgreSQL 15 (Ubuntu 22.04's libpq5 14) finds
 * `~` in the password database, not in HOME, so a scratch HOME alone left the runner account's `~/.pgpass`,
 * `~/.pg_service.conf` and client certificate readable there. Named in the scratch HOME, they are the rehearsal's
 * own with any libpq (one it writes there is read).
 */
const LIBPQ_HOME_FILES = { PGPASSFILE: '.pgpass', PGSERVICEFILE: '.pg_service.conf', PGSSLCERT: '.postgresql/postgresql.crt', PGSSLKEY: '.postgresql/postgresql.key' } as const;

/**
 * The prefix that gives the rehearsal a variable it would not get (WITHHELD_FILE_VARIABLES) on purpose: the caller's
 * `REHEARSAL_PGPASSWORD` is the rehearsal's `PGPASSWORD` (a local test database's password, a registry login of its
 * own with `REHEARSAL_DOCKER_CONFIG`). Only for those: the release's own credentials (tokens, state keys, the agent,
 * other stacks' secrets, AWS profiles and hcloud contexts) are never passed on under any name of the release's making.
 */
export const REHEARSAL_PASS_PREFIX = 'REHEARSAL_';

/** Whether `name` is withheld from the rehearsal as a tool's credentials (WITHHELD_FILE_VARIABLES), which REHEARSAL_<NAME> can give it. */
const isWithheldFileVariable = (name: string) => WITHHELD_FILE_VARIABLES.some((v) => v.pattern.test(name));

/**
 * The names of the caller's variables naming tools' credentials that the rehearsal does not get (WITHHELD_FILE_VARIABLES),
 * and not given on purpose as REHEARSAL_<NAME>: printed once before it runs (names only), so that a rehearsal failing
 * without one (libpq's "no password supplied") says why.
 */
export function withheldFromRehearsal(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env).filter((name) => isWithheldFileVariable(name) && env[`${REHEARSAL_PASS_PREFIX}${name}`] === undefined).sort();
}

/**
 * The environment of the rehearsal on `stack`: the caller's, without any Hetzner token, state key pair or SSH agent,
 * without the runner's AWS and hcloud configuration (profiles, contexts, credential files), and without the `TF_VAR_`
 * secrets only other stacks read. The rehearsal is the app team's script, run against staging; with production's
 * token (HCLOUD_TOKEN alone is production's project too), production's state key pair (the one staging's state is
 * read with, which reads and writes production's state and the secrets in it), a profile or context holding either,
 * or the agent holding production's admin key (staging built from production's snapshot accepts it), it could touch
 * production; nor with the variables naming other tools' credentials for production (WITHHELD_FILE_VARIABLES). With
 * `home` (a scratchHome), HOME is that, not the runner's, and its ssh, scp and sftp come first on PATH.
 */
export function rehearsalEnvironment(env: NodeJS.ProcessEnv, requirements: readonly Requirement[], stack: string, home?: ScratchHome): NodeJS.ProcessEnv {
  const otherStacks = new Set(requirements.filter((r) => r.variable && !r.stacks.includes(stack)).map((r) => `TF_VAR_${r.name}`));
  const dropped = [...ACCESS_VARIABLES, ...CREDENTIAL_CHOOSERS, ...WITHHELD_FILE_VARIABLES.map((v) => v.pattern), ...(home === undefined ? [] : HOME_MOVERS)];
  const kept = Object.entries(env).filter(([name]) => !otherStacks.has(name) && !dropped.some((pattern) => pattern.test(name)))
    // With --keep-home there are no stand-ins: ssh reads the runner's ~/.ssh however it is named.
    .map(([name, value]): [string, string | undefined] => (home !== undefined && value !== undefined && Object.prototype.hasOwnProperty.call(SSH_PROGRAM_VARIABLES, name)
      ? [name, rehearsalSshProgram(name as keyof typeof SSH_PROGRAM_VARIABLES, value, home.bin)] : [name, value]))
    .filter(([, value]) => value !== undefined);
  // Given on purpose: REHEARSAL_<NAME> as <NAME>, for a name withheld as a tool's credentials only.
  const passed = Object.entries(env).filter(([name, value]) => value !== undefined && name.startsWith(REHEARSAL_PASS_PREFIX)
    && isWithheldFileVariable(name.slice(REHEARSAL_PASS_PREFIX.length))).map(([name, value]) => [name.slice(REHEARSAL_PASS_PREFIX.length), value]);
  return {
    // Before the caller's: a PGSSLCERT of its own stays (the others are withheld, or given as REHEARSAL_<NAME>).
    ...(home === undefined ? {} : Object.fromEntries(Object.entries(LIBPQ_HOME_FILES).map(([name, file]) => [name, path.join(home.path, file)]))),
    ...Object.fromEntries(kept),
    ...Object.fromEntries(passed),
    ...Object.fromEntries(EMPTIED_CONFIG_FILES.map((name) => [name, os.devNull])),
    // Without a PATH there was no ssh to stand in for (rehearsalSsh found none): PATH stays unset.
    ...(home === undefined ? {} : { HOME: home.path, ...(env.PATH === undefined ? {} : { PATH: `${home.bin}${path.delimiter}${env.PATH}` }) }),
  };
}
