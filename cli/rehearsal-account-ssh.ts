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
 * Directives of ssh's configuration that may log in with something other than a key file of `~/.ssh`: an agent
 * (`IdentityAgent`, such as 1Password's), an identity file elsewhere, a hardware token, another file of configuration
 * (`Include`), a connection shared through a socket elsewhere (`ControlPath`), a command (`ProxyCommand`, `Match exec`).
 */
const CONFIG_KEY_SOURCES = /^\s*(IdentityAgent|IdentityFile|Include|PKCS11Provider|SecurityKeyProvider|ControlPath|ProxyCommand|Match)(?:\s*=\s*|\s+)(.*?)\s*$/gim;

/** OpenSSH's limit on nested `Include`s. */
const INCLUDE_DEPTH = 16;
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
  /** The account's `~/.ssh`, in the password database's home; undefined for a uid without an entry there, whose ssh finds none. */
  readonly dir?: string;
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
 * Why the private key in `file` may log in to production, or undefined: its public key is one of `productionKeys`
 * (each as type and base64), or any key while they are not known; or its public key cannot be read (a passphrase, and
 * no `.pub`). A file holding no private key (a note, a `.ppk`) logs in nowhere. A key production does not accept (a
 * laptop's GitHub key) is no risk to it.
 */
function keyReaching(file: string, text: string, productionKeys: ReadonlySet<string> | undefined): string | undefined {
  if (!text.includes('PRIVATE KEY')) return undefined;
  const key = publicKeyOf(file);
  if (key === undefined) return `a private key whose public key cannot be read: a passphrase, and no ${path.basename(file)}.pub`;
  if (productionKeys === undefined) return `${sshKeyFingerprint(key)}; the keys production accepts are not known`;
  return productionKeys.has(key) ? `${sshKeyFingerprint(key)}, a key production accepts` : undefined;
}

/** A path of ssh's configuration with `~` and `%d` (the account's home) resolved; undefined where another token or a variable is in it. */
function configPath(word: string, home: string): string | undefined {
  const resolved = word.replace(/^(~|%d)\//, `${home}/`);
  return /[%$]/.test(resolved) ? undefined : resolved;
}

/** The files an `Include` word names: relative to `dir`, its last part a glob; undefined where that cannot be told. */
function includedFiles(word: string, dir: string, home: string): string[] | undefined {
  const resolved = configPath(word, home);
  if (resolved === undefined) return undefined;
  const pattern = path.resolve(dir, resolved);
  if (/[*?[]/.test(path.dirname(pattern))) return undefined;
  const glob = new RegExp(`^${path.basename(pattern).replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  try {
    return fs.readdirSync(path.dirname(pattern)).filter((name) => glob.test(name)).sort().map((name) => path.join(path.dirname(pattern), name));
  } catch {
    // A missing directory: ssh includes nothing from it.
    return [];
  }
}

/**
 * The directives of a configuration `text` (`~/.ssh/config`, or a file it includes) that may log in to production,
 * each with why: an `IdentityAgent` (but `SSH_AUTH_SOCK`, which the rehearsal is not given), a hardware token, a
 * `ControlPath` outside `dir`, a `ProxyCommand` or a `Match exec` (conservatively: what they run is not known), an
 * `IdentityFile` outside `dir` holding a key that may (see keyReaching) or that cannot be told (a token, a relative
 * path, unreadable); and those of the files an `Include` names. A file of `dir` is judged as an entry of its own; a
 * path that names no file (a leftover line) gives ssh nothing.
 */
function configReaching(text: string, dir: string, productionKeys: ReadonlySet<string> | undefined, depth: number): string[] {
  const home = path.dirname(dir);
  return [...text.matchAll(CONFIG_KEY_SOURCES)].flatMap(([, directive, value]): string[] => {
    const said = `${directive} ${value}`;
    const word = value.replace(/^"(.*)"$/, '$1');
    const kind = directive.toLowerCase();
    if (kind === 'match') return /(^|\s)!?exec(\s|$)/i.test(value) ? [said] : [];
    if (/^none$/i.test(word) || (kind === 'identityagent' && word === 'SSH_AUTH_SOCK')) return [];
    if (kind === 'include') {
      if (depth >= INCLUDE_DEPTH) return [said];
      return value.split(/\s+/).flatMap((part) => {
        const files = includedFiles(part.replace(/^"(.*)"$/, '$1'), dir, home);
        if (files === undefined) return [`Include ${part}`];
        return files.flatMap((file) => {
          try {
            return configReaching(fs.readFileSync(file, 'utf8'), dir, productionKeys, depth + 1).map((why) => `${why} in ${file}`);
          } catch {
            return fs.existsSync(file) ? [`Include ${file} (unreadable here)`] : [];
          }
        });
      });
    }
    // A socket in `dir` is an entry of its own; its name's tokens (%C) do not matter.
    if (kind === 'controlpath') return configPath(path.dirname(word), home) === dir ? [] : [said];
    const file = kind === 'identityfile' ? configPath(word, home) : undefined;
    if (file === undefined || !path.isAbsolute(file)) return [said];
    if (path.dirname(file) === dir) return [];
    let keyText: string;
    try {
      keyText = fs.readFileSync(file, 'utf8');
    } catch {
      return fs.existsSync(file) ? [`${said} (unreadable here)`] : [];
    }
    const why = keyReaching(file, keyText, productionKeys);
    return why === undefined ? [] : [`${said} (${why})`];
  });
}

/**
 * The entries of `dir` (an account's `~/.ssh`) that may log in to production, each with why: a private key that may
 * (see keyReaching); an unreadable entry, a socket (a control master's) or a directory; a `config` that may (see
 * configReaching).
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
    const why = name === 'config' ? configReaching(text, dir, productionKeys, 0).join(', ') || undefined : keyReaching(file, text, productionKeys);
    if (why !== undefined) reaching.push(`${name} (${why})`);
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
 * account's home in the password database (undefined for a uid without an entry: no `~/.ssh`). Where that directory holds nothing that may log in to production (see
 * reachingEntries), nothing is done: a namespace would cost the rehearsal sudo for nothing. On Linux, the namespaces
 * are tried once here (the same command, with `true`): a kernel, container or AppArmor policy may refuse them, or
 * util-linux be older than 2.38 (no --map-user). On macOS, and where they are refused, `exposed` lists those entries.
 */
export function accountSshCover(env: NodeJS.ProcessEnv, home: string | undefined, productionKeys: ReadonlySet<string> | undefined): AccountSshCover {
  const dir = home === undefined ? undefined : path.join(home, '.ssh');
  const unchanged = { wrap: (command: readonly string[]) => [...command], namespaced: false, dir, exposed: [] };
  const reaching = dir !== undefined && fs.existsSync(dir) ? reachingEntries(dir, productionKeys) : [];
  if (dir === undefined || reaching.length === 0) return unchanged;
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
      + 'SSH_AUTH_SOCK, which the rehearsal is not given; with the keys in ~/.ssh/ops, move them out of ~/.ssh and `ssh-add` them from there)'
      + (cover.exposed.some((entry) => entry.includes('IdentityAgent ')) ? "; for an agent ~/.ssh/config names (1Password's IdentityAgent), export "
        + 'SSH_AUTH_SOCK as that socket for the release and remove the IdentityAgent line' : '')
      + `, or pass --${ACCEPT_ACCOUNT_SSH} to rehearse with that ~/.ssh readable on purpose (the rehearsal keeps its own HOME, ssh stand-ins and withheld variables). `
      + 'Only the keys the stacks register now are counted: a key this release removes, which production accepts until its deploy, '
      + 'and a Storage Box key (production\'s backups) are not; keep those out of ~/.ssh too.',
  };
}

/** What --accept-account-ssh leaves readable, as a warning. */
export function accountSshWarning(cover: AccountSshCover): string {
  return `release: warning: --${ACCEPT_ACCOUNT_SSH}: the rehearsal can read ${cover.dir} (${cover.exposed.join(', ')}): an ssh it runs by its path `
    + `(/usr/bin/ssh, \`env -i ssh\`) logs in with them to staging and production (${cover.why}).`;
}
