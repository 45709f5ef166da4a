import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { synthesizedStackNames, SYNTH_AGAIN } from '../lib/cost/synthesized-stacks';
import { EnvironmentRecord } from '../lib/environments/product-documents';
import { DEFAULT_PRE_RELEASE_SNAPSHOTS_KEPT } from '../lib/environments/pre-release-snapshots';
import {
  projectStateKeyVariable, projectTokenVariable, ReleaseCredentials, releasePlan, RELEASE_PROJECTS, ReleaseStep, shellLine, SNAPSHOT_ID,
  STATE_KEY_VARIABLES, stepCredentialSources,
} from '../lib/environments/release-plan';
import { StagingReaper } from '../lib/environments/staging-reaper';
import { sshKeyMaterial } from '../lib/hetzner/private/openssh-public-key';
import { DEFAULT_STAGING_DAYS, expiryAfterDays, StagingMode } from '../lib/environments/staging';
import { newReleaseId } from '../lib/environments/staging-claim';
import { parseInstant } from './instant';
import { wholeNumberOption } from './number-text';
import { carriageReturnsIn, checkCommand, checkUsage, type Requirement, requirementsOfStacks, sharedAcrossEnvironments, unsetRequirements, withCarriageReturns } from './check';
import { INIT_USAGE, initCommand } from './init';
import { COST_USAGE, costCommand } from './cost';
import { guardCommand, guardUsage, STATE_KEYS_FILE_VARIABLE } from './guard';
import { REPORT_USAGE, reportCommand } from './report';
import { shellWord } from './shell-word';
import { CommandOptions, parseCommandFlags } from './command-options';
import { readJsonFile } from '../lib/core/private/json-file';
import { cdktfProject, defaultSynthOutput } from './synth-output';
import { ACCEPT_ACCOUNT_SSH, AccountSshCover, accountSshCover, accountSshNote, accountSshRefusal, accountSshWarning, withAgentUnlockable } from './rehearsal-account-ssh';
import { LockedAgent, lockAgent } from './ssh-agent-lock';
import { REHEARSAL_PASS_PREFIX, rehearsalEnvironment, ScratchHome, scratchHome, scratchHomeRefusal, withheldFromRehearsal } from './rehearsal-environment';
import { UnsafeRehearsalHome } from './rehearsal-ssh';
import { exitCodeOf, UsageError } from './usage-error';
import { ParsedArgs, stringFlag } from './parsed-args';
import { productionProjectClient, STAND_IN_STEPS, standInTokenIn, usesProjectTokens } from './production-project';
import { noneUp } from './staging-none-up';
import { STAGING_CLAIM_USAGE, STAGING_UNCLAIM_USAGE, stagingClaimCommand } from './staging-claim-command';
import { type Cdk, ownCdk } from './cdk';

export interface CliIo {
  readonly env: NodeJS.ProcessEnv;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /**
   * Where a release's steps write their standard output, as it comes, when the CLI's own is a pipe: relayed, so that
   * a reader gone (`release | head`) drops the rest, where the steps writing into the closed pipe themselves would die
   * of SIGPIPE or EPIPE mid-deploy (and the take-down with them).
   * @default the steps inherit the CLI's standard output
   */
  readonly stepOut?: (chunk: Buffer) => void;
  /**
   * The same for their standard error, when the CLI's own is a pipe (`release 2>&1 | head`).
   * @default the steps inherit the CLI's standard error
   */
  readonly stepErr?: (chunk: Buffer) => void;
  /**
   * The home of the account the CLI runs as, in the password database, where OpenSSH finds `~/.ssh` whatever HOME
   * says (see accountSshCover); never taken from the environment.
   * @default os.userInfo().homedir, or none for a uid the password database does not name
   */
  readonly accountHome?: string;
  /**
   * The system's ssh configuration, which an ssh run without -F reads after the account's (see accountSshCover).
   * @default '/etc/ssh/ssh_config'
   */
  readonly systemSshConfig?: string;
}

const STAGING_LIST_USAGE = `  cdktf-sovereign-hetzner staging list [--now ISO-TIME] [--stack NAME --none-up]
      Lists the project's on-demand staging resources (labelled environment=staging, lifecycle=on-demand,
      purpose=release-rehearsal, with an expires-at date), each with its expiry and whether it has expired
      at --now (default: the current time; a resource expires at the start of its expires-at day, UTC).
      ISO-TIME carries its zone (2026-12-01T09:00:00Z, 2026-12-01T10:00:00+01:00) or is a date (its start, UTC).
      One that delete-expired would keep says why (delete protection, an invalid expires-at label, in use
      by a staging server that stays). A release's claim on staging (staging claim) is among them, as the
      placement group NAME-release-claim.
      With --none-up it fails (exit 1) when a staging server of the stack --stack names is up (labelled
      stack=NAME: a name prefix would take another stack's, acme-staging-lab-staging-app for acme-staging).
      Reads only: it deletes nothing. Needs a token of the Hetzner project staging lives in: with a project
      per environment, HCLOUD_TOKEN_PRODUCTION (staging built from production's snapshot lives there, as the
      release path has it); otherwise HCLOUD_TOKEN.
      Example: npx cdktf-sovereign-hetzner staging list`;

const STAGING_DELETE_EXPIRED_USAGE = `  cdktf-sovereign-hetzner staging delete-expired [--yes] [--now ISO-TIME]
      Deletes the on-demand staging resources (labelled environment=staging, lifecycle=on-demand,
      purpose=release-rehearsal) whose expires-at day has begun at --now (default: the current time, UTC),
      servers first; never one with delete protection or an invalid expires-at label, nor the addresses,
      firewalls, network, volumes or placement group of a staging server it keeps. Without --yes it only
      lists them and says how many it would delete. Needs a token of the Hetzner project staging lives in:
      HCLOUD_TOKEN_PRODUCTION with a project per environment, otherwise HCLOUD_TOKEN.
      Example: npx cdktf-sovereign-hetzner staging delete-expired --yes`;

const SNAPSHOT_USAGE = `  cdktf-sovereign-hetzner snapshot --server NAME [--description TEXT] [--keep N]
      Snapshots the production server NAME (labelled environment=production), labels the image
      purpose=pre-release and source=NAME, and prints its image ID alone on standard output (the release
      path reads it; messages go to standard error). --description defaults to "snapshot of NAME". Then
      deletes the server's pre-release snapshots beyond the newest N (--keep, 1 to 50, default ${DEFAULT_PRE_RELEASE_SNAPSHOTS_KEPT}):
      each is billed by its size every month. One a server was built from (a staging server still up), or
      with delete protection, stays. Needs a token of production's Hetzner project: HCLOUD_TOKEN_PRODUCTION
      with a project per environment, otherwise HCLOUD_TOKEN. The release path runs it for you.
      Example: npx cdktf-sovereign-hetzner snapshot --server acme-production-app --keep 3`;

const RELEASE_USAGE = `  cdktf-sovereign-hetzner release --product NAME --rehearse "COMMAND" [--dry-run] [--no-snapshot]
                                  [--staging-days N] [--out DIR] [--now ISO-TIME] [--keep-home]
                                  [--accept-account-ssh]
      The release path: guard production's plan (\`guard\`: nothing protected is deleted), deploy test,
      snapshot production (unless --no-snapshot), claim staging (\`staging claim\`: refused while another
      release holds it), bring staging up from the snapshot, run COMMAND against it, take staging down and
      give up the claim (also when the rehearsal fails or the release is stopped), deploy production. Any
      failed step stops the release before production, a failed take-down too: it then names the commands
      that finish it, and the deploy of production to run after them. Without a staging stack it rehearses
      on the test machine.
      COMMAND runs with sh -c, STAGING_EXPIRES_AT set as for bringing staging up, and REHEARSAL_OUTPUTS
      naming a JSON file of the rehearsed stack's outputs (its deploy's --outputs-file, sensitive ones left
      out, removed at the end: {"acme-staging": {"app_ipv4": …}}). It gets the caller's environment without
      any HCLOUD_TOKEN…, AWS_ACCESS_KEY_ID…, AWS_SECRET_ACCESS_KEY…, AWS_SESSION_TOKEN…, SSH_AUTH_SOCK, or
      TF_VAR_ that only other stacks read, without AWS_PROFILE, AWS_DEFAULT_PROFILE, AWS_ROLE_ARN (and the
      other AWS variables that pick credentials) or HCLOUD_CONTEXT, without the variables naming Object
      Storage's tools' or restic's credentials (RCLONE_CONFIG…, S3CMD_CONFIG, MC_CONFIG_DIR, MC_HOST_…,
      RESTIC_REPOSITORY, RESTIC_PASSWORD_FILE and their kin; NPM_CONFIG_USERCONFIG stays), Terraform's
      host tokens (TF_TOKEN_…, TF_CLI_CONFIG_FILE), docker's logins (DOCKER_CONFIG, DOCKER_CERT_PATH,
      DOCKER_CONTEXT; DOCKER_HOST stays) or libpq's passwords (PGPASSWORD, PGPASSFILE, PGSERVICEFILE,
      PGSYSCONFDIR, PGSSLKEY; those it lacks are named on stderr, and REHEARSAL_<NAME> gives it one
      as <NAME>), with AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE and HCLOUD_CONFIG naming
      an empty file (${os.devNull}), and with a HOME of its own, made for it and removed after it
      (XDG_CONFIG_HOME, XDG_DATA_HOME and XDG_CACHE_HOME unset), so that the runner's ~/.aws,
      ~/.config/hcloud/cli.toml, ~/.s3cfg, ~/.config/rclone, ~/.mc and ~/.ssh are not read through HOME: with them it could touch production (production's token, the state key pair
      that reads and writes production's state, the agent or key file holding production's admin key).
      That HOME links to the runner's ~/.npm and its browser downloads (~/.cache/ms-playwright, Cypress and
      puppeteer; the first two under XDG_CACHE_HOME where set; ~/Library/Caches/ms-playwright and Cypress
      on macOS), no other cache; PGPASSFILE, PGSERVICEFILE, PGSSLCERT and PGSSLKEY name its files
      (libpq before 15 finds ~ in the password database). OpenSSH reads ~/.ssh from the account's home
      in the password database, not HOME: the ssh,
      scp and sftp first on the rehearsal's PATH run the real ones with -F HOME/.ssh/config and
      -o IdentityFile=none (no default identity, HOME's known_hosts, nothing of /etc/ssh/ssh_config), so a
      key it uses is one it names (-i); GIT_SSH, GIT_SSH_COMMAND and RSYNC_RSH naming /usr/bin/ssh run
      them too. An ssh a script runs by its path (/usr/bin/ssh, env -i ssh) reads the account's ~/.ssh: on
      Linux, where that ~/.ssh holds a key production accepts (one production's or staging's stack
      registers or production's state still does, a Storage Box key; a key it cannot read, an IdentityAgent), the rehearsal runs in a mount namespace where HOME/.ssh replaces it (a user
      namespace too unless root: sudo fails in it); /etc/ssh/ssh_config, and an SSH agent (SSH_AUTH_SOCK, its socket
      found by its path), holding such a key get an empty file over them there; where that cannot be done (macOS, unshare refused), the
      release refuses before its first step, and --accept-account-ssh rehearses with it readable (with a
      warning; everything else above stays). --keep-home keeps the
      runner's HOME and ssh (the files named above are then readable, but for ~/.aws and
      ~/.config/hcloud/cli.toml).
      --dry-run prints the exact commands instead of running them. Reads DIR/products/NAME/environments.json
      (run \`npm run synth\` first; DIR defaults to the output of cdktf.json, such as
      cdktf.out; it runs in cdktf.json's directory). Staging expires after --staging-days days
      (1 to 14, default ${DEFAULT_STAGING_DAYS}), counted from --now (default: the current time).
      Needs what \`check\` lists for each stack: each environment's TF_VAR_… secrets (such as
      TF_VAR_database_app_password_test and …_production), the state buckets' keys and an SSH agent
      holding the admin keys the machines' rollouts log in with. With a Hetzner
      project per environment, export HCLOUD_TOKEN_TEST and HCLOUD_TOKEN_PRODUCTION: test's steps use the
      first, the others (snapshot, staging, production) the second; otherwise HCLOUD_TOKEN, one project for
      all. Likewise with a state bucket in each environment's project (an Object Storage key reads only its
      own project's buckets): export AWS_ACCESS_KEY_ID_TEST and AWS_SECRET_ACCESS_KEY_TEST for test's steps,
      AWS_ACCESS_KEY_ID_PRODUCTION and AWS_SECRET_ACCESS_KEY_PRODUCTION for production's and staging's (its
      state is with production's); otherwise AWS_ACCESS_KEY_ID and
      AWS_SECRET_ACCESS_KEY, one pair for every bucket. Each step gets its pair as AWS_ACCESS_KEY_ID and
      AWS_SECRET_ACCESS_KEY. Refuses to start when any of these is unset or only part of the per-project
      ones is (the dry run says so on stderr), when two environments' secrets of one kind (or the two tokens) hold the same value,
      or, with one project, when two environments register one SSH key (Hetzner takes a key once per project).
      Example: npx cdktf-sovereign-hetzner release --product acme --rehearse "npm run e2e" --dry-run`;

const STAGING_USAGE = [STAGING_LIST_USAGE, STAGING_DELETE_EXPIRED_USAGE, STAGING_CLAIM_USAGE, STAGING_UNCLAIM_USAGE].join('\n');

/** The subcommands of `staging`. */
const STAGING_COMMANDS = ['list', 'delete-expired', 'claim', 'unclaim'] as const;

/** The usage of each command (and of each staging subcommand), which `help COMMAND` and `COMMAND --help` show alone. */
const commandUsage = (cdk: Cdk): Readonly<Record<string, string>> => ({
  'staging': STAGING_USAGE,
  'staging list': STAGING_LIST_USAGE,
  'staging delete-expired': STAGING_DELETE_EXPIRED_USAGE,
  'staging claim': STAGING_CLAIM_USAGE,
  'staging unclaim': STAGING_UNCLAIM_USAGE,
  'snapshot': SNAPSHOT_USAGE,
  'release': RELEASE_USAGE,
  'init': INIT_USAGE,
  'check': checkUsage(cdk),
  'guard': guardUsage(cdk),
  'cost': COST_USAGE,
  'report': REPORT_USAGE,
});

// In the order a team meets them, init first: `npx cdktf-sovereign-hetzner` alone printed staging's four commands
// first and init a hundred lines down, past a newcomer's screen.
const usage = (cdk: Cdk): string => `Usage (new here? init scaffolds your IaC repository; \`cdktf-sovereign-hetzner help COMMAND\` shows one command):
${[INIT_USAGE, checkUsage(cdk), COST_USAGE, REPORT_USAGE, guardUsage(cdk), RELEASE_USAGE, SNAPSHOT_USAGE, STAGING_USAGE].join('\n')}
The Hetzner commands read HCLOUD_TOKEN (and HCLOUD_ENDPOINT, if set: Hetzner's API or this machine, else they refuse);
with a project per environment, release reads HCLOUD_TOKEN_TEST and HCLOUD_TOKEN_PRODUCTION, and snapshot and staging
production's. With a state bucket in each environment's project, release reads AWS_ACCESS_KEY_ID_TEST,
AWS_SECRET_ACCESS_KEY_TEST, AWS_ACCESS_KEY_ID_PRODUCTION and AWS_SECRET_ACCESS_KEY_PRODUCTION. The stand-in's token, in
the HCLOUD_TOKEN variable a command reads (above), is refused by release (a dry run says it would be), and by staging and
snapshot unless HCLOUD_ENDPOINT is an http(s) URL of this machine's loopback (127.0.0.0/8, [::1], localhost), where a
stand-in of the API may listen.`;

/** What each exit code says, under every usage: a script or CI step tells a mistyped call from a failed one. */
const EXIT_CODES = `Exit codes: 0 done; 1 the command ran and failed, or found what it checks for (check: a variable unset, guard: a
protected resource deleted, staging list --none-up: staging up, release: a step failed); 2 the command line is wrong
(an unknown command or option, an option without its value, a required option left out, a value of the wrong form),
and nothing was run; 128+N release stopped by signal N (staging taken down first, if it was up). Output to a closed
pipe (| head) is dropped, a release's steps' too: the command still runs to its end.`;

/**
 * The usage `words` (a command, or `staging` and its subcommand) ask for; the whole usage for anything else. Its prose
 * names `cdk`'s commands (`cdktn deploy` in cdktn-sovereign-hetzner), as the fixes the commands print do.
 */
export function usageOf(words: readonly string[], cdk: Cdk): string {
  const [command, sub] = words;
  const usages = commandUsage(cdk);
  const topic = command === 'staging' && sub !== undefined && usages[`staging ${sub}`] ? `staging ${sub}` : command;
  return `${topic !== undefined && usages[topic] ? `Usage:\n${usages[topic]}` : usage(cdk)}\n${EXIT_CODES}`;
}

/** Runs one CLI invocation; returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv);
  try {
    const [command, sub] = args.positional;
    const asksHelp = argv.includes('--help') || argv.includes('-h');
    // An option before the command (`--version`, `--out DIR check`) is none the tool takes: the command comes first.
    if (argv.length > 0 && argv[0].startsWith('-') && !asksHelp) {
      io.err(`error: unknown option '${argv[0]}': the command comes first, then its options. Fix: see \`cdktf-sovereign-hetzner help\`.`);
      return 2;
    }
    // Asked for help: the usage on stdout, and the command itself never runs (`release … --help` deploys nothing).
    if (command === undefined || command === 'help' || asksHelp) {
      io.out(usageOf(command === 'help' ? args.positional.slice(1) : args.positional, ownCdk()));
      return 0;
    }
    if (command === 'staging' && (sub === 'claim' || sub === 'unclaim')) return await stagingClaimCommand(sub, commandArgs(argv, `staging ${sub}`), io);
    if (command === 'staging' && (sub === 'list' || sub === 'delete-expired')) return await staging(sub, commandArgs(argv, `staging ${sub}`), io);
    if (command === 'staging') {
      io.err(`error: staging takes a command: ${namedList([...STAGING_COMMANDS]).replace(/ and /, ' or ')}${sub === undefined ? '' : `, not '${sub}'`}. Fix: run \`cdktf-sovereign-hetzner staging list\`, or see \`cdktf-sovereign-hetzner help staging\`.`);
      return 2;
    }
    if (command === 'snapshot') return await snapshot(commandArgs(argv, 'snapshot'), io);
    if (command === 'release') return await release(commandArgs(argv, 'release'), io);
    if (command === 'init') return await initCommand(argv.slice(1), io);
    if (command === 'check') return checkCommand(argv.slice(1), io);
    if (command === 'guard') return guardCommand(argv.slice(1), io);
    if (command === 'cost') return await costCommand(argv.slice(1), io);
    if (command === 'report') return await reportCommand(argv.slice(1), io);
    io.err(`error: unknown command '${args.positional.join(' ')}'. Fix: run one of the commands below.`);
    io.err(usageOf([], ownCdk()));
    return 2;
  } catch (e) {
    io.err(`error: ${(e as Error).message}`);
    return exitCodeOf(e);
  }
}

async function staging(sub: 'list' | 'delete-expired', args: ParsedArgs, io: CliIo): Promise<number> {
  // Read alone, --stack would look like a filter of the list, which it is not: the list would name every product's staging.
  if (args.flags.stack !== undefined && !args.flags['none-up']) {
    throw new UsageError('--stack is read only with --none-up: staging list lists the on-demand staging resources of every stack. '
      + 'Fix: add --none-up to check that no staging server of the stack is up, or leave --stack out.');
  }
  // Before the client: a mistyped --now is refused without a token.
  const now = nowFrom(args);
  const reaper = new StagingReaper(productionProjectClient(io.env));
  const mustBeDown = args.flags['none-up'] ? stringFlag(args, 'stack') : undefined;
  const found = await reaper.find(now);
  if (mustBeDown !== undefined) return noneUp(found, mustBeDown, io);
  if (sub === 'list' || !args.flags.yes) {
    if (found.length === 0) io.out('No on-demand staging resources.');
    for (const r of found) {
      const state = r.skipReason ? `kept: ${r.skipReason}` : r.expired ? 'expired' : 'not expired';
      io.out(`${r.collection}\t${r.name}\t(id ${r.id})\texpires-at ${r.expiresAt}\t${state}`);
    }
    const deletable = found.filter((r) => r.expired && !r.skipReason);
    if (sub === 'delete-expired') io.out(`Would delete ${deletable.length} resource(s). Nothing was deleted: pass --yes to delete.`);
    return 0;
  }
  const deleted = await reaper.deleteExpired(now, io.out);
  io.out(`Deleted ${deleted.length} expired staging resource(s).`);
  return 0;
}

async function snapshot(args: ParsedArgs, io: CliIo): Promise<number> {
  const name = stringFlag(args, 'server');
  // Before the API is asked anything: a mistyped --keep is refused without a token or a network.
  const keep = wholeNumberFlag(args, 'keep', DEFAULT_PRE_RELEASE_SNAPSHOTS_KEPT, 1, 50, 'it is how many pre-release snapshots of the server stay', 'pass a whole number from 1 to 50');
  const client = productionProjectClient(io.env);
  const [server] = (await client.list('servers', `environment=production`)).filter((s) => s.name === name);
  if (!server) throw new Error(`no production server named '${name}'. Fix: pass the server name, such as acme-production-app.`);
  const labels = { purpose: 'pre-release', source: name };
  const id = await client.snapshotServer(server.id, stringFlag(args, 'description', `snapshot of ${name}`), labels);
  // Each release adds a snapshot of production's disk, billed per GB a month: the oldest beyond --keep go.
  // stdout is the new image's ID alone (the release path reads it), so this reports on stderr.
  const older = (await client.list('images', `purpose=pre-release,source=${name}`)).filter((i) => i.id !== id).sort((a, b) => b.id - a.id);
  // A staging server left up (a rehearsal still running, or a failed take-down) runs on an older snapshot: once its
  // image is gone, Hetzner forgets what it was built from and the rehearsal can no longer be rebuilt the same way.
  const inUse = new Map((await client.list('servers', '')).filter((s) => s.image?.id !== undefined).map((s) => [s.image!.id, s.name]));
  for (const image of older.slice(keep - 1)) {
    // Hetzner names no snapshot (its name is null): the description it was taken with says which release it was.
    const shown = `${image.id} (${image.description ?? image.name ?? 'no description'})`;
    if (inUse.has(image.id)) {
      io.err(`kept snapshot ${shown}: server ${inUse.get(image.id)} was built from it`);
      continue;
    }
    if (image.protection?.delete) {
      io.err(`kept snapshot ${shown}: it has delete protection`);
      continue;
    }
    await client.delete('images', image.id);
    io.err(`deleted snapshot ${shown}: older than the newest ${keep} pre-release snapshots of ${name}`);
  }
  io.out(String(id));
  return 0;
}

async function release(args: ParsedArgs, io: CliIo): Promise<number> {
  const product = stringFlag(args, 'product');
  const outdir = stringFlag(args, 'out', defaultSynthOutput());
  const file = path.join(outdir, 'products', product, 'environments.json');
  if (!fs.existsSync(file)) throw new Error(`${file} not found. Fix: run \`npm run synth\` first, and check the product name.`);
  const doc = readJsonFile(file, SYNTH_AGAIN) as { staging?: string; environments: EnvironmentRecord[] };
  const environments = doc.environments;
  // A product the app no longer has (or renamed) keeps its environments.json and stack directories: cdktf removes neither.
  const lastSynth = fs.existsSync(path.join(outdir, 'stacks')) ? synthesizedStackNames(outdir) : [];
  const stale = environments.map((e) => e.stack).filter((stack) => !lastSynth.includes(stack));
  if (stale.length > 0) {
    throw new Error(`${file} is left from an earlier synth: the last synth into ${outdir} wrote no stack ${stale.map((s) => `'${s}'`).join(', ')}, so the `
      + `release would deploy what the app no longer defines. Fix: synthesize the app that defines ${product} (npm run synth), or pass a product it defines`
      + `${lastSynth.length > 0 ? ` (its stacks: ${lastSynth.join(', ')})` : ''}.`);
  }
  // Without its expiry the app synthesizes no staging stack; the path would then rehearse on the test
  // machine, against the product's declared staging, without a word.
  if (doc.staging === StagingMode.fromProductionSnapshot().name && !environments.some((e) => e.environment === 'staging')) {
    throw new Error(`${product} stages on a server of its own (StagingMode.fromProductionSnapshot()), but ${file} has no staging stack: `
      + 'the app was synthesized without a staging expiry. Fix: synthesize with one (STAGING_EXPIRES_AT=YYYY-MM-DD npm run synth, '
      + 'or whatever sets stagingExpiresAt in your app), then run release again.');
  }
  const dryRun = Boolean(args.flags['dry-run']);
  // The steps run cdktf deploy, which reads the cdktf.json of the directory it runs in: from a subdirectory of the
  // project, test's deploy would fail after the guard, or deploy another app's.
  const project = cdktfProject();
  if (project !== undefined && path.resolve(project.dir) !== path.resolve(process.cwd())) {
    const where = `release runs in ${process.cwd()}, below the project's cdktf.json in ${project.dir}: its steps run ${ownCdk().command} deploy, which reads the cdktf.json of the directory it runs in.`;
    if (!dryRun) throw new Error(`${where} Nothing was run. Fix: cd ${shellWord(project.dir)}, then release again.`);
    io.err(`note: ${where} Run the commands from ${project.dir}.`);
  }
  const rehearseText = args.flags.rehearse;
  // Required in a dry run too: the dry run prints the exact commands of the real one.
  if (typeof rehearseText !== 'string' || rehearseText.trim() === '') throw new UsageError('--rehearse "COMMAND" is required: a release is rehearsed before production. Fix: pass the command that tests staging, such as --rehearse "npm run e2e".');
  const days = wholeNumberFlag(args, 'staging-days', DEFAULT_STAGING_DAYS, 1, 14, 'staging lives 1 to 14 days', 'pass a whole number of days in that range');
  const now = nowFrom(args);
  const expires = expiryAfterDays(days, now);
  const releaseId = newReleaseId(now);
  // Outside the project, where nothing commits it; sensitive outputs are left out of it.
  const outputsFile = path.join(os.tmpdir(), `release-${releaseId}-outputs.json`);
  const steps = releasePlan({
    environments,
    rehearse: ['sh', '-c', rehearseText],
    stagingExpiresAt: expires,
    releaseId,
    outputsFile,
    releaseDate: now.toISOString().slice(0, 10),
    snapshot: args.flags['no-snapshot'] ? false : undefined,
    outdir,
    cdkCommand: ownCdk().command,
  });
  const credentials: ReleaseCredentials = { projectTokens: usesProjectTokens(io.env), projectStateKeys: usesProjectStateKeys(io.env) };
  // A rehearsal's shell against the stand-in (docs/testing.md), whatever HCLOUD_ENDPOINT says: the release's deploys run
  // without --skip-provider-lock, so they lock the provider from the public registry, and the stacks' provider blocks
  // name Hetzner's API. The message names only that: with --no-snapshot, or staging on test's machine, no step of the
  // release's own asks Hetzner's API.
  const standIn = (credentials.projectTokens ? RELEASE_PROJECTS.map(projectTokenVariable) : ['HCLOUD_TOKEN']).find((name) => standInTokenIn(io.env, name));
  if (standIn) {
    const problem = `${standIn} is the stand-in's token (docs/testing.md): the release runs against Hetzner (its deploys lock the provider `
      + `from the public registry, not the stand-in's, and the stacks' provider blocks name Hetzner's API).`;
    if (!dryRun) throw new Error(`${problem} Nothing was run. Fix: release with the Hetzner projects' own tokens; ${STAND_IN_STEPS}`);
    io.err(`note: the release would refuse to start: ${problem}`);
  }
  const synthesized = synthesizedStacks(outdir, environments);
  const requirements = requirementsOfStacks(synthesized);
  refuseSharedSecrets(requirements, io.env);
  if (!credentials.projectTokens) refuseKeysRegisteredTwice(synthesized);
  const carriageReturns = [...withCarriageReturns(requirements, io.env), ...carriageReturnsIn(projectVariablesRead(credentials), io.env)];
  if (carriageReturns.length > 0 && !dryRun) throw new Error(`${carriageReturns.join('\n')} Nothing was run.`);
  const unset = unsetForRelease(requirements, io.env, credentials);
  // With one key pair for every step, test's bucket and production's must be in one Hetzner project: release cannot
  // tell, but a pair of one project stops the release at the guard or at test's deploy.
  const apart = credentials.projectStateKeys ? undefined : stateBucketsApart(synthesized, environments);
  const perProjectPairs = apart === undefined ? '' : ` Note that ${apart}: one pair reads them only if one Hetzner project holds them all; with each in its `
    + `environment's project, export ${namedList(projectStateKeyVariables())} instead.`;
  if (unset.length > 0 && !dryRun) {
    throw new Error(`${unset.join(', ')} ${unset.length === 1 ? 'is' : 'are'} not set, which the release's stacks need: a step lacking one would stop part-way, `
      + 'after test is deployed or production snapshotted (Terraform does not prompt here). Nothing was run. '
      + `Fix: set ${unset.length === 1 ? 'it' : 'them'} (\`cdktf-sovereign-hetzner check${outdir === defaultSynthOutput() ? '' : ` --out ${shellWord(outdir)}`}\` says what each is for and how to set it), then release again.`
      + (unset.some((name) => (STATE_KEY_VARIABLES as readonly string[]).includes(name)) ? perProjectPairs : ''));
  }
  // The dry run prints the commands all the same, and says what the real run would refuse for.
  if (unset.length > 0) io.err(`note: the release would refuse to start: ${unset.join(', ')} ${unset.length === 1 ? 'is' : 'are'} not set.`);
  if (carriageReturns.length > 0) io.err(`note: the release would refuse to start: ${carriageReturns[0]}`);
  // Before any step: refused at the rehearsal, the release would have deployed test and brought staging up for nothing.
  // The rehearsal's HOME is made in TMPDIR (with --keep-home, none is made); refused before the agent is tried.
  const unsafeHome = args.flags['keep-home'] ? undefined : scratchHomeRefusal();
  if (unsafeHome && !dryRun) throw new Error(`${unsafeHome.problem} Nothing was run. ${unsafeHome.fix}`);
  if (unsafeHome) io.err(`note: the release would refuse to start: ${unsafeHome.problem}`);
  const accountHome = io.accountHome ?? accountHomeInPasswd();
  const productionKeys = keysProductionAccepts(synthesized, environments);
  const coverWith = (keys: ReadonlySet<string> | undefined) => accountSshCover(io.env, accountHome, keys, { systemConfig: io.systemSshConfig });
  let accountSsh = args.flags['keep-home'] ? undefined : coverWith(productionKeys);
  // An agent that cannot be locked (a forwarded one may refuse) is refused now, before any step, as it was before
  // agents were locked; the dry run locks nothing.
  if (accountSsh?.lockedAgent && !dryRun) {
    // A Ctrl-C between the lock and the unlock (up to 20 s with a slow agent) ended the release with the agent locked:
    // held until it is unlocked, then the release stops as a process the signal ended would (128+N, as runSteps does).
    const held: NodeJS.Signals[] = [];
    const hold = (signal: NodeJS.Signals) => {
      if (held.length === 0) io.err(`release: ${signal}: the release stops once the SSH agent's trial lock has ended; nothing is run`);
      held.push(signal);
    };
    STOPPING_SIGNALS.forEach((s) => process.on(s, hold));
    let unlocked: Awaited<ReturnType<LockedAgent['unlock']>> | undefined;
    // Why the trial failed: a lock that timed out and an unlock that failed too may leave the agent locked.
    let notLocked: string | undefined;
    const agentSocket = accountSsh.lockedAgent.what;
    try {
      const tried = await lockAgent(agentSocket);
      if ('why' in tried) {
        notLocked = tried.why;
        accountSsh = withAgentUnlockable(accountSsh, tried.why);
      } else unlocked = await tried.unlock();
    } finally {
      STOPPING_SIGNALS.forEach((s) => process.off(s, hold));
    }
    const stoppedBy = held[0];
    if (unlocked && !unlocked.unlocked) {
      const stuck = `The SSH agent at ${accountSsh.lockedAgent!.what} was locked to try it, and could not be unlocked (${unlocked.why}). Nothing was run. `
        + 'Fix: restart the agent and `ssh-add` its keys again (the deploys need them), then release again.';
      if (stoppedBy === undefined) throw new Error(stuck);
      io.err(`error: ${stuck}`);
    }
    if (stoppedBy !== undefined) {
      if (notLocked !== undefined) io.err(`error: The SSH agent at ${agentSocket} could not be tried: ${notLocked}.`);
      io.err(`release stopped by ${stoppedBy} while the SSH agent was tried${unlocked?.unlocked === true ? ' (it is unlocked again)' : ''}: nothing was run.`);
      return 128 + os.constants.signals[stoppedBy];
    }
  }
  const refusal = accountSsh && accountSshRefusal(accountSsh);
  if (refusal && args.flags[ACCEPT_ACCOUNT_SSH]) io.err(accountSshWarning(accountSsh!));
  else if (refusal && !dryRun) throw new Error(`${refusal.problem} Nothing was run. ${refusal.fix}`);
  else if (refusal) io.err(`note: the release would refuse to start: ${refusal.problem}`);
  if (apart !== undefined && !STATE_KEY_VARIABLES.some((name) => unset.includes(name))) {
    io.err(`note: one state key pair (${STATE_KEY_VARIABLES.join(', ')}) for every step, but ${apart}: that works only if one Hetzner project holds them all `
      + `(an Object Storage key reads only its own project's buckets), else the release stops at production's guard or at test's deploy. `
      + `With each bucket in its environment's project, export ${namedList(projectStateKeyVariables())} instead.`);
  }
  if (dryRun) {
    io.out(`# release path for ${product} (dry run: nothing is executed)`);
    const notes = (step: ReleaseStep) => `${step.cleanup ? ' (also runs if the rehearsal fails)' : ''}`
      + `${step.rehearsesOn ? ` (without Hetzner tokens, state keys, the SSH agent, the runner's AWS and hcloud configuration or the TF_VAR_ secrets ${step.rehearsesOn} does not read`
        + `${args.flags['keep-home'] ? '; in the runner\'s HOME' : ', in a HOME of its own'})` : ''}`;
    // The rehearsal's namespace, where it has one: its HOME is made when it runs.
    const wrapped = (step: ReleaseStep) => (step.rehearsesOn && accountSsh?.namespaced
      ? `\n# run inside: ${accountSsh.wrap(['…'], '"$REHEARSAL_HOME/.ssh"').map((word) => (word === '…' || word.startsWith('"') ? word : shellWord(word))).join(' ')}` : '')
      + (step.rehearsesOn && accountSsh?.lockedAgent ? `\n# the SSH agent at ${accountSsh.lockedAgent.what} is locked while it runs` : '');
    steps.forEach((step, i) => io.out(`# ${i + 1}. ${step.title}${notes(step)}${wrapped(step)}\n${shellLine(step, credentials)}`));
    return 0;
  }
  try {
    // A key this release removes is accepted by production until its deploy: the guard's plan lists the keys
    // production's state registers, and the cover is decided again with them before the rehearsal.
    const stateKeysFile = `${outputsFile}.state-keys`;
    const startCover = accountSsh;
    const rehearsalCover = startCover && {
      start: startCover,
      atRehearsal: (): AccountSshCover => {
        const listed = fs.existsSync(stateKeysFile) ? fs.readFileSync(stateKeysFile, 'utf8').split('\n').filter((line) => line.trim()).map(sshKeyMaterial) : [];
        if (productionKeys === undefined || listed.every((key) => productionKeys.has(key))) return startCover;
        return coverWith(new Set([...productionKeys, ...listed]));
      },
    };
    return await runSteps(steps, io, expires, credentials, requirements, rehearsalCover, stateKeysFile, args.flags[ACCEPT_ACCOUNT_SSH] === true);
  } finally {
    fs.rmSync(outputsFile, { force: true });
    fs.rmSync(`${outputsFile}.state-keys`, { force: true });
  }
}

/** Names as a sentence lists them: `A, B and C`. */
function namedList(names: readonly string[]): string {
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** Every project's state key variables, test's first: AWS_ACCESS_KEY_ID_TEST, AWS_SECRET_ACCESS_KEY_TEST, …_PRODUCTION. */
function projectStateKeyVariables(): string[] {
  return RELEASE_PROJECTS.flatMap((project) => STATE_KEY_VARIABLES.map((name) => projectStateKeyVariable(name, project)));
}

/** The per-project variables the release passes on to its steps (names only). */
function projectVariablesRead(credentials: ReleaseCredentials): string[] {
  return [...(credentials.projectTokens ? RELEASE_PROJECTS.map(projectTokenVariable) : []), ...(credentials.projectStateKeys ? projectStateKeyVariables() : [])];
}

/**
 * Whether each project's state has an Object Storage key pair of its own: AWS_ACCESS_KEY_ID_TEST and
 * AWS_SECRET_ACCESS_KEY_TEST for test's steps, …_PRODUCTION for the others (staging's state is with production's). An
 * Object Storage key reads only its own project's buckets: with a state bucket in each environment's project, as the
 * README recommends, no one AWS_ACCESS_KEY_ID reads both, and the release stopped at the guard or at test's deploy.
 */
function usesProjectStateKeys(env: NodeJS.ProcessEnv): boolean {
  const names = projectStateKeyVariables();
  const set = names.filter((name) => (env[name] ?? '') !== '');
  if (set.length === 0) return false;
  const unset = names.filter((name) => !set.includes(name));
  if (unset.length > 0) {
    throw new Error(`${set.join(', ')} ${set.length === 1 ? 'is' : 'are'} set but ${unset.join(', ')} ${unset.length === 1 ? 'is' : 'are'} not: with a state key pair per environment, `
      + "each step reads its stack's state with its own project's pair, and a step without one would stop part-way. Nothing was run. "
      + `Fix: export all four (${names.join(', ')}), or none (one pair, ${STATE_KEY_VARIABLES.join(' and ')}, for every state bucket, when one Hetzner project holds them all).`);
  }
  return true;
}

/**
 * Where the environments' state is, in words, when it is in more than one bucket ("test's state is in 'acme-tfstate'
 * and staging's and production's in 'acme-production-tfstate'"); undefined when one bucket holds it all.
 */
function stateBucketsApart(stacks: ReadonlyArray<{ name: string; json: any }>, environments: readonly EnvironmentRecord[]): string | undefined {
  const byBucket = new Map<string, string[]>();
  for (const e of environments) {
    const bucket = stacks.find((s) => s.name === e.stack)?.json.terraform?.backend?.s3?.bucket;
    if (typeof bucket === 'string') byBucket.set(bucket, [...(byBucket.get(bucket) ?? []), `${e.environment}'s`]);
  }
  if (byBucket.size < 2) return undefined;
  return namedList([...byBucket.entries()].map(([bucket, owners], i) => `${owners.join(' and ')}${i === 0 ? ' state is' : ''} in '${bucket}'`));
}

/** The environments' stacks as synthesized (cdk.tf.json), by stack name; a stack not synthesized is left out. */
function synthesizedStacks(outdir: string, environments: readonly EnvironmentRecord[]): Array<{ name: string; json: any }> {
  return environments.map((e) => ({ name: e.stack, file: path.join(outdir, 'stacks', e.stack, 'cdk.tf.json') }))
    .filter((s) => fs.existsSync(s.file)).map((s) => ({ name: s.name, json: readJsonFile(s.file, SYNTH_AGAIN) }));
}

/**
 * The account's home in the password database, where OpenSSH finds `~/.ssh`; undefined for a uid without an entry
 * (a container run with `--user`, OpenShift's random uids), where ssh finds no `~/.ssh` either ("No user exists for uid").
 */
function accountHomeInPasswd(): string | undefined {
  try {
    return os.userInfo().homedir;
  } catch {
    return undefined;
  }
}

/** A server's `ssh_keys` entry naming a key its stack registers: the key resource's id. */
const REGISTERED_KEY_REFERENCE = /^\$\{hcloud_ssh_key\.[^.}]+\.id\}$/;

/**
 * The public keys production and staging (built from its snapshot) accept, each as type and base64: those their stacks
 * register with Hetzner. Test's stack is left out: production's machines do not take test's keys (root's
 * authorized_keys is each environment's), and a key test shares with production production's stack registers too.
 * Undefined where they are not known: none is registered, one is computed, or a server names a key by name
 * (`SshKey.fromName`) that no stack registers, whose text this app does not know.
 */
function keysProductionAccepts(stacks: ReadonlyArray<{ name: string; json: any }>, environments: readonly EnvironmentRecord[]): Set<string> | undefined {
  const served = stacks.filter((s) => environments.find((e) => e.stack === s.name)?.environment !== 'test');
  const registered = served.flatMap(({ json }) => Object.values((json.resource?.hcloud_ssh_key ?? {}) as Record<string, { name?: unknown; public_key?: unknown }>));
  const keys = registered.map((key) => key.public_key);
  if (keys.length === 0 || keys.some((key) => typeof key !== 'string' || key.includes('${'))) return undefined;
  const names = new Set(registered.map((key) => key.name));
  const named = served.flatMap(({ json }) => Object.values((json.resource?.hcloud_server ?? {}) as Record<string, { ssh_keys?: unknown }>)
    .flatMap((server) => (server.ssh_keys === undefined ? [] : Array.isArray(server.ssh_keys) ? server.ssh_keys : [server.ssh_keys])));
  if (named.some((ref) => typeof ref !== 'string' || (!REGISTERED_KEY_REFERENCE.test(ref) && !names.has(ref)))) return undefined;
  return new Set((keys as string[]).map(sshKeyMaterial));
}

/**
 * What the stacks need that `env` does not set, by name (never a value). With a project per environment each step's
 * HCLOUD_TOKEN comes from its project's variable, which usesProjectTokens has checked, and with a state key pair per
 * project its AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, which usesProjectStateKeys has.
 */
function unsetForRelease(requirements: readonly Requirement[], env: NodeJS.ProcessEnv, credentials: ReleaseCredentials): string[] {
  const fromProjects = [...(credentials.projectTokens ? ['HCLOUD_TOKEN'] : []), ...(credentials.projectStateKeys ? STATE_KEY_VARIABLES : [])];
  return unsetRequirements(requirements, env).filter((name) => !fromProjects.includes(name));
}

/**
 * The release is the one run that holds every environment's secrets: one value exported for two of them (the
 * database password of test and of production) would go to both machines. Refused before anything runs.
 */
function refuseSharedSecrets(requirements: readonly Requirement[], env: NodeJS.ProcessEnv): void {
  const shared = sharedAcrossEnvironments(requirements, env);
  if (shared.length === 0) return;
  throw new Error(`${shared.map((names) => names.join(' and ')).join('; ')} hold the same value: the release would give one environment's secret `
    + 'to the other, the always-on test machine production\'s. Fix: give each environment a value of its own, from its own secret store (`check` lists them), then release again.');
}

/**
 * With one HCLOUD_TOKEN every step acts in one Hetzner project, which registers an SSH key once: a key two of the
 * environments' stacks register would fail the second deploy with uniqueness_error, after test's deploy, part-way
 * through the release. Refused before anything runs.
 */
function refuseKeysRegisteredTwice(stacks: ReadonlyArray<{ name: string; json: any }>): void {
  const registeredBy = new Map<string, Array<{ stack: string; name: string }>>();
  for (const { name: stack, json } of stacks) {
    const keys = (json.resource?.hcloud_ssh_key ?? {}) as Record<string, { name?: unknown; public_key?: unknown }>;
    for (const [id, key] of Object.entries(keys)) {
      if (typeof key.public_key !== 'string' || key.public_key.includes('${')) continue;
      const material = sshKeyMaterial(key.public_key);
      // A name the configuration computes is not in the JSON: the key's address names it instead.
      const name = typeof key.name === 'string' && !key.name.includes('${') ? key.name : `hcloud_ssh_key.${id}`;
      registeredBy.set(material, [...(registeredBy.get(material) ?? []), { stack, name }]);
    }
  }
  const twice = [...registeredBy.values()].filter((stacks) => new Set(stacks.map((s) => s.stack)).size > 1);
  if (twice.length === 0) return;
  const named = twice.map((stacks) => stacks.map((s) => `${s.stack} as '${s.name}'`).join(' and ')).join('; ');
  throw new Error(`one SSH key is registered by ${named}: with HCLOUD_TOKEN alone every step acts in one Hetzner project, which registers a key `
    + 'once, so the second deploy would fail with uniqueness_error, after test is deployed. Fix: give each environment a Hetzner project, and export '
    + `${(['test', 'production'] as const).map(projectTokenVariable).join(' and ')} (as Hetzner recommends); or give test and production keys of their own `
    + "(admin: { environmentSshPublicKeys: { test: { deploy: 'ssh-ed25519 AAAA…' } } }), then synthesize and release again.");
}

/** The signals that stop a release: Ctrl-C, a CI job's cancel, a closed terminal. */
const STOPPING_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Runs a step with its output sent to `io.stepOut` and `io.stepErr` as it comes (inherited without them); its exit status or signal. */
function relayed(command: readonly string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout?: string }> {
  return new Promise((resolve) => {
    const child = spawn(command[0], command.slice(1), { env, stdio: ['inherit', io.stepOut ? 'pipe' : 'inherit', io.stepErr ? 'pipe' : 'inherit'] });
    if (io.stepOut) child.stdout!.on('data', io.stepOut);
    if (io.stepErr) child.stderr!.on('data', io.stepErr);
    // A command that cannot start (ENOENT) ends as spawnSync reports it: no status.
    child.on('error', () => resolve({ status: null, signal: null }));
    child.on('close', (status, signal) => resolve({ status, signal }));
  });
}

/**
 * `accountSsh`: how the rehearsal is kept from the runner account's ~/.ssh, as decided before the first step and again
 * when the rehearsal starts (with the keys the guard wrote to `stateKeysFile`), undefined with --keep-home (the runner's HOME and ssh); `acceptExposed`:
 * --accept-account-ssh, without which a rehearsal whose cover leaves something exposed fails.
 */
async function runSteps(steps: readonly ReleaseStep[], io: CliIo, stagingExpiresAt: string, credentials: ReleaseCredentials, requirements: readonly Requirement[],
  accountSsh: { start: AccountSshCover; atRehearsal: () => AccountSshCover } | undefined, stateKeysFile: string, acceptExposed: boolean): Promise<number> {
  let snapshotId: string | undefined;
  let failed = false;
  // Node's default for these signals ends the process at once, mid-step, with staging up. Caught, the step under
  // way ends (a terminal's Ctrl-C reaches it too), and only the clean-up steps follow.
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    io.err(interrupted
      ? `release: ${signal} again: the clean-up steps still run (staging left up expires on ${stagingExpiresAt}; \`staging delete-expired --yes\` deletes it then)`
      : `release: ${signal}: the step under way ends, then only the clean-up steps run (staging down); production is not deployed`);
    interrupted = interrupted ?? signal;
  };
  STOPPING_SIGNALS.forEach((s) => process.on(s, onSignal));
  const started = new Set<string>();
  // What is left to do by hand after a failed take-down: the clean-up steps that failed, then the steps it stopped.
  const unfinishedCleanup: string[] = [];
  const skipped: string[] = [];
  let failedBeforeCleanup = false;
  try {
    for (const [i, step] of steps.entries()) {
      if ((failed || interrupted) && !step.cleanup) {
        skipped.push(shellLine(step, credentials));
        continue;
      }
      if (step.undoes !== undefined && !started.has(step.undoes)) continue;
      started.add(step.title);
      const command = step.command.map((a) => (snapshotId ? a.replace(SNAPSHOT_ID, snapshotId) : a));
      io.out(`==> ${i + 1}. ${step.title}`);
      // Its project's token and state key pair, over any HCLOUD_TOKEN or AWS_ACCESS_KEY_ID the caller has.
      // The rehearsal's HOME is its own, made for it and removed after it (see scratchHome), unless --keep-home.
      let home: ScratchHome | undefined;
      let cover: AccountSshCover | undefined;
      // The runner's agent, locked while the rehearsal runs where no namespace hides it (see lockAgent).
      let locked: LockedAgent | undefined;
      try {
        cover = step.rehearsesOn ? accountSsh?.atRehearsal() : undefined;
      } catch (e) {
        // Thrown out of the loop (a full /tmp, an unreadable list of keys), it skipped the take-down too, and left staging up and claimed.
        io.err(`step ${i + 1} (${step.title}) failed: what keeps the runner's SSH keys from the rehearsal could not be decided (${e instanceof Error ? e.message : String(e)}). `
          + `Fix: free room in ${os.tmpdir()} (or point TMPDIR elsewhere), then release again.`);
        failedBeforeCleanup = true;
        failed = true;
        continue;
      }
      // The start's refusal was accepted (or there was none): only a new one is said here.
      const refusal = cover && cover !== accountSsh?.start ? accountSshRefusal(cover) : undefined;
      if (refusal && !acceptExposed) {
        // Production's state registers a key the stacks no longer do (this release removes it): refused here, after the
        // start's check, since only the guard's plan knows it. Staging is taken down, production not deployed.
        io.err(`step ${i + 1} (${step.title}) failed: production's state registers a key this release removes, which production accepts until its deploy: `
          + `${refusal.problem} ${refusal.fix}`);
        failedBeforeCleanup = true;
        failed = true;
        continue;
      }
      if (refusal) io.err(accountSshWarning(cover!));
      try {
        home = step.rehearsesOn && cover ? scratchHome(io.env) : undefined;
      } catch (e) {
        // Thrown out of the loop, it skipped the take-down too, and left staging up and claimed.
        // A HOME that cannot be named safely says its own fix (refused at the start, it is not met here).
        io.err(`step ${i + 1} (${step.title}) failed: ${e instanceof UnsafeRehearsalHome ? e.message : `its HOME could not be made in ${os.tmpdir()} `
          + `(${e instanceof Error ? e.message : String(e)}). Fix: free room there (or point TMPDIR elsewhere), or pass --keep-home.`}`);
        failedBeforeCleanup = true;
        failed = true;
        continue;
      }
      const withheld = step.rehearsesOn ? withheldFromRehearsal(io.env) : [];
      if (withheld.length > 0) {
        io.err(`release: the rehearsal does not get ${withheld.join(', ')} (a tool's credentials, which may reach production; names only). `
          + `To give it one on purpose, set ${REHEARSAL_PASS_PREFIX}<NAME> (${REHEARSAL_PASS_PREFIX}${withheld[0]}): it gets that as <NAME>.`);
      }
      const env = { ...(step.rehearsesOn ? rehearsalEnvironment(io.env, requirements, step.rehearsesOn, home) : io.env), ...step.env,
        ...(step.readsStateKeys ? { [STATE_KEYS_FILE_VARIABLE]: stateKeysFile } : {}),
        ...Object.fromEntries(stepCredentialSources(step, credentials).map(([name, source]) => [name, io.env[source]])) };
      // The rehearsal's ~/.ssh stands in for the runner account's, for an ssh run by its path too (see accountSshCover).
      const run = home && cover ? cover.wrap(command, path.join(home.path, '.ssh')) : command;
      // Thrown, it left the step loop, skipping the agent's unlock and the take-down.
      const removeHome = () => {
        try {
          home?.remove();
        } catch (e) {
          io.err(`release: warning: the rehearsal's HOME ${home!.path} could not be removed (${e instanceof Error ? e.message : String(e)}): remove it by hand.`);
        }
      };
      if (cover?.lockedAgent) {
        // Locked last, just before the rehearsal runs, and unlocked right after it (see below).
        const tried = await lockAgent(cover.lockedAgent.what);
        if ('why' in tried) {
          const unlockable = withAgentUnlockable(cover, tried.why);
          if (!acceptExposed) {
            io.err(`step ${i + 1} (${step.title}) failed: the SSH agent could not be locked for the rehearsal: ${accountSshRefusal(unlockable)!.problem} ${accountSshRefusal(unlockable)!.fix}`);
            removeHome();
            failedBeforeCleanup = true;
            failed = true;
            continue;
          }
          io.err(accountSshWarning(unlockable));
          cover = unlockable;
        } else {
          locked = tried;
        }
      }
      let stillLocked: string | undefined;
      const result = await (async () => {
        try {
          // Inside the try: thrown between the lock and the rehearsal, it skipped the unlock.
          const note = cover && accountSshNote(cover);
          if (note) io.err(note);
          return step.producesSnapshotId
            ? spawnSync(run[0], run.slice(1), { env, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' })
            : io.stepOut || io.stepErr ? await relayed(run, env, io) : spawnSync(run[0], run.slice(1), { env, stdio: 'inherit' });
        } finally {
          const unlocked = await locked?.unlock();
          if (unlocked && !unlocked.unlocked) stillLocked = unlocked.why;
          removeHome();
        }
      })();
      // A signal that came during the step waits for the event loop: let it in before deciding what runs next.
      await new Promise((resolve) => setImmediate(resolve));
      if (stillLocked !== undefined) {
        // Production's deploy and the steps after it need the agent's keys: run, they would stop part-way.
        io.err(`step ${i + 1} (${step.title}) failed: the SSH agent at ${cover!.lockedAgent!.what} could not be unlocked after the rehearsal (${stillLocked}), `
          + 'so production was not deployed. Fix: restart the agent and `ssh-add` its keys again, then release again.');
        failedBeforeCleanup = true;
        failed = true;
        continue;
      }
      if (result.status !== 0) {
        io.err(`step ${i + 1} (${step.title}) failed with exit code ${result.status ?? result.signal}`);
        if (step.cleanup) unfinishedCleanup.push(shellLine({ ...step, command }, credentials));
        else failedBeforeCleanup = true;
        failed = true;
        continue;
      }
      if (step.producesSnapshotId) {
        const printed = String(result.stdout).trim();
        // Anything but an image ID (nothing, or a wrapper's chatter) became staging's image, or the literal placeholder.
        if (!/^[1-9][0-9]*$/.test(printed)) {
          io.err(`step ${i + 1} (${step.title}) printed ${JSON.stringify(printed.slice(0, 200))} where the snapshot's image ID belongs. `
            + 'Fix: make the snapshot command print only the ID on standard output (messages go to standard error), then release again.');
          failed = true;
          continue;
        }
        snapshotId = printed;
      }
    }
  } finally {
    STOPPING_SIGNALS.forEach((s) => process.off(s, onSignal));
  }
  // Production is not deployed after a failed take-down either, though the rehearsal passed: staging still up is still
  // claimed and billed, and an API that refused the destroy would likely stop production's deploy part-way. The
  // operator finishes the take-down, then deploys production with the command named.
  if (unfinishedCleanup.length > 0) {
    const then = !failedBeforeCleanup && !interrupted && skipped.length > 0 ? `, then deploy production as the release would have: ${skipped.join(', then ')}` : '';
    io.err(`staging was not taken down${failedBeforeCleanup || interrupted ? '' : ' (the rehearsal passed)'}, so the release deploys nothing more. `
      + `Fix: finish the take-down: ${unfinishedCleanup.join(', then ')}${then}. Staging left up expires on ${stagingExpiresAt}: \`staging delete-expired --yes\` deletes it then.`);
  }
  if (interrupted) {
    io.err(`release stopped by ${interrupted}: production was not deployed.`);
    return 128 + os.constants.signals[interrupted];
  }
  if (failed) io.err('release stopped: production was not deployed.');
  return failed ? 1 : 0;
}

/** The options each Hetzner command takes: those followed by a value, and switches. */
const COMMAND_OPTIONS: Readonly<Record<string, CommandOptions>> = {
  'staging list': { valued: ['now', 'stack'], switches: ['none-up'] },
  'staging delete-expired': { valued: ['now'], switches: ['yes'] },
  'staging claim': { valued: ['stack', 'release', 'expires-at'], switches: [] },
  'staging unclaim': { valued: ['stack', 'release'], switches: [] },
  'snapshot': { valued: ['server', 'description', 'keep'], switches: [] },
  'release': { valued: ['product', 'rehearse', 'staging-days', 'out', 'now'], switches: ['dry-run', 'no-snapshot', 'keep-home', ACCEPT_ACCOUNT_SSH] },
};

/** The words and options of any command, only to find the command and whether help is asked for. */
function parseArgs(argv: readonly string[]): ParsedArgs {
  const positional: string[] = [];
  const flags: Record<string, string | boolean> = {};
  const valued = new Set(Object.values(COMMAND_OPTIONS).flatMap((o) => o.valued));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) { positional.push(arg); continue; }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    if (valued.has(name)) flags[name] = inline ?? argv[++i] ?? '';
    else flags[name] = true;
  }
  return { positional, flags };
}

/**
 * The arguments of one Hetzner command, refusing what it does not take: an option of its own mistyped (`--dryrun`
 * ran the release for real), a value on a switch (`--yes=false` deleted), an option where a value belongs
 * (`--rehearse --dry-run` rehearsed "--dry-run" after deploying test) and words beyond the command.
 */
function commandArgs(argv: readonly string[], command: string): ParsedArgs {
  const { words, flags } = parseCommandFlags(argv, COMMAND_OPTIONS[command], command, command.split(' ').length);
  return { command, positional: words, flags };
}

/** A whole-number option from `min` to `max` (see wholeNumberOption), `fallback` when it is left out. */
function wholeNumberFlag(args: ParsedArgs, name: string, fallback: number, min: number, max: number, why: string, fix: string): number {
  return wholeNumberOption(name, stringFlag(args, name, String(fallback)), min, max, why, fix);
}

function nowFrom(args: ParsedArgs): Date {
  const text = args.flags.now;
  return typeof text === 'string' ? parseInstant('--now', text) : new Date();
}
