import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { sshKeyFingerprint, sshKeyMaterial } from '../lib/hetzner/private/openssh-public-key';

/**
 * The entries of an account's `~/.ssh` that let no ssh log in anywhere: known hosts, authorized keys and allowed
 * signers, the server side's `rc` and `environment`, public keys and certificates (`*.pub`, useless without their
 * private key), macOS Finder's `.DS_Store`. Any other entry is looked at (see reachingEntries).
 */
const HARMLESS_SSH_ENTRY = /^(known_hosts2?(\.old)?|known_hosts\.d|authorized_keys2?|allowed_signers|rc|environment|\.DS_Store|.+\.pub)$/;

/**
 * Directives of `~/.ssh/config` that give ssh a key the release cannot look at: an agent (`IdentityAgent`, such as
 * 1Password's), a hardware token, another file of configuration, an identity file outside `~/.ssh`.
 */
const CONFIG_KEY_SOURCES = /^\s*(IdentityAgent|IdentityFile|Include|PKCS11Provider|SecurityKeyProvider)(?:\s*=\s*|\s+)(.*?)\s*$/gim;

/**
 * Bind-mounts $1 over $2, then runs the rest: sh's positional parameters, never a word of the rehearsal's in the script.
 * A failed mount says so on a line of its own: its exit code alone would read as the rehearsal's.
 */
const BIND_THEN = 'mount --bind "$1" "$2" || { echo "release: could not mount the rehearsal\'s ~/.ssh over $2" >&2; exit 125; }; shift 2; exec';

/**
 * How the rehearsal is kept from the runner account's `~/.ssh`, which every OpenSSH client finds by the account's entry
 * in the password database, whatever HOME says: the stand-ins on PATH cover `ssh`, but not `/usr/bin/ssh` run by its
 * path, `env -i ssh` or a GIT_SSH_COMMAND of either. Where that directory holds something that may log in to
 * production (see reachingEntries), `wrap` runs a command with it replaced by the rehearsal's own `~/.ssh` (the same
 * configuration the stand-ins read), in a mount namespace of its own; `exposed` names those entries where it cannot be
 * replaced (a refusal, see accountSshRefusal, unless --accept-account-ssh).
 */
export interface AccountSshCover {
  /** `command` with the account's `~/.ssh` replaced by `sshDir` while it runs, or `command` itself. */
  wrap(command: readonly string[], sshDir: string): string[];
  /** Whether `wrap` runs the command in a mount namespace. */
  readonly namespaced: boolean;
  /** The account's `~/.ssh`, in the password database's home. */
  readonly dir: string;
  /** Its entries that may log in to production, each with why, where they cannot be replaced; empty otherwise. */
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

/** A private key file's public key (`ssh-keygen -y`, else its `.pub`), as type and base64; undefined where neither can be read. */
function publicKeyOf(file: string): string | undefined {
  const derived = spawnSync('ssh-keygen', ['-y', '-P', '', '-f', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  if (derived.status === 0 && derived.stdout.trim()) return sshKeyMaterial(derived.stdout);
  try {
    return sshKeyMaterial(fs.readFileSync(`${file}.pub`, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * The entries of `dir` (an account's `~/.ssh`) that may log in to production, each with why: a private key whose
 * public key is one of `productionKeys` (each as type and base64), or any private key while they are not known; a key
 * whose public key cannot be read (a passphrase, and no `.pub`), an unreadable entry, a socket (a control master's) or
 * a directory; a `config` naming a key the release cannot look at (CONFIG_KEY_SOURCES). A file holding no private key
 * (a note, a `.ppk`) logs in nowhere. A key production does not accept (a laptop's GitHub key) is no risk to it.
 */
export function reachingEntries(dir: string, productionKeys: ReadonlySet<string> | undefined): string[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    // Unreadable to the account, unreadable to its ssh.
    return [];
  }
  const reaching: string[] = [];
  for (const name of entries.filter((entry) => !HARMLESS_SSH_ENTRY.test(entry)).sort()) {
    const file = path.join(dir, name);
    let text: string;
    try {
      const stat = fs.statSync(file);
      if (!stat.isFile()) {
        reaching.push(`${name} (${stat.isSocket() ? 'a socket: a control master\'s connection' : 'not a file'})`);
        continue;
      }
      text = fs.readFileSync(file, 'utf8');
    } catch {
      reaching.push(`${name} (unreadable here)`);
      continue;
    }
    if (name === 'config') {
      const sources = [...text.matchAll(CONFIG_KEY_SOURCES)].filter(([, directive, value]) => {
        const word = value.replace(/^"(.*)"$/, '$1');
        if (/^none$/i.test(word) || (/^IdentityAgent$/i.test(directive) && word === 'SSH_AUTH_SOCK')) return false;
        if (!/^IdentityFile$/i.test(directive)) return true;
        // A file of this directory is looked at as an entry of its own.
        const resolved = word.replace(/^(~|%d)\//, `${path.dirname(dir)}/`);
        return path.dirname(resolved) !== dir || !fs.existsSync(resolved);
      }).map(([, directive, value]) => `${directive} ${value}`);
      if (sources.length > 0) reaching.push(`config (${sources.join(', ')})`);
      continue;
    }
    if (!text.includes('PRIVATE KEY')) continue;
    const key = publicKeyOf(file);
    if (key === undefined) reaching.push(`${name} (a private key whose public key cannot be read: a passphrase, and no ${name}.pub)`);
    else if (productionKeys === undefined) reaching.push(`${name} (${sshKeyFingerprint(key)}; the keys production accepts are not known)`);
    else if (productionKeys.has(key)) reaching.push(`${name} (${sshKeyFingerprint(key)}, a key production accepts)`);
  }
  return reaching;
}

/** Why unshare failed, with the fix of the two usual causes. */
function unshareFailure(tried: ReturnType<typeof spawnSync>): string {
  const stderr = String(tried.stderr ?? '');
  const first = tried.error ? tried.error.message : (stderr.trim().split('\n')[0] || `exit code ${tried.status}`);
  let restricted = '';
  try {
    restricted = fs.readFileSync('/proc/sys/kernel/apparmor_restrict_unprivileged_userns', 'utf8').trim();
  } catch {
    // Not Ubuntu's AppArmor.
  }
  const cause = /unrecognized option.*map-user/.test(stderr)
    ? '; --map-user needs util-linux 2.38 or later (Ubuntu 22.04 has 2.37)'
    : process.getuid!() !== 0 && restricted === '1'
      ? '; kernel.apparmor_restrict_unprivileged_userns is 1 (the default of Ubuntu 24.04, GitHub\'s ubuntu-latest among them): on a runner '
        + 'thrown away after the job, `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`; elsewhere an AppArmor profile letting unshare create user namespaces'
      : '';
  return `unshare could not hide it (${first})${cause}`;
}

/**
 * Decides how the rehearsal is kept from the runner account's `~/.ssh` (see AccountSshCover), `home` being the
 * account's home in the password database. Where that directory holds nothing that may log in to production (see
 * reachingEntries), nothing is done: a namespace would cost the rehearsal sudo for nothing. On Linux, the namespaces
 * are tried once here (the same command, with `true`): a kernel, container or AppArmor policy may refuse them, or
 * util-linux be older than 2.38 (no --map-user). On macOS, and where they are refused, `exposed` lists those entries.
 */
export function accountSshCover(env: NodeJS.ProcessEnv, home: string, productionKeys: ReadonlySet<string> | undefined): AccountSshCover {
  const dir = path.join(home, '.ssh');
  const unchanged = { wrap: (command: readonly string[]) => [...command], namespaced: false, dir, exposed: [] };
  const reaching = fs.existsSync(dir) ? reachingEntries(dir, productionKeys) : [];
  if (reaching.length === 0) return unchanged;
  let why = `on ${process.platform} no mount namespace can hide it from a process of the same account`;
  if (process.platform === 'linux') {
    const wrap = linuxWrap(dir);
    const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'sovereign-rehearsal-ssh-probe-'));
    try {
      const [program, ...rest] = wrap(['true'], probe);
      const tried = spawnSync(program, rest, { env, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
      if (tried.status === 0) return { wrap, namespaced: true, dir, exposed: [] };
      why = unshareFailure(tried);
    } finally {
      fs.rmSync(probe, { recursive: true, force: true });
    }
  }
  return { ...unchanged, exposed: reaching, why };
}

/** The flag that lets the rehearsal read the account's ~/.ssh where it cannot be replaced, on purpose. */
export const ACCEPT_ACCOUNT_SSH = 'accept-account-ssh';

/** Why the release refuses a cover that leaves something exposed, and what to do, or undefined. */
export function accountSshRefusal(cover: AccountSshCover): { problem: string; fix: string } | undefined {
  if (cover.exposed.length === 0) return undefined;
  return {
    problem: `the rehearsal would read ${cover.dir} (${cover.exposed.join(', ')}): an ssh it runs by its path (/usr/bin/ssh, \`env -i ssh\`, `
      + 'a GIT_SSH_COMMAND of either) finds ~/.ssh by the account\'s entry in the password database, whatever HOME says, and offers its keys '
      + "and follows its configuration: production's admin key, which staging built from production's snapshot accepts too. "
      + `The rehearsal's own ~/.ssh cannot replace it: ${cover.why}.`,
    fix: 'Fix: release from an account whose ~/.ssh holds no key production accepts (give the release its keys through an SSH agent: '
      + 'SSH_AUTH_SOCK, which the rehearsal never gets), or pass '
      + `--${ACCEPT_ACCOUNT_SSH} to rehearse with that ~/.ssh readable on purpose (the rehearsal keeps its own HOME, ssh stand-ins and withheld variables).`,
  };
}

/** What --accept-account-ssh leaves readable, as a warning. */
export function accountSshWarning(cover: AccountSshCover): string {
  return `release: warning: --${ACCEPT_ACCOUNT_SSH}: the rehearsal can read ${cover.dir} (${cover.exposed.join(', ')}): an ssh it runs by its path `
    + `(/usr/bin/ssh, \`env -i ssh\`) logs in with them to staging and production (${cover.why}).`;
}
