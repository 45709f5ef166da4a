import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { phase1Pilot } from '../../examples/phase1-pilot';
import { runCli } from '../../cli/run-cli';
import { synthesizedStackNames } from '../../lib/cost/synthesized-stacks';
import { HetznerStandIn, placeholderVariables, StandInWorkspace } from '../../testing';

/**
 * The account home the in-process CLI is told it runs in (CliIo.accountHome): none, so that the release's cover of
 * `~/.ssh` depends on no developer's own; a test of it passes a fixture.
 */
export const NO_ACCOUNT_HOME = { accountHome: '/nonexistent' } as const;

/** Runs the CLI in-process with `env` as its whole environment, and returns its exit code and what it printed on stdout and stderr. */
export async function cli(args: string[], env: NodeJS.ProcessEnv = {}, accountHome: string = NO_ACCOUNT_HOME.accountHome) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { env, accountHome, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** A release's text with what changes on each run read as the same: its ID as RELEASE_ID, its outputs file's directory as $TMP. */
export function sameRelease(text: string): string {
  return text.replace(/\d{8}-\d{6}-[0-9a-f]{6}/g, 'RELEASE_ID').split(path.join(os.tmpdir(), 'release-RELEASE_ID-outputs.json')).join('$TMP/release-RELEASE_ID-outputs.json');
}

/** Runs `guard` in-process (see cli). */
export const guard = (args: string[], env: NodeJS.ProcessEnv) => cli(['guard', ...args], env);

/**
 * A stack applied once through the stand-in, laid out as `cdktf synth` writes it (OUTDIR/stacks/STACK) for `guard --out`
 * to read, with a simulated project of its own; and the environment guard then runs with.
 */
export function deployedForGuard(standIn: HetznerStandIn, outdir: string, stack: string, json: unknown): { ws: StandInWorkspace; env: NodeJS.ProcessEnv } {
  const cloudFile = path.join(outdir, `${stack}.cloud.json`);
  const ws = new StandInWorkspace(standIn, path.join(outdir, 'stacks', stack), cloudFile).setConfiguration(json);
  const applied = ws.apply();
  if (!applied.ok) throw new Error(applied.stdout + applied.stderr);
  return { ws, env: { ...standIn.env(cloudFile), ...placeholderVariables(json) } };
}

/**
 * Everything the stacks synthesized in `outdir` need from the environment to deploy (`check` passes): a placeholder
 * for each variable without a default, the token, the state bucket's keys and an SSH agent's socket.
 */
export function deployEnvironment(outdir: string): NodeJS.ProcessEnv {
  const variables = synthesizedStackNames(outdir)
    .map((stack) => placeholderVariables(JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', stack, 'cdk.tf.json'), 'utf8')), {}));
  const placeholders: Record<string, string> = Object.assign({}, ...variables);
  return {
    ...placeholders, HCLOUD_TOKEN: 'stand-in-hcloud-token', AWS_ACCESS_KEY_ID: 'stand-in-access-key',
    AWS_SECRET_ACCESS_KEY: 'stand-in-secret-key', SSH_AUTH_SOCK: path.join(outdir, 'no-agent.sock'),
  };
}

/**
 * A fresh work directory holding the Phase 1 example synthesized into its `cdktf.out`, as `cdktf synth` writes it;
 * removed after the calling file's tests.
 */
export function synthesizedPilotWorkDirectory(prefix: string): { work: string; outdir: string } {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
  const outdir = path.join(work, 'cdktf.out');
  const app = new App({ outdir });
  phase1Pilot(app);
  app.synth();
  return { work, outdir };
}
