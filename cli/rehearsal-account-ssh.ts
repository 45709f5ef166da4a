import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * The entries of an account's `~/.ssh` that let no ssh log in anywhere: known hosts, authorized keys, public keys and
 * certificates (`*.pub`, useless without their private key). Anything else may: a private key (`id_*` is offered
 * unasked), a configuration (`IdentityFile`, `IdentityAgent` naming the runner's agent, `ProxyCommand`), a control socket.
 */
const HARMLESS_SSH_ENTRY = /^(known_hosts2?(\.old)?|authorized_keys2?|.+\.pub)$/;

/** Bind-mounts $1 over $2, then runs the rest: sh's positional parameters, never a word of the rehearsal's in the script. */
const BIND_THEN = 'mount --bind "$1" "$2" || exit 125; shift 2; exec';

/**
 * How the rehearsal is kept from the runner account's `~/.ssh`, which every OpenSSH client finds by the account's entry
 * in the password database, whatever HOME says: the stand-ins on PATH cover `ssh`, but not `/usr/bin/ssh` run by its
 * path, `env -i ssh` or a GIT_SSH_COMMAND of either. `wrap` runs a command with that directory replaced by the
 * rehearsal's own `~/.ssh` (the same configuration the stand-ins read), in a mount namespace of its own; `exposed`
 * names what it holds that may log in when it cannot be replaced (a refusal, see accountSshRefusal).
 */
export interface AccountSshCover {
  /** `command` with the account's `~/.ssh` replaced by `sshDir` while it runs. */
  wrap(command: readonly string[], sshDir: string): string[];
  /** The account's `~/.ssh`, in the password database's home. */
  readonly dir: string;
  /** Its entries an ssh run by its path would log in with, where they cannot be replaced; empty otherwise. */
  readonly exposed: readonly string[];
  /** Why they cannot be replaced, where they cannot. */
  readonly why?: string;
}

/**
 * Linux: the command in a private mount namespace where `sshDir` is bind-mounted over the account's `~/.ssh`; as root
 * directly, otherwise through a user namespace mapping the account to root for the mount and a nested one mapping it
 * back, so the rehearsal runs as the account (getpwuid, hence ssh, sees it; sudo inside it does not work).
 */
function linuxWrap(dir: string): (command: readonly string[], sshDir: string) => string[] {
  const uid = process.getuid!();
  const gid = process.getgid!();
  return (command, sshDir) => (uid === 0
    ? ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', `${BIND_THEN} "$@"`, 'sh', sshDir, dir, ...command]
    : ['unshare', '--user', '--map-root-user', '--mount', '--propagation', 'private', 'sh', '-c',
      `${BIND_THEN} unshare --user --map-user=${uid} --map-group=${gid} -- "$@"`, 'sh', sshDir, dir, ...command]);
}

/**
 * Decides how the rehearsal is kept from the runner account's `~/.ssh` (see AccountSshCover). Without such a directory
 * there is nothing to hide. On Linux, the namespaces are tried once here (the same command, with `true`): a kernel,
 * container or AppArmor policy may refuse them, or util-linux be older than 2.38 (no --map-user). On macOS, and
 * where they are refused, nothing can hide it: then `exposed` lists what it holds beyond known hosts and public keys.
 */
export function accountSshCover(env: NodeJS.ProcessEnv): AccountSshCover {
  const dir = path.join(os.userInfo().homedir, '.ssh');
  const unchanged = { wrap: (command: readonly string[]) => [...command], dir, exposed: [] };
  if (!fs.existsSync(dir)) return unchanged;
  let why = `on ${process.platform} no mount namespace can hide it from a process of the same account`;
  if (process.platform === 'linux') {
    const wrap = linuxWrap(dir);
    const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'sovereign-rehearsal-ssh-probe-'));
    try {
      const [program, ...rest] = wrap(['true'], probe);
      const tried = spawnSync(program, rest, { env, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
      if (tried.status === 0) return { wrap, dir, exposed: [] };
      why = `unshare could not hide it (${tried.error ? tried.error.message : (tried.stderr.trim().split('\n')[0] || `exit code ${tried.status}`)})`;
    } finally {
      fs.rmSync(probe, { recursive: true, force: true });
    }
  }
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    // Unreadable to the account, unreadable to its ssh.
    return unchanged;
  }
  const exposed = entries.filter((name) => !HARMLESS_SSH_ENTRY.test(name)).sort();
  return { ...unchanged, exposed, ...(exposed.length > 0 ? { why } : {}) };
}

/** Why the release refuses a cover that leaves something exposed, and what to do, or undefined. */
export function accountSshRefusal(cover: AccountSshCover): { problem: string; fix: string } | undefined {
  if (cover.exposed.length === 0) return undefined;
  return {
    problem: `the rehearsal would read ${cover.dir} (${cover.exposed.join(', ')}): an ssh it runs by its path (/usr/bin/ssh, \`env -i ssh\`, `
      + 'a GIT_SSH_COMMAND of either) finds ~/.ssh by the account\'s entry in the password database, whatever HOME says, and offers its keys '
      + "and follows its configuration: production's admin key, which staging built from production's snapshot accepts too. "
      + `The rehearsal's own ~/.ssh cannot replace it: ${cover.why}.`,
    fix: 'Fix: release from an account whose ~/.ssh holds no private key or configuration (give the release its keys through an SSH agent: '
      + 'SSH_AUTH_SOCK, which the rehearsal never gets), or pass --keep-home to rehearse with the runner\'s HOME and ssh on purpose.',
  };
}
