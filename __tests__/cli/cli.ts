import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { phase1Pilot } from '../../examples/phase1-pilot';
import { runCli } from '../../cli/run-cli';
import { synthesizedStackNames } from '../../lib/cost/synthesized-stacks';
import { spawnSync } from 'child_process';
import { HetznerStandIn, placeholderVariables, StandInWorkspace } from '../../testing';
import { javascriptEntry } from '../../testing/harness/transpile-cache';

/**
 * The account home the in-process CLI is told it runs in (CliIo.accountHome): none, so that the release's cover of
 * `~/.ssh` (and the system's ssh configuration) depends on no developer's own; a test of it passes a fixture.
 */
export const NO_ACCOUNT_HOME = { accountHome: '/nonexistent', systemSshConfig: '/nonexistent/ssh_config' } as const;

/** The system ssh configuration the in-process CLI is told of (CliIo.systemSshConfig): none, not the build machine's /etc/ssh/ssh_config. */
export const NO_SYSTEM_SSH_CONFIG = NO_ACCOUNT_HOME.systemSshConfig;

/**
 * Runs the CLI in-process with `env` as its whole environment, and returns its exit code, what it printed on stdout and
 * on stderr, and both in one log in the order printed (as a CI log shows them).
 */
export async function cli(args: string[], env: NodeJS.ProcessEnv = {}, accountHome: string = NO_ACCOUNT_HOME.accountHome, systemSshConfig: string = NO_SYSTEM_SSH_CONFIG) {
  const out: string[] = [];
  const err: string[] = [];
  const log: string[] = [];
  const code = await runCli(args, {
    env, accountHome, systemSshConfig, out: (l) => { out.push(l); log.push(l); }, err: (l) => { err.push(l); log.push(l); },
  });
  const result = { code, out: out.join('\n'), err: err.join('\n') };
  // Not enumerable: tests compare { code, out, err } whole, and the log only repeats them in another order.
  return Object.defineProperty(result, 'log', { value: log.join('\n'), enumerable: false }) as typeof result & { readonly log: string };
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

/**
 * A password database naming `home` as the home of `uid` (this process's account by default; added where the database
 * has no entry for it), written into `dir`: OpenSSH's `~` and Node's os.userInfo() read it, once bind-mounted over
 * /etc/passwd in a mount namespace (ownPasswdView).
 */
export function passwdNaming(dir: string, home: string, uid = os.userInfo().uid): string {
  const file = path.join(dir, `passwd-${path.basename(home)}`);
  const lines = fs.readFileSync('/etc/passwd', 'utf8').trim().split('\n').map((line) => line.split(':'));
  if (!lines.some((f) => f[2] === String(uid))) lines.push(['rehearsal-runner', 'x', String(uid), String(uid), '', home, '/bin/sh']);
  fs.writeFileSync(file, `${lines.map((f) => (f[2] === String(uid) ? [...f.slice(0, 5), home, ...f.slice(6)] : f).join(':')).join('\n')}\n`, { mode: 0o644 });
  return file;
}

/**
 * Mounts "$0" over /etc/passwd and "$1" over /etc/ssh/ssh_config (where there is one), then runs the rest: a view of
 * the machine whose account home and system ssh configuration are a test's.
 */
const OWN_VIEW = 'mount --bind "$0" /etc/passwd && { [ ! -e /etc/ssh/ssh_config ] || mount --bind "$1" /etc/ssh/ssh_config; } && shift && exec "$@"';

/** Whether this machine lets an account that is not root map itself back in nested user namespaces (util-linux 2.38, no AppArmor refusal). */
let nestedUserNamespaces: boolean | undefined;

/**
 * `command` (argv) run where the password database names `home` as the home of the account (`view.uid`'s, as root:
 * the command then changes to it itself) and /etc/ssh/ssh_config is `view.systemConfig` (an empty file of `dir`'s by
 * default), in a mount namespace of its own: the release's cover of ~/.ssh
 * (accountSshCover) reads the account's home there, so a test's outcome depends on no build machine's ~/.ssh,
 * /etc/ssh/ssh_config or agent. As root directly; otherwise in a user namespace mapping the account to root for the
 * mounts and a nested one mapping it back (where this machine has neither, the command as it is: the real home, so a
 * test whose outcome depends on the home is skipped where ownPasswdViewAvailable is false).
 */
export function ownPasswdView(dir: string, home: string, command: readonly string[], view: { systemConfig?: string; uid?: number } = {}): string[] {
  const config = view.systemConfig ?? path.join(dir, 'empty-ssh_config');
  if (view.systemConfig === undefined) fs.writeFileSync(config, '', { mode: 0o644 });
  // The real unshare: the command's PATH may hold a refusing stand-in.
  const unshare = ['/usr/bin/unshare', '/bin/unshare'].find((file) => fs.existsSync(file)) ?? 'unshare';
  const passwd = passwdNaming(dir, home, view.uid);
  if (process.getuid!() === 0) return [unshare, '--mount', '--propagation', 'private', 'sh', '-c', OWN_VIEW, passwd, config, ...command];
  const [uid, gid] = [process.getuid!(), process.getgid!()];
  const nested = [unshare, '--user', '--map-root-user', '--mount', '--propagation', 'private', 'sh', '-c', OWN_VIEW, passwd, config,
    unshare, '--user', `--map-user=${uid}`, `--map-group=${gid}`, '--'];
  return nestedUserNamespacesHere(nested) ? [...nested, ...command] : [...command];
}

/** Whether `nested` (ownPasswdView's nested user namespaces) runs `true` here, asked once. */
function nestedUserNamespacesHere(nested: readonly string[]): boolean {
  nestedUserNamespaces ??= spawnSync(nested[0], [...nested.slice(1), 'true'], { stdio: 'ignore' }).status === 0;
  return nestedUserNamespaces;
}

/**
 * Whether ownPasswdView gives a command a view of its own here (as root, or with nested user namespaces): where it
 * cannot, the command reads the build machine's own home, ~/.ssh and agent, and a release may refuse for them.
 */
export function ownPasswdViewAvailable(): boolean {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'own-view-probe-'));
  try {
    const view = ownPasswdView(dir, dir, ['true']);
    return view[0] !== 'true' && spawnSync(view[0], view.slice(1), { stdio: 'ignore' }).status === 0;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The CLI as a process of its own (`node ENTRY args…`), in a view of the machine where its account's home is an empty
 * directory of `dir`'s and /etc/ssh/ssh_config is empty (see ownPasswdView).
 */
export function cliProcess(dir: string, args: readonly string[]): string[] {
  const home = fs.mkdtempSync(path.join(dir, 'account-home-'));
  return ownPasswdView(dir, home, [process.execPath, javascriptEntry(path.resolve(__dirname, '../../cli/main')), ...args]);
}
