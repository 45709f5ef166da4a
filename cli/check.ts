import * as fs from 'fs';
import * as path from 'path';
import { Environment } from '../lib/core/environment';
import { stackEnvironments, synthesizedStackNames, SYNTH_AGAIN } from '../lib/cost/synthesized-stacks';
import { projectStateKeyVariable, projectTokenVariable, RELEASE_PROJECTS, releaseProjectOf, STATE_KEY_VARIABLES, StateKeyVariable } from '../lib/environments/release-plan';
import { DRILL_ACCOUNT_PASSWORD_VARIABLES, DRILL_SOURCE_OUTPUTS, OFFSITE_DRILL_VARIABLES } from '../stacks/environment-backups';
import type { CliIo } from './run-cli';
import { redirectedEndpoints } from '../lib/environments/private/hetzner-endpoints';
import { parseStackArgs } from './stack-args';
import { shellWord } from './shell-word';
import { OVERRIDE_FILE, STAND_IN_TOKEN } from '../testing/harness/stand-in-names';
import { readJsonFile } from '../lib/core/private/json-file';
import { defaultSynthOutput } from './synth-output';
import { asRehearsed } from './stand-in-rehearsal';
import { synthWarnings, synthWarningsHeading, whereSynthWarns } from './synth-warnings';
import { type Cdk, ownCdk } from './cdk';
import { libraryDocAtSynth } from '../lib/core/private/library-doc';
import { docPath } from './package-files';

/** check's usage, naming the commands of `cdk`, the CDK the running package is built for. */
export const checkUsage = (cdk: Cdk): string => `  cdktf-sovereign-hetzner check [STACK ...] [--out DIR] [--plan] [--env-example FILE]
      Before \`${cdk.command} deploy\`: lists everything the synthesized stacks in DIR (default: the output of the
      nearest cdktf.json, such as cdktf.out) need from
      the environment and do not have: each variable without a default (TF_VAR_<name>) with what it is for,
      HCLOUD_TOKEN, the state bucket's keys (and the variables \`release\` reads each from with a project, or
      a bucket, per environment: HCLOUD_TOKEN_TEST, AWS_ACCESS_KEY_ID_PRODUCTION, …), and the SSH agent the
      machines' rollouts log in with. Exits 1
      when anything is missing, so a deploy never waits at Terraform's prompt, and when two environments'
      secrets of one kind (TF_VAR_database_app_password_test and …_production) hold the same value, and, when both
      environments' values are set, when the restore drill's copy of a production secret differs from it (its Storage
      Box password, the offsite bucket) or is production's offsite writing key, and when HCLOUD_ENDPOINT (or another
      HCLOUD_…ENDPOINT) sends the provider somewhere other than Hetzner's API, and when a stack's directory still
      holds the override of a rehearsal against the stand-in, which
      ${libraryDocAtSynth('testing.md')} describes, and when a value holds a carriage
      return (a .env with Windows line endings). In a rehearsal against the stand-in (HCLOUD_TOKEN is its
      token, and its override is beside the stack), what the override makes unneeded (the state bucket's keys,
      the SSH agent) is named apart, as a real deploy's, and fails nothing. With --plan it checks what
      \`terraform plan\` needs (a CI job that plans or looks for drift): the SSH agent, which only a deploy's
      rollouts use, is left out. After its verdict it prints the synth's warnings for the stacks, each with its
      fix (${whereSynthWarns(cdk, { backticks: true })});
      they fail nothing. With --env-example it writes FILE listing every variable the stacks declare, with its
      description, instead (never over a file that holds values, such as a filled-in .env).`;

/** One thing a deploy of a stack needs from its environment. */
export interface Requirement {
  readonly name: string;
  readonly stacks: string[];
  readonly why: string;
  readonly sensitive: boolean;
  /** Whether it comes from a Terraform variable (TF_VAR_…), or is read by a tool directly. */
  readonly variable: boolean;
}

export function checkCommand(argv: readonly string[], io: CliIo): number {
  const { stacks: wanted, out, envExample, plan } = parse(argv);
  const stacksDir = path.join(out, 'stacks');
  if (!fs.existsSync(stacksDir)) {
    throw new Error(`${stacksDir} not found. Fix: synthesize first (npx ${ownCdk().command} synth, or npm run synth), or pass --out with the output directory.`);
  }
  const available = synthesizedStackNames(out);
  const unknown = wanted.filter((s) => !available.includes(s));
  if (unknown.length > 0) {
    throw new Error(`no synthesized stack named ${unknown.map((s) => `'${s}'`).join(', ')} in ${stacksDir}. Fix: pass one of ${available.join(', ')}.`);
  }
  const chosen = wanted.length > 0 ? wanted : available;
  const synthesized = chosen.map((name) => ({ name, json: readJsonFile(path.join(stacksDir, name, 'cdk.tf.json'), SYNTH_AGAIN) }));
  // A plan connects to no machine: only a deploy's rollouts log in over SSH.
  const forCommand = (r: Requirement) => !plan || !DEPLOY_ONLY.includes(r.name);
  const requirements = requirementsOfStacks(synthesized).filter(forCommand);
  // In a rehearsal against the stand-in, what its overrides make unneeded (the state bucket's keys, the SSH agent) is
  // a real deploy's, and is named apart from what is missing.
  const rehearsed = requirementsOfStacks(synthesized.map(({ name, json }) => ({ name, json: asRehearsed(path.join(stacksDir, name), json, io.env) })));
  const realDeployOnly = (r: Requirement) => !rehearsed.some((x) => x.name === r.name && x.stacks.some((stack) => r.stacks.includes(stack)));

  if (envExample) {
    // `--env-example .env` replaced the team's filled-in .env with empty entries: its secrets were gone.
    if (fs.existsSync(envExample) && /^\s*(export\s+)?[A-Za-z_][A-Za-z0-9_]*=\s*\S/m.test(fs.readFileSync(envExample, 'utf8'))) {
      throw new Error(`${envExample} holds values (it looks like a filled-in .env), which --env-example would replace with empty entries. `
        + 'Fix: pass the example file, such as --env-example .env.example, or remove this one first if it is meant to go.');
    }
    fs.writeFileSync(envExample, environmentExample(requirements.filter((r) => r.variable), ownCdk()));
    io.out(`Wrote ${envExample}: ${requirements.filter((r) => r.variable).length} variables of ${chosen.join(', ')}.`);
    return 0;
  }
  // After the verdict and, on a failure, the list of what is missing: the verdict stays the first line a CI log shows.
  const printWarnings = () => {
    const warnings = synthWarnings(out, chosen);
    if (warnings.length === 0) return;
    io.out(synthWarningsHeading(ownCdk(), chosen));
    for (const line of warnings) io.out(line);
  };
  const shared = sharedAcrossEnvironments(requirements, io.env);
  for (const names of shared) {
    io.err(`${names.join(' and ')} hold the same value: whoever reads one environment's secret (the always-on test machine, a test job in CI) `
      + `then has the other's. Fix: give each environment a value of its own (and deploy, which rotates it), from that environment's secret store.`);
  }
  const missing = requirements.filter((r) => !isSet(io.env, r) && !realDeployOnly(r));
  const notForRehearsal = requirements.filter((r) => !isSet(io.env, r) && realDeployOnly(r));
  const mismatched = [...mismatchedPairs(requirements, io.env), ...redirectedEndpoints(io.env, plan ? 'planning' : 'deploying'),
    ...leftFromRehearsal(stacksDir, chosen, io.env), ...withCarriageReturns(requirements, io.env)];
  for (const line of mismatched) io.err(line);
  const realDeployNote = () => {
    if (notForRehearsal.length === 0) return;
    io.out(`Not needed in this rehearsal against the stand-in, only by a real deploy: ${[...new Set(notForRehearsal.map(environmentNameOf))].join(', ')} `
      + `[${[...new Set(notForRehearsal.flatMap((r) => r.stacks))].join(', ')}]. The stand-in's override beside the stack (${OVERRIDE_FILE}) keeps the state `
      + `in a local file and rolls no bundle out with an SSH agent; a real deploy needs them, from a fresh synth (see ${docPath('testing.md')}).`);
  };
  if (missing.length === 0 && shared.length === 0 && mismatched.length === 0) {
    const rehearsal = notForRehearsal.length > 0 ? ' in this rehearsal against the stand-in' : '';
    io.out(`Everything ${chosen.join(', ')} need${chosen.length === 1 ? 's' : ''}${plan ? ' for a plan' : ''}${rehearsal} is set (${requirements.length - notForRehearsal.length} variables and credentials).`);
    realDeployNote();
    for (const line of oneValueForSeveralUses(requirements.filter((r) => !realDeployOnly(r)))) io.out(line);
    printWarnings();
    return 0;
  }
  if (missing.length > 0) {
    io.err(`Missing for ${chosen.join(', ')}: ${missing.length} of ${requirements.length}. Terraform would stop and wait for them.`);
    const environments = stackEnvironments(out);
    for (const r of missing) {
      const name = environmentNameOf(r);
      io.err(`  ${name}${r.sensitive ? ' (secret)' : ''}: ${r.why} [${r.stacks.join(', ')}]`);
      io.err(`    Fix: ${howToSet(r, name, io.env, out, available)}${releaseReads(r, environments)}`);
    }
  }
  realDeployNote();
  printWarnings();
  return 1;
}

/**
 * The credentials that one shell holds once but the stacks checked read for different things (only the state
 * bucket's keys vary by stack: test's bucket and production's): one value is right only if both are in one project.
 */
function oneValueForSeveralUses(requirements: readonly Requirement[]): string[] {
  const credentials = requirements.filter((r) => !r.variable);
  const names = [...new Set(credentials.map((r) => r.name))].filter((name) => credentials.filter((r) => r.name === name).length > 1);
  return names.map((name) => `Note: ${name} is read for the state buckets of ${credentials.filter((r) => r.name === name).map((r) => r.stacks.join(' and ')).join(' and of ')}, `
    + 'which differ: one value is right only if they are in one Hetzner project. Otherwise check and deploy the stacks one at a time, each with its own project\'s key; '
    + `\`release\` reads each project's from ${RELEASE_PROJECTS.map((project) => projectStateKeyVariable(name as StateKeyVariable, project)).join(' and ')}.`);
}

/**
 * Where `release` reads a credential of the stacks (their environments by stack, from the synth) when each project has
 * its own: `; \`release\` reads it from AWS_ACCESS_KEY_ID_TEST (for acme-test) …`, or nothing for a Terraform variable
 * or a stack of no product's environments.
 */
function releaseReads(r: Requirement, environments: ReadonlyMap<string, string>): string {
  const stateKey = (STATE_KEY_VARIABLES as readonly string[]).includes(r.name);
  if (r.variable || (!stateKey && r.name !== 'HCLOUD_TOKEN')) return '';
  const sources = RELEASE_PROJECTS.map((project) => ({
    variable: stateKey ? projectStateKeyVariable(r.name as StateKeyVariable, project) : projectTokenVariable(project),
    stacks: r.stacks.filter((stack) => environments.has(stack) && releaseProjectOf(environments.get(stack)!) === project),
  })).filter((s) => s.stacks.length > 0);
  if (sources.length === 0) return '';
  return `; \`release\` reads it from ${sources.map((s) => `${s.variable} (for ${s.stacks.join(', ')})`).join(' and ')} `
    + (stateKey ? "when each project's state has a key pair of its own" : 'with a Hetzner project per environment');
}

/**
 * Stack directories still holding a rehearsal's override against the stand-in (docs/testing.md), checked with a real
 * token. cdktf's synth keeps extra files there, and Terraform merges the override into every command in the directory:
 * a real deploy would keep the stack's state in a local file instead of its bucket and roll no bundle out, and stops
 * first, if at all, at init's checksum error, since the lock file names the stand-in's package.
 */
function leftFromRehearsal(stacksDir: string, stacks: readonly string[], env: NodeJS.ProcessEnv): string[] {
  if (env.HCLOUD_TOKEN === STAND_IN_TOKEN) return []; // the rehearsal itself
  return stacks.filter((stack) => fs.existsSync(path.join(stacksDir, stack, OVERRIDE_FILE))).flatMap((stack) => [
    `${path.join(stacksDir, stack, OVERRIDE_FILE)} is left from a rehearsal against the stand-in: Terraform merges it into every command `
      + `in that directory, so a real deploy of ${stack} would keep its state in a local file, not in its bucket, and roll no bundle out.`,
    `    Fix: rm -rf ${shellWord(path.join(stacksDir, stack))} and synthesize again (npx ${ownCdk().command} synth) before deploying for real.`,
  ]);
}

/** What a deploy needs and `terraform plan` does not: the SSH agent the rollouts' provisioners log in with. */
const DEPLOY_ONLY: readonly string[] = ['SSH_AUTH_SOCK'];

function parse(argv: readonly string[]): { stacks: string[]; out: string; envExample?: string; plan: boolean } {
  const { stacks, values, switched } = parseStackArgs(argv, ['--out', '--env-example'], 'check', ['--plan']);
  return { stacks, out: values.out ?? defaultSynthOutput(), envExample: values['env-example'], plan: switched.has('plan') };
}

/** What deploying these synthesized stacks needs from the environment. */
export function requirementsOfStacks(stacks: ReadonlyArray<{ name: string; json: any }>): Requirement[] {
  const byName = new Map<string, Requirement>();
  const need = (r: Omit<Requirement, 'stacks'>, stack: string) => {
    // A Terraform variable is one value whatever stack reads it. A credential read for different things is listed
    // once for each: a state bucket of test's project and one of production's need a key of each project, and one
    // line naming the first bucket for both stacks sent the reader to make a single key, which cannot read the other.
    const key = r.variable ? r.name : `${r.name}\n${r.why}`;
    const existing = byName.get(key);
    if (existing) {
      if (!existing.stacks.includes(stack)) existing.stacks.push(stack);
    } else {
      byName.set(key, { ...r, stacks: [stack] });
    }
  };
  for (const { name, json } of stacks) {
    for (const [variable, block] of Object.entries<any>(json.variable ?? {})) {
      if (block?.default !== undefined) continue;
      need({ name: variable, why: String(block?.description ?? 'no description'), sensitive: block?.sensitive === true, variable: true }, name);
    }
    if (json.provider?.hcloud) {
      need({ name: 'HCLOUD_TOKEN', why: "the Hetzner Cloud project's API token (one project per environment)", sensitive: true, variable: false }, name);
    }
    const s3 = json.terraform?.backend?.s3;
    if (s3) {
      // Terraform creates no bucket: without it the first `init` stops at "bucket does not exist".
      const bucket = `the state bucket '${s3.bucket}'${s3.endpoints?.s3 ? ` at ${s3.endpoints.s3}` : ''}, which must exist before the first deploy (create it once in the Hetzner console)`;
      need({ name: 'AWS_ACCESS_KEY_ID', why: `the Object Storage access key of the project holding ${bucket}`, sensitive: false, variable: false }, name);
      need({ name: 'AWS_SECRET_ACCESS_KEY', why: `the Object Storage secret key of the project holding ${bucket}`, sensitive: true, variable: false }, name);
    }
    const rollouts = Object.values<any>(json.resource?.terraform_data ?? {})
      .filter((r) => JSON.stringify(r.provisioner ?? []).includes('sovereign-rollout apply'));
    if (rollouts.some((r) => r.connection?.private_key === undefined)) {
      need({ name: 'SSH_AUTH_SOCK', why: "an SSH agent holding the admin key: each deploy rolls the machines' bundles out over SSH as root", sensitive: false, variable: false }, name);
    }
  }
  return [...byName.values()];
}

/**
 * The test stack's restore drill reads production's backups with its own copies of production's secrets: some must
 * hold production's value, and some must not.
 */
const DRILL_PAIRS: ReadonlyArray<{ production: string; test: string; same: boolean; why: string; fix: string; normalize?: (v: string) => string }> = [
  {
    ...DRILL_ACCOUNT_PASSWORD_VARIABLES, same: true,
    why: "production creates the restore drill's read-only Storage Box sub-account with the first, and the test machine's weekly drill logs in with the second, so it would fail every week.",
    fix: `set TF_VAR_${DRILL_ACCOUNT_PASSWORD_VARIABLES.test} to the value of TF_VAR_${DRILL_ACCOUNT_PASSWORD_VARIABLES.production} (one secret in your store for both).`,
  },
  ...(['endpoint', 'bucket'] as const).map((detail) => ({
    ...OFFSITE_DRILL_VARIABLES[detail], same: true,
    // https://s3.example.eu and https://s3.example.eu/ name one endpoint.
    normalize: detail === 'endpoint' ? (v: string) => v.trim().replace(/\/+$/, '') : undefined,
    why: `production's backups go to the offsite bucket the first names, and the test machine's weekly drill reads the one the second names, so it would fail every week or prove another bucket.`,
    fix: `set TF_VAR_${OFFSITE_DRILL_VARIABLES[detail].test} to the value of TF_VAR_${OFFSITE_DRILL_VARIABLES[detail].production}.`,
  })),
  ...(['accessKeyId', 'secretAccessKey'] as const).map((detail) => ({
    ...OFFSITE_DRILL_VARIABLES[detail], same: false,
    why: "the always-on test machine would hold production's writing key to the offsite bucket, and whoever takes it over could delete the copy that is to survive losing Hetzner.",
    fix: `create a read-only key for the bucket at its provider and set TF_VAR_${OFFSITE_DRILL_VARIABLES.accessKeyId.test} and TF_VAR_${OFFSITE_DRILL_VARIABLES.secretAccessKey.test} to it.`,
  })),
];

/** The drill's pairs of variables (names only, never the values) that differ where they must be one value, or are one where they must differ. */
function mismatchedPairs(requirements: readonly Requirement[], env: NodeJS.ProcessEnv): string[] {
  return DRILL_PAIRS.flatMap(({ production, test, same, why, fix, normalize = (v: string) => v }) => {
    if (!requirements.some((r) => r.variable && (r.name === production || r.name === test))) return [];
    const [a, b] = [env[`TF_VAR_${production}`], env[`TF_VAR_${test}`]];
    if (!a || !b || (normalize(a) === normalize(b)) === same) return [];
    return [`TF_VAR_${production} and TF_VAR_${test} ${same ? 'differ' : 'hold the same value'}: ${why}`, `    Fix: ${fix}`];
  });
}

/** The name a requirement is set under in the environment: TF_VAR_<name> for a Terraform variable. */
function environmentNameOf(r: Requirement): string {
  return r.variable ? `TF_VAR_${r.name}` : r.name;
}

/**
 * The requirements whose value holds a carriage return (names only, never the values): a .env saved with Windows line
 * endings and loaded in a POSIX shell (`set -a; . ./.env`) ends every value with one. Terraform then sets a password
 * with it, and the provider refuses a token with it in the Authorization header.
 */
export function withCarriageReturns(requirements: readonly Requirement[], env: NodeJS.ProcessEnv): string[] {
  return carriageReturnsIn(requirements.map(environmentNameOf), env);
}

/** The variables of `names` whose value holds a carriage return, as withCarriageReturns says it (names only, never the values). */
export function carriageReturnsIn(variables: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const names = [...new Set(variables)].filter((name) => env[name]?.includes('\r'));
  if (names.length === 0) return [];
  return [`${names.join(', ')} ${names.length === 1 ? 'holds' : 'hold'} a carriage return (\\r): the file ${names.length === 1 ? 'it was' : 'they were'} loaded from has Windows line endings, `
    + 'and the value would be deployed with it (a password that no login matches, a token the API refuses).',
  "    Fix: convert the file to Unix line endings (dos2unix .env, or sed -i 's/\\r$//' .env), load it again, then check again."];
}

/** The requirements `env` leaves unset (or empty), by the names they are set under (TF_VAR_<name> for a variable). */
export function unsetRequirements(requirements: readonly Requirement[], env: NodeJS.ProcessEnv): string[] {
  return [...new Set(requirements.filter((r) => !isSet(env, r)).map(environmentNameOf))];
}

function isSet(env: NodeJS.ProcessEnv, r: Requirement): boolean {
  const value = env[environmentNameOf(r)];
  return value !== undefined && value !== '';
}

/** The environments a secret can be one of, as the suffix of its variable (`database_app_password_production`). */
const ENVIRONMENT_NAMES = Environment.all().map((e) => e.name);
const ENVIRONMENT_SUFFIX = new RegExp(`^(.+)_(${ENVIRONMENT_NAMES.join('|')})$`);

/**
 * The sensitive variables of one kind whose per-environment values are equal (`TF_VAR_database_app_password_test` and
 * `…_production`): read from the environment, for the stacks checked and for the other environments set beside them.
 */
export function sharedAcrossEnvironments(requirements: readonly Requirement[], env: NodeJS.ProcessEnv): string[][] {
  const kinds = new Set(requirements.filter((r) => r.variable && r.sensitive).map((r) => ENVIRONMENT_SUFFIX.exec(r.name)?.[1]).filter((k): k is string => k !== undefined));
  const shared: string[][] = [];
  for (const kind of [...kinds].sort()) {
    const byValue = new Map<string, string[]>();
    for (const environment of ENVIRONMENT_NAMES) {
      const name = `TF_VAR_${kind}_${environment}`;
      const value = env[name];
      if (value === undefined || value === '') continue;
      byValue.set(value, [...(byValue.get(value) ?? []), name]);
    }
    shared.push(...[...byValue.values()].filter((names) => names.length > 1));
  }
  return shared;
}

/** How to set `name` (r's name in the environment `env`), for stacks synthesized into `out` (of which `stacks` are there). */
function howToSet(r: Requirement, name: string, env: NodeJS.ProcessEnv, out: string, stacks: readonly string[]): string {
  const output = r.variable ? (DRILL_SOURCE_OUTPUTS as Record<string, string>)[r.name] : undefined;
  // The test stack's drill reads production's read-only account: its address comes from production's state.
  const production = r.stacks.map((s) => s.replace(/-test$/, '-production')).find((s) => stacks.includes(s));
  if (output !== undefined && production !== undefined) {
    return `deploy ${production} first, then export ${name}=$(terraform ${shellWord(`-chdir=${path.join(out, 'stacks', production)}`)} output -raw ${output})`;
  }
  // Before 0.2 one name served every environment (TF_VAR_database_app_password): a value under it is not read any more.
  const kind = r.variable ? ENVIRONMENT_SUFFIX.exec(r.name)?.[1] : undefined;
  if (kind !== undefined && (env[`TF_VAR_${kind}`] ?? '') !== '') {
    return `TF_VAR_${kind} is set, but each environment now has its own: export ${name}=… with this environment's own value (not the one of TF_VAR_${kind}, `
      + `which other environments had too), from its secret store; see ${docPath('upgrading-from-0.1.md')}`;
  }
  if (r.name === 'SSH_AUTH_SOCK') return 'eval "$(ssh-agent)" && ssh-add <admin key file>, from a host in the admin networks';
  if (r.sensitive) return `export ${name}=… from your secret store (CI: a masked secret variable); never in a file in the repository`;
  return `export ${name}=…`;
}

/** A `.env.example`: every variable the stacks declare, what it is for, and which stacks read it; loaded before `cdk`'s deploy. */
export function environmentExample(requirements: readonly Requirement[], cdk: Cdk): string {
  const lines = ['# The variables the stacks need at deploy (generated by `cdktf-sovereign-hetzner check --env-example`).',
    `# Copy to .env (never commit it), fill in, and load it before ${cdk.command} deploy; secrets belong in your CI's secret store.`, ''];
  for (const r of [...requirements].sort((a, b) => a.name.localeCompare(b.name))) {
    lines.push(`# ${r.why}${r.sensitive ? ' (secret)' : ''}. Read by ${r.stacks.join(', ')}.`, `TF_VAR_${r.name}=`, '');
  }
  return `${lines.join('\n')}`;
}
