import { PACKAGE_NAME } from '../core/private/package-name';
import { EnvironmentRecord } from './product-documents';

/** A Hetzner project of the release, when each environment has one: test's, or production's (where staging lives too). */
export type ReleaseProject = 'test' | 'production';

/** The projects of the release, in the order their variables are named. */
export const RELEASE_PROJECTS: readonly ReleaseProject[] = ['test', 'production'];

/** One step of the release path: a title and the exact command it runs. */
export interface ReleaseStep {
  readonly title: string;
  /** The command as argv; `env` holds variables set for it alone. */
  readonly command: readonly string[];
  /**
   * Variables set for this step alone, on top of the caller's environment.
   * @default - none: the caller's environment as it is
   */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Steps that must run even after a later step failed (taking staging down).
   * @default false
   */
  readonly cleanup?: boolean;
  /**
   * The title of the step a clean-up step undoes: it runs only once that step has started (staging is not taken down
   * when the release stopped before bringing it up).
   * @default - it runs whenever it is reached
   */
  readonly undoes?: string;
  /**
   * The step's standard output is the production snapshot ID used by later steps.
   * @default false
   */
  readonly producesSnapshotId?: boolean;
  /**
   * The Hetzner project the step acts in, when it acts in one: test's, or production's (the snapshot, and staging
   * built from it, which can only use it there).
   * @default - none: the step runs with the caller's `HCLOUD_TOKEN`, never a project's own token variable
   */
  readonly project?: ReleaseProject;
  /**
   * The Hetzner project whose Object Storage holds the state the step reads: test's for test's stack, production's for
   * production's and staging's (staging's bucket defaults to production's, and staging lives in production's project).
   * @default - none: the step reads no state, and runs with the caller's `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`
   */
  readonly stateProject?: ReleaseProject;
  /**
   * The stack the step rehearses on: the step is the app team's command, and runs without any Hetzner token, state key
   * pair, SSH agent, AWS or hcloud configuration of the runner's (profiles, contexts, `~/.aws`) or `TF_VAR_` that stack
   * does not read. Production's token or state key pair (which staging's state is read with) let a rehearsal script
   * touch production; it reads the stack's outputs from REHEARSAL_OUTPUTS instead.
   * @default - none: a step of the release's own, run with the caller's environment
   */
  readonly rehearsesOn?: string;
  /**
   * The step is production's guard, whose plan reads production's state: the release has it write the SSH keys that
   * state registers (keys the release removes, which production accepts until its deploy) before the rehearsal.
   * @default false
   */
  readonly readsStateKeys?: boolean;
}

export interface ReleasePlanOptions {
  /** The environments of the product, as written to `products/<product>/environments.json`. */
  readonly environments: readonly EnvironmentRecord[];
  /** The command that rehearses the release against staging (or the test machine), such as `npm run e2e`. */
  readonly rehearse: readonly string[];
  /** When the staging environment expires (`YYYY-MM-DD`), if one is brought up. */
  readonly stagingExpiresAt: string;
  /** The release's ID, which its claim on staging carries (`newReleaseId`). */
  readonly releaseId: string;
  /**
   * The file the deploy of the stack rehearsed on writes its outputs to (`--outputs-file`, sensitive ones left out),
   * which the rehearsal reads as REHEARSAL_OUTPUTS.
   */
  readonly outputsFile: string;
  /**
   * The release's date (`YYYY-MM-DD`), in the pre-release snapshot's description.
   * @default - today, UTC
   */
  readonly releaseDate?: string;
  /**
   * Snapshot production before the release: the pre-release backup, and the image staging is built from.
   * @default true when the product has a staging stack or production's backup plan asks for it
   */
  readonly snapshot?: boolean;
  /**
   * The synthesized output the release read, which the production plan's guard reads too.
   * @default 'cdktf.out'
   */
  readonly outdir?: string;
  /**
   * The CDK's command the deploys run: `cdktn` under CDK Terrain, whose CLI has no `cdktf` (npx would look for one
   * on the registry).
   * @default 'cdktf'
   */
  readonly cdkCommand?: 'cdktf' | 'cdktn';
}

/** The server the release path snapshots before a release: production's app server, such as `acme-production-app`. */
export function preReleaseSnapshotServer(productionStack: string): string {
  return productionStack.replace(/-production$/, '-production-app');
}

/** The placeholder that stands for the snapshot ID until the snapshot step has run. */
export const SNAPSHOT_ID = '${SNAPSHOT_ID}';

/**
 * The one release path: guard production's plan → deploy test → (optionally) snapshot production → claim staging (no
 * other release holds it, none left it up) → bring staging up (from the snapshot, if taken) → rehearse → take staging
 * down → give up the claim → deploy production. Pure: it only lists commands.
 */
export function releasePlan(options: ReleasePlanOptions): ReleaseStep[] {
  const byEnvironment = (name: string) => options.environments.find((e) => e.environment === name);
  const test = byEnvironment('test');
  const production = byEnvironment('production');
  if (!test || !production) throw new Error('release: the product needs a test and a production stack. Fix: define both (ProductStacks does).');
  const staging = byEnvironment('staging');
  const snapshot = options.snapshot ?? (staging !== undefined || production.preReleaseSnapshot === true);
  const productionServer = preReleaseSnapshotServer(production.stack);

  const outdir = options.outdir ?? 'cdktf.out';
  // This package's own CLI by its own name: under CDK Terrain, `npx cdktf-sovereign-hetzner` is not installed, and
  // npx would fetch that other package from the registry and run it.
  const library = ['npx', PACKAGE_NAME];
  const cdk = ['npx', options.cdkCommand ?? 'cdktf'];
  const outputs = ['--outputs-file', options.outputsFile];
  const steps: ReleaseStep[] = [
    // First: a plan that would delete a protected production resource (a renamed construct ID) stops the release
    // before anything changes, not after test, staging and the rehearsal.
    {
      title: "guard production's plan (it deletes nothing protected)",
      command: [...library, 'guard', production.stack, ...(outdir === 'cdktf.out' ? [] : ['--out', outdir])],
      project: 'production',
      stateProject: 'production',
      readsStateKeys: true,
    },
    { title: 'deploy test', command: [...cdk, 'deploy', test.stack, '--auto-approve', ...(staging ? [] : outputs)], project: 'test', stateProject: 'test' },
  ];
  if (snapshot) {
    steps.push({
      title: staging ? 'snapshot production (pre-release backup, and the image staging is built from)' : 'snapshot production (pre-release backup)',
      command: [...library, 'snapshot', '--server', productionServer, '--description', `pre-release ${options.releaseDate ?? new Date().toISOString().slice(0, 10)}`],
      producesSnapshotId: true,
      project: 'production',
    });
  }
  const stagingUp = 'bring staging up';
  const claim = 'claim staging (no other release holds it, and none left it up)';
  const claimed = ['--stack', staging?.stack ?? '', '--release', options.releaseId];
  if (staging) {
    // One staging stack for every release: a second release at once rebuilt staging from its own snapshot under the
    // first one's rehearsal, and whichever ended first took staging down under the other. A check that staging is
    // down let two releases at once both pass; a claim is taken by one of them only, before staging is touched.
    steps.push({
      title: claim,
      command: [...library, 'staging', 'claim', ...claimed, '--expires-at', options.stagingExpiresAt],
      project: 'production',
    });
    steps.push({
      title: stagingUp,
      command: [...cdk, 'deploy', staging.stack, '--auto-approve', ...(snapshot ? [`--var=staging_image=${SNAPSHOT_ID}`] : []), ...outputs],
      env: { STAGING_EXPIRES_AT: options.stagingExpiresAt },
      project: 'production',
      stateProject: 'production',
    });
  }
  // An app that has a staging stack only while STAGING_EXPIRES_AT is set (init's, the README's) has none without it: a
  // rehearsal that synthesizes the app again (`cdktf synth`) would find no staging to rehearse on.
  steps.push({
    title: staging ? 'rehearse on staging' : 'rehearse on the test machine (staging reuses it)',
    command: [...options.rehearse],
    env: { ...(staging ? { STAGING_EXPIRES_AT: options.stagingExpiresAt } : {}), REHEARSAL_OUTPUTS: options.outputsFile },
    rehearsesOn: (staging ?? test).stack,
  });
  if (staging) {
    steps.push({
      title: 'take staging down',
      command: [...cdk, 'destroy', staging.stack, '--auto-approve'],
      env: { STAGING_EXPIRES_AT: options.stagingExpiresAt },
      cleanup: true,
      undoes: stagingUp,
      project: 'production',
      stateProject: 'production',
    });
    // Only once staging is down (the command refuses otherwise), and only this release's claim.
    steps.push({
      title: 'give up the claim on staging',
      command: [...library, 'staging', 'unclaim', ...claimed],
      cleanup: true,
      undoes: claim,
      project: 'production',
    });
  }
  steps.push({ title: 'deploy production', command: [...cdk, 'deploy', production.stack, '--auto-approve'], project: 'production', stateProject: 'production' });
  return steps;
}

/** The variable holding the token of a project's steps, when each environment has a project (and token) of its own. */
export function projectTokenVariable(project: ReleaseProject): string {
  return `HCLOUD_TOKEN_${project.toUpperCase()}`;
}

/** The variables Terraform's S3 backend reads a state bucket's Object Storage key pair from. */
export const STATE_KEY_VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;

/** One of the variables a state bucket's key pair is read from. */
export type StateKeyVariable = typeof STATE_KEY_VARIABLES[number];

/**
 * The variable holding a project's part of its state key pair, such as `AWS_ACCESS_KEY_ID_TEST`, when each project's
 * state has a key pair of its own: an Object Storage key reads only its own project's buckets.
 */
export function projectStateKeyVariable(name: StateKeyVariable, project: ReleaseProject): string {
  return `${name}_${project.toUpperCase()}`;
}

/** The project whose token and state key pair a stack of `environment` is released with: staging's are production's. */
export function releaseProjectOf(environment: string): ReleaseProject {
  return environment === 'test' ? 'test' : 'production';
}

/** Which per-project variables the release reads: project tokens (HCLOUD_TOKEN_…), state key pairs (AWS_…_TEST, …). */
export interface ReleaseCredentials {
  /** @default false - every step runs with HCLOUD_TOKEN */
  readonly projectTokens?: boolean;
  /** @default false - every step runs with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY */
  readonly projectStateKeys?: boolean;
}

/**
 * What a step's environment takes from the per-project variables, as the names it is set under and the variables the
 * value comes from: `HCLOUD_TOKEN` from `HCLOUD_TOKEN_TEST`, say.
 */
export function stepCredentialSources(step: ReleaseStep, credentials: ReleaseCredentials): Array<[string, string]> {
  const token: Array<[string, string]> = credentials.projectTokens && step.project ? [['HCLOUD_TOKEN', projectTokenVariable(step.project)]] : [];
  const stateProject = step.stateProject;
  const keys: Array<[string, string]> = credentials.projectStateKeys && stateProject
    ? STATE_KEY_VARIABLES.map((name) => [name, projectStateKeyVariable(name, stateProject)]) : [];
  return [...token, ...keys];
}

/**
 * A step as one shell line, quoted so that it can be pasted. With per-project credentials, a step names the variables
 * of its project's token and state key pair (never their values).
 */
export function shellLine(step: ReleaseStep, options: ReleaseCredentials = {}): string {
  const quote = (arg: string) => (/^[A-Za-z0-9_\-.,/:=@${}]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);
  const credentials = stepCredentialSources(step, options).map(([name, source]) => `${name}=\${${source}}`);
  const env = [...credentials, ...Object.entries(step.env ?? {}).map(([k, v]) => `${k}=${quote(v)}`)];
  const line = [...env, ...step.command.map(quote)].join(' ');
  return step.producesSnapshotId ? `SNAPSHOT_ID=$(${line})` : line;
}
