import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { allOnPath } from './rehearsal-ssh';
import { AGENT_ANSWER_MS } from './ssh-agent-lock';
import { sshKeyFingerprint, sshKeyMaterial, sshStringAt } from '../lib/hetzner/private/openssh-public-key';

/**
 * The entries of an account's `~/.ssh` that let no ssh log in anywhere: known hosts, authorized keys and allowed
 * signers, the server side's `rc` and `environment`, public keys and certificates (`*.pub`, useless without their
 * private key), macOS Finder's `.DS_Store`. Any other entry is looked at (see reachingEntries).
 */
const HARMLESS_SSH_ENTRY = /^(known_hosts2?(\.old)?|known_hosts\.d|authorized_keys2?|allowed_signers|rc|environment|\.DS_Store|.+\.pub)$/;

/**
 * Directives of ssh's configuration that may log in with something other than a key file of `~/.ssh`: an agent
 * (`IdentityAgent`, such as 1Password's), an identity file elsewhere, a hardware token (PKCS#11; a FIDO key still needs
 * its key-handle file, judged as any key file), another file of configuration (`Include`), a connection shared through
 * a socket elsewhere (`ControlPath`), a command (`ProxyCommand`, `KnownHostsCommand`, `LocalCommand`, `Match exec`).
 */
const CONFIG_KEY_SOURCES = /^\s*(IdentityAgent|IdentityFile|Include|PKCS11Provider|ControlPath|ProxyCommand|KnownHostsCommand|LocalCommand|Match)(?:\s*=\s*|\s+)(.*?)\s*$/gim;

/** The directives whose value is a command ssh runs (lower case). */
const COMMAND_DIRECTIVES = ['proxycommand', 'knownhostscommand', 'localcommand'];

/** OpenSSH's limit on nested `Include`s: it refuses the configuration past it. */
const INCLUDE_DEPTH = 16;
/** Files of configuration and keys outside `~/.ssh` read at most for one judgement: past it, the configuration is not judged. */
const FILES_READ = 256;
/** OpenSSH loads no key file larger than this (MAX_KEY_FILE_SIZE); a configuration file larger is not judged either. */
const LARGEST_FILE = 1024 * 1024;
/**
 * Bind-mounts each pair of sh's positional parameters (the second over the first's target) until `--`, then runs the
 * rest: never a word of the rehearsal's in the script. A failed mount says so on a line of its own: its exit code alone
 * would read as the rehearsal's.
 */
const BIND_THEN = 'while [ "$1" != -- ]; do mount --bind "$1" "$2" || { echo "release: could not mount the rehearsal\'s stand-in $1 over $2" >&2; exit 125; }; '
  + 'shift 2; done; shift; exec';

/** The system-wide ssh configuration, which every ssh reads after the account's unless given -F. */
export const SYSTEM_SSH_CONFIG = '/etc/ssh/ssh_config';

/** Where Homebrew (macOS on Intel and on Apple silicon, Linux) and MacPorts install OpenSSH, each reading PREFIX/etc/ssh/ssh_config. */
export const SSH_PREFIXES = ['/usr/local', '/opt/homebrew', '/home/linuxbrew/.linuxbrew', '/opt/local'] as const;

/**
 * The system configurations other than SYSTEM_SSH_CONFIG that an ssh the rehearsal may run by its path reads, those
 * that exist: an OpenSSH installed under another prefix reads `PREFIX/etc/ssh/ssh_config` (OpenSSH's default
 * sysconfdir), as Homebrew's /opt/homebrew/bin/ssh reads /opt/homebrew/etc/ssh/ssh_config. Every `ssh` on
 * `searchPath` counts, not only the first (the stand-in runs that one with -F, which skips the system file; an ssh run
 * by its path reads it), and the known `prefixes` too: Homebrew's opt link (/usr/local/opt/openssh/bin/ssh) reads its
 * prefix's /usr/local/etc/ssh/ssh_config, not one under opt. /usr/bin/ssh and /bin/ssh read SYSTEM_SSH_CONFIG. Told by
 * where it is installed, not asked of it: `ssh -G` gives one host's settings (the rehearsal may log in to any), not the
 * files read, and runs the configuration's `Match exec` commands.
 */
export function prefixedSystemConfigs(searchPath: string | undefined, prefixes: readonly string[] = SSH_PREFIXES): string[] {
  const onSearchPath = allOnPath('ssh', searchPath ?? '').map((ssh) => path.dirname(path.dirname(ssh)));
  const files = [...onSearchPath, ...prefixes].filter((prefix) => prefix !== '/' && prefix !== '/usr').map((prefix) => path.join(prefix, 'etc', 'ssh', 'ssh_config'));
  return [...new Set(files)].filter((file) => fs.existsSync(file));
}

/**
 * What the rehearsal could log in to production with, outside its own HOME: the account's `~/.ssh`, the system's
 * ssh configuration, an SSH agent's socket. `what` names it; `entries` say what in it may log in, each with why.
 */
export interface AccountSshExposure {
  readonly kind: 'account' | 'system' | 'agent';
  readonly what: string;
  readonly entries: readonly string[];
}

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
  /** What may log in to production (the account's `~/.ssh`, the system's configuration, the agent), where it cannot be replaced; empty otherwise. */
  readonly exposed: readonly AccountSshExposure[];
  /** What the namespace replaces, where `namespaced`; empty otherwise. */
  readonly covered: readonly AccountSshExposure[];
  /**
   * The runner's agent, holding a key production accepts, where no namespace hides it: locked while the rehearsal runs
   * (see lockAgent), and in `exposed` instead where it cannot be.
   */
  readonly lockedAgent?: AccountSshExposure;
  /** Why they cannot be replaced, where they cannot. */
  readonly why?: string;
}

/**
 * Linux: the command in a private mount namespace where `sshDir` is bind-mounted over the account's `~/.ssh` (where it
 * holds something that may log in to production), and an empty file (/dev/null) over the system's ssh configuration
 * and the agent's socket (where they may); as root directly, otherwise through a user namespace mapping the account to
 * root for the mounts and a nested one mapping it back, so the rehearsal runs as the account (getpwuid, hence ssh, sees
 * it; sudo inside it does not work). `covered`: the exposures, each replaced. The system's configuration and the
 * agent's socket are covered first, each at its real path, then `~/.ssh`: an agent's socket in `~/.ssh` (`ssh-agent -a
 * ~/.ssh/agent.sock`), or a link there to one in /tmp (tmux's `~/.ssh/ssh_auth_sock`), is no mount point once
 * `~/.ssh` is replaced, and the mount failed.
 */
function linuxWrap(covered: readonly AccountSshExposure[]): (command: readonly string[], sshDir: string) => string[] {
  const uid = process.getuid!();
  const gid = process.getgid!();
  const ordered = [...covered.filter((e) => e.kind !== 'account'), ...covered.filter((e) => e.kind === 'account')];
  return (command, sshDir) => {
    const binds = ordered.flatMap((exposure) => [exposure.kind === 'account' ? sshDir : os.devNull, exposure.kind === 'agent' ? realPath(exposure.what) : exposure.what]);
    return uid === 0
      ? ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', `${BIND_THEN} "$@"`, 'sh', ...binds, '--', ...command]
      : ['unshare', '--user', '--map-root-user', '--mount', '--propagation', 'private', 'sh', '-c',
        `${BIND_THEN} unshare --user --map-user=${uid} --map-group=${gid} -- "$@"`, 'sh', ...binds, '--', ...command];
  };
}

/** `file`'s real path (links followed), or `file` where it has none. */
function realPath(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return file;
  }
}

/** Ends a judgement that cannot be made (an `Include` loop, too many files): the configuration is refused as a whole. */
class NotJudged extends Error {}

/**
 * One judgement of an account's `~/.ssh` or of the system's configuration: the files read so far (real paths), each
 * read once. `dir` is the account's `~/.ssh`, whose files are judged as its entries; `base` the directory a relative
 * `Include` is read from (`~/.ssh` for the account's configuration, `/etc/ssh` for the system's, as OpenSSH reads them).
 */
interface Judging {
  readonly dir: string;
  readonly base: string;
  readonly home: string;
  readonly productionKeys: ReadonlySet<string> | undefined;
  readonly read: Set<string>;
}

/**
 * A file's text, read only where it is a regular file of at most LARGEST_FILE bytes (opened without blocking: a FIFO,
 * /dev/stdin or /dev/zero would hang or fill memory); `gone` where it gives ssh nothing (no such file, a directory);
 * else why it is not read (`large`: it is a regular file over the limit).
 */
function readRegular(file: string): { text: string } | { gone: true } | { why: string; large?: true } {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { gone: true };
    return { why: code === 'ENXIO' ? 'not a regular file, not read here' : 'unreadable here' };
  }
  try {
    const stat = fs.fstatSync(fd);
    if (stat.isDirectory()) return { gone: true };
    if (!stat.isFile()) return { why: 'not a regular file, not read here' };
    if (stat.size > LARGEST_FILE) return { why: `larger than ${LARGEST_FILE} bytes, not read here`, large: true };
    return { text: fs.readFileSync(fd, 'utf8') };
  } catch {
    return { why: 'unreadable here' };
  } finally {
    fs.closeSync(fd);
  }
}

/** readRegular for a file outside `~/.ssh`, once per real path (`seen` after), at most FILES_READ of them. */
function readOnce(file: string, judging: Judging): ReturnType<typeof readRegular> | { seen: true } {
  // Gone or unreadable: readRegular says which.
  const real = realPath(file);
  if (judging.read.has(real)) return { seen: true };
  judging.read.add(real);
  if (judging.read.size > FILES_READ) throw new NotJudged(`more than ${FILES_READ} files of configuration and keys, not judged`);
  return readRegular(file);
}

/**
 * The public key an OpenSSH-format private key (`openssh-key-v1`) stores in clear before its (maybe encrypted)
 * private part, as type and base64; undefined for another format (PEM) or a damaged file.
 */
function storedPublicKey(text: string): string | undefined {
  const armored = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(text);
  if (!armored) return undefined;
  const blob = Buffer.from(armored[1].replace(/\s+/g, ''), 'base64');
  const magic = Buffer.from('openssh-key-v1\0', 'latin1');
  if (!blob.subarray(0, magic.length).equals(magic)) return undefined;
  let at = magic.length;
  const field = (): Buffer | undefined => {
    const read = sshStringAt(blob, at);
    at = read?.next ?? blob.length;
    return read?.value;
  };
  // The cipher's name, the KDF's name and options, then the number of keys (4 bytes) and the first public key.
  if (field() === undefined || field() === undefined || field() === undefined) return undefined;
  at += 4;
  const key = field();
  const type = key && sshStringAt(key, 0);
  return type ? `${type.value.toString('latin1')} ${key.toString('base64')}` : undefined;
}

/**
 * A private key file's public key, as type and base64, or why it cannot be told: derived from the private key
 * (`ssh-keygen -y`) where no passphrase locks it; else the one an OpenSSH-format file stores in clear, refused where
 * its `.pub` names another (which one ssh offers is not known); else (PEM) its `.pub`.
 */
function publicKeyOf(file: string, text: string): { key: string; line: string } | { why: string } {
  const derived = spawnSync('ssh-keygen', ['-y', '-P', '', '-f', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  if (derived.status === 0 && derived.stdout.trim()) return { key: sshKeyMaterial(derived.stdout), line: derived.stdout.trim() };
  const pubFile = readRegular(`${file}.pub`);
  const pub = 'text' in pubFile ? sshKeyMaterial(pubFile.text) : undefined;
  const stored = storedPublicKey(text);
  if (stored !== undefined && pub !== undefined && pub !== stored) {
    return { why: `a private key whose ${path.basename(file)}.pub names another key (${sshKeyFingerprint(stored)} in the key file)` };
  }
  const key = stored ?? pub;
  if (key === undefined) return { why: `a private key whose public key cannot be read: a passphrase, and no ${path.basename(file)}.pub` };
  return { key, line: 'text' in pubFile ? pubFile.text.trim() : key };
}

/**
 * The comment the backup part gives the key a machine makes for its Storage Box (`sovereign-backup@HOST`): no stack
 * registers it (a sub-account's keys are installed by the machine), and it opens production's backups.
 */
const STORAGE_BOX_KEY_COMMENT = /^\S+\s+\S+\s+sovereign-backup@/;

/**
 * Why a public key (type, base64 and comment, as `ssh-keygen -y` and `ssh-add -L` print it) may log in to production or
 * its backups, or undefined: one of `productionKeys` (each as type and base64), any key while they are not known, or
 * a Storage Box key of the backup's (STORAGE_BOX_KEY_COMMENT).
 */
export function publicKeyReaching(line: string, productionKeys: ReadonlySet<string> | undefined): string | undefined {
  const key = sshKeyMaterial(line);
  if (STORAGE_BOX_KEY_COMMENT.test(line.trim())) return `${sshKeyFingerprint(key)}, a Storage Box key of the backup's: production's backups`;
  if (productionKeys === undefined) return `${sshKeyFingerprint(key)}; the keys production accepts are not known`;
  return productionKeys.has(key) ? `${sshKeyFingerprint(key)}, a key production accepts` : undefined;
}

/**
 * Why the private key in `file` may log in to production, or undefined: its public key is one of `productionKeys`
 * (each as type and base64), or any key while they are not known; or its public key cannot be told (see
 * publicKeyOf). A file holding no private key (a note, a `.ppk`) logs in nowhere. A key production does not accept (a
 * laptop's GitHub key) is no risk to it.
 */
function keyReaching(file: string, text: string, productionKeys: ReadonlySet<string> | undefined): string | undefined {
  if (!text.includes('PRIVATE KEY')) return undefined;
  const read = publicKeyOf(file, text);
  if ('why' in read) return read.why;
  return publicKeyReaching(read.line, productionKeys);
}

/**
 * A directive's words as OpenSSH splits them (argv_split): blanks separate words, quotes (`"…"`, `'…'`) keep blanks
 * in one and are removed, a backslash escapes a quote, a backslash or a blank, and a word starting with `#` ends the
 * line. Undefined for a quote left open, which OpenSSH refuses.
 */
function configWords(value: string): string[] | undefined {
  const words: string[] = [];
  for (let i = 0; i < value.length; i++) {
    if (value[i] === ' ' || value[i] === '\t') continue;
    if (value[i] === '#') break;
    let word = '';
    let quote = '';
    for (; i < value.length; i++) {
      const c = value[i];
      const escaped = value[i + 1];
      if (c === '\\' && escaped !== undefined && (`'"\\`.includes(escaped) || (!quote && escaped === ' '))) word += value[++i];
      else if (!quote && (c === ' ' || c === '\t')) break;
      else if (!quote && (c === '"' || c === "'")) quote = c;
      else if (quote && c === quote) quote = '';
      else word += c;
    }
    if (quote) return undefined;
    words.push(word);
  }
  return words;
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
 * `ControlPath` outside `dir`, a `ProxyCommand`, `KnownHostsCommand`, `LocalCommand` or a `Match exec` (conservatively: what they run is not known; named,
 * never shown, as a command may carry a token), an `IdentityFile` outside `dir` holding a key that may (see
 * keyReaching) or that cannot be told (a token, a relative path, unreadable), a quote left open; and those of the
 * files an `Include` names, each read once. A file of `dir` is judged as an entry of its own; a path that names no
 * file (a leftover line) gives ssh nothing. Throws NotJudged past OpenSSH's depth of `Include`s or FILES_READ files.
 */
function configReaching(text: string, judging: Judging, depth: number): string[] {
  const { dir, base, home } = judging;
  return [...text.matchAll(CONFIG_KEY_SOURCES)].flatMap(([, directive, value]): string[] => {
    const kind = directive.toLowerCase();
    const command = `${directive}${kind === 'match' ? ' exec' : ''} (a command, not shown)`;
    if (COMMAND_DIRECTIVES.includes(kind)) return /^none$/i.test(value) ? [] : [command];
    const words = configWords(value);
    if (words === undefined) return [`${directive} (a quote left open, not judged)`];
    if (kind === 'match') return words.some((word) => /^!?exec$/i.test(word)) ? [command] : [];
    const said = `${directive} ${value}`;
    const word = words[0] ?? '';
    if (/^none$/i.test(word) || (kind === 'identityagent' && word === 'SSH_AUTH_SOCK')) return [];
    if (kind === 'include') {
      return words.flatMap((part) => {
        const files = includedFiles(part, base, home);
        if (files === undefined) return [`Include ${part}`];
        return files.flatMap((file) => {
          if (depth >= INCLUDE_DEPTH) throw new NotJudged(`Includes nested deeper than ${INCLUDE_DEPTH} files, which OpenSSH refuses, not judged`);
          const read = readOnce(file, judging);
          if ('text' in read) return configReaching(read.text, judging, depth + 1).map((why) => `${why} in ${file}`);
          return 'why' in read ? [`Include ${file} (${read.why})`] : [];
        });
      });
    }
    // A socket in `dir` is an entry of its own; its name's tokens (%C) do not matter.
    if (kind === 'controlpath') return configPath(path.dirname(word), home) === dir ? [] : [said];
    const file = kind === 'identityfile' ? configPath(word, home) : undefined;
    if (file === undefined || !path.isAbsolute(file)) return [said];
    if (path.dirname(file) === dir) return [];
    const read = readOnce(file, judging);
    // ssh loads no key file that large.
    if (!('text' in read)) return 'why' in read && !read.large ? [`${said} (${read.why})`] : [];
    const why = keyReaching(file, read.text, judging.productionKeys);
    return why === undefined ? [] : [`${said} (${why})`];
  });
}

/**
 * The entries of `dir` (an account's `~/.ssh`) that may log in to production, each with why: a private key that may
 * (see keyReaching); an unreadable entry, a socket (a control master's) or another file that is not a regular one (a
 * FIFO); a `config` that may (see configReaching), or that cannot be judged. A directory gives ssh nothing unless the
 * configuration names what is in it, which is judged there; a file too large for ssh to load as a key, nothing either.
 * The runner's agent's socket (`agentSocket`, SSH_AUTH_SOCK), or a link to it, is judged as the agent (agentReaching).
 */
export function reachingEntries(dir: string, productionKeys: ReadonlySet<string> | undefined, agentSocket?: string): string[] {
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
    try {
      if (fs.statSync(file).isSocket()) {
        if (agentSocket !== undefined && realPath(file) === realPath(agentSocket)) continue;
        reaching.push(`${name} (a socket: a control master's connection)`);
        continue;
      }
    } catch {
      // readRegular says why.
    }
    const read = readRegular(file);
    if (!('text' in read)) {
      if ('why' in read && (!read.large || name === 'config')) reaching.push(`${name} (${read.why})`);
      continue;
    }
    let why: string | undefined;
    if (name === 'config') {
      why = judgedConfig(read.text, { dir, base: dir, home: path.dirname(dir), productionKeys, read: new Set([fs.realpathSync(file)]) }).join(', ') || undefined;
    } else {
      why = keyReaching(file, read.text, productionKeys);
    }
    if (why !== undefined) reaching.push(`${name} (${why})`);
  }
  return reaching;
}

/** configReaching of a whole file's `text`: what cannot be judged (NotJudged) is one entry saying why. */
function judgedConfig(text: string, judging: Judging): string[] {
  try {
    return configReaching(text, judging, 0);
  } catch (e) {
    if (!(e instanceof NotJudged)) throw e;
    return [e.message];
  }
}

/**
 * The directives of the system's ssh configuration (`file`, /etc/ssh/ssh_config, and what it includes: Debian's
 * `Include /etc/ssh/ssh_config.d/*.conf`) that may log in to production, judged as the account's are (see
 * configReaching): every ssh run without -F reads it after the account's, so an `IdentityFile /root/keys/prod` or a
 * `Host *` IdentityAgent there hands production's key to the rehearsal. `home`: the account's home (its `~`).
 */
export function systemConfigReaching(file: string, home: string, productionKeys: ReadonlySet<string> | undefined): string[] {
  const read = readRegular(file);
  if (!('text' in read)) return 'why' in read ? [read.why] : [];
  return judgedConfig(read.text, { dir: path.join(home, '.ssh'), base: path.dirname(file), home, productionKeys, read: new Set([fs.realpathSync(file)]) });
}

/**
 * The keys an SSH agent at `socket` (the runner's SSH_AUTH_SOCK) holds that may log in to production or its backups,
 * each with why (see publicKeyReaching), as `ssh-add -L` lists them; an agent that cannot be asked (ssh-add missing,
 * or failing for another reason than holding no key) is one such entry. The rehearsal is not given SSH_AUTH_SOCK, but
 * runs as the same account: the socket is found by its path (`/tmp/ssh-*`/agent.*, the release's own environment in
 * /proc), and an agent is as good as the keys it holds.
 */
export function agentReaching(socket: string, productionKeys: ReadonlySet<string> | undefined, env: NodeJS.ProcessEnv): string[] {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(socket);
  } catch {
    // No socket there: no agent to reach.
    return [];
  }
  if (!stat.isSocket()) return [];
  // A forwarded agent on a dead connection never answers: the release would hang here.
  const listed = spawnSync('ssh-add', ['-L'], { env: { ...env, SSH_AUTH_SOCK: socket }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: AGENT_ANSWER_MS });
  if (listed.error && (listed.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') return [`its keys cannot be listed (ssh-add -L did not answer within ${AGENT_ANSWER_MS / 1000} s)`];
  // ssh-add -L exits 1, printing "The agent has no identities." on standard output, for an agent holding no key, 2 for
  // one it cannot reach. A locked agent lists none either, and gets its keys back when unlocked: by another release
  // (whose rehearsal locked it), maybe while this one's rehearsal runs. So an empty agent is hidden or locked as one
  // holding production's key is, and one locked already refuses this release's lock, and the release.
  if (listed.status === 1 && /no identities/.test(listed.stdout)) {
    return ['no key it lists (a locked agent lists none, and gets its keys back when unlocked, by another release or `ssh-add -X`)'];
  }
  if (listed.status !== 0) return [`its keys cannot be listed (ssh-add -L: ${listed.error?.message ?? (String(listed.stderr).trim().split('\n')[0] || `exit code ${listed.status}`)})`];
  return listed.stdout.split('\n').filter((line) => line.trim()).flatMap((line) => publicKeyReaching(line, productionKeys) ?? []);
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

/** Where accountSshCover looks, besides the account's home: the system's ssh configuration and the runner's agent. */
export interface AccountSshSources {
  /**
   * The system's ssh configuration.
   * @default SYSTEM_SSH_CONFIG
   */
  readonly systemConfig?: string;
  /**
   * The prefixes of OpenSSH installs whose `etc/ssh/ssh_config` is judged besides those of the ssh on PATH (see prefixedSystemConfigs).
   * @default SSH_PREFIXES
   */
  readonly prefixes?: readonly string[];
}

/**
 * Decides how the rehearsal is kept from the runner account's `~/.ssh`, the system's ssh configuration and the
 * runner's SSH agent (see AccountSshCover), `home` being the account's home in the password database (undefined for a
 * uid without an entry: no `~/.ssh`, and ssh refuses to run at all). Where none holds anything that may log in to
 * production (see reachingEntries, systemConfigReaching and agentReaching), nothing is done: a namespace would cost
 * the rehearsal sudo for nothing. On Linux, the namespaces are tried once here (the same command, with `true`): a
 * kernel, container or AppArmor policy may refuse them, or util-linux be older than 2.38 (no --map-user). On macOS,
 * and where they are refused, `exposed` lists what may log in.
 */
export function accountSshCover(env: NodeJS.ProcessEnv, home: string | undefined, productionKeys: ReadonlySet<string> | undefined,
  sources: AccountSshSources = {}): AccountSshCover {
  const dir = home === undefined ? undefined : path.join(home, '.ssh');
  const unchanged = { wrap: (command: readonly string[]) => [...command], namespaced: false, dir, exposed: [], covered: [] };
  if (home === undefined || dir === undefined) return unchanged;
  // The system's, and those of an ssh of another prefix (Homebrew's), which reads its own.
  const systemConfig = sources.systemConfig ?? SYSTEM_SSH_CONFIG;
  const systemConfigs = [systemConfig, ...prefixedSystemConfigs(env.PATH, sources.prefixes).filter((file) => file !== systemConfig)];
  const socket = env.SSH_AUTH_SOCK;
  const reaching: AccountSshExposure[] = [
    { kind: 'account' as const, what: dir, entries: fs.existsSync(dir) ? reachingEntries(dir, productionKeys, socket) : [] },
    ...systemConfigs.map((file) => ({ kind: 'system' as const, what: file, entries: systemConfigReaching(file, home, productionKeys) })),
    { kind: 'agent' as const, what: socket ?? '', entries: socket && path.isAbsolute(socket) ? agentReaching(socket, productionKeys, env) : [] },
  ].filter((exposure) => exposure.entries.length > 0);
  if (reaching.length === 0) return unchanged;
  let why = `on ${process.platform} no mount namespace can hide them from a process of the same account`;
  if (process.platform === 'linux') {
    const wrap = linuxWrap(reaching);
    const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'sovereign-rehearsal-ssh-probe-'));
    try {
      const [program, ...rest] = wrap(['true'], probe);
      const tried = spawnSync(program, rest, { env, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
      if (tried.status === 0) return { wrap, namespaced: true, dir, exposed: [], covered: reaching };
      why = unshareFailure(tried);
    } finally {
      fs.rmSync(probe, { recursive: true, force: true });
    }
  }
  const lockedAgent = reaching.find((e) => e.kind === 'agent');
  return { ...unchanged, exposed: reaching.filter((e) => e !== lockedAgent), lockedAgent, why };
}

/** `cover` where its agent cannot be locked (`why`): exposed with the rest. */
export function withAgentUnlockable(cover: AccountSshCover, why: string): AccountSshCover {
  if (cover.lockedAgent === undefined) return cover;
  return { ...cover, exposed: [...cover.exposed, cover.lockedAgent], lockedAgent: undefined, why: `${cover.why}; ${why}` };
}

/**
 * The `release: note:` that says what the rehearsal runs under, or undefined: the mount namespace and what forced it
 * (in a user namespace, sudo, su and other setuid programs do not work, and root's files show as nobody's); the agent
 * locked while it runs, and what to do when the release is killed before it unlocks it.
 */
export function accountSshNote(cover: AccountSshCover): string | undefined {
  const notes: string[] = [];
  if (cover.namespaced) {
    notes.push(`the rehearsal runs in a mount namespace of its own, where ${cover.covered.map((e) => (e.kind === 'account' ? `its own ~/.ssh replaces ${e.what}`
      : `${e.kind === 'agent' ? `the SSH agent's socket ${e.what}` : e.what} is empty`)).join(', ')}, as ${exposuresNamed(cover.covered)} may log in to production`
      + (process.getuid!() === 0 ? '' : '; in its user namespace sudo, su and other setuid programs do not work, and root\'s files show as owned by nobody'));
  }
  if (cover.lockedAgent) {
    notes.push(`the SSH agent at ${cover.lockedAgent.what} is locked while the rehearsal runs (it holds ${cover.lockedAgent.entries.join(', ')}), and unlocked right after; `
      + 'if the release is killed (kill -9) before then, it stays locked with a passphrase no one knows (`ssh-add -X` cannot unlock it): restart the agent and `ssh-add` its keys again');
  }
  return notes.length === 0 ? undefined : `release: note: ${notes.join('; ')}.`;
}

/** The exposures, as the refusal and the warning name them: `~/.ssh (id_ed25519 (…)); /etc/ssh/ssh_config (…); the SSH agent at … (…)`. */
function exposuresNamed(exposed: readonly AccountSshExposure[]): string {
  return exposed.map((e) => `${e.kind === 'agent' ? `the SSH agent at ${e.what}` : e.what} (${e.entries.join(', ')})`).join('; ');
}

/** The flag that lets the rehearsal read the account's ~/.ssh where it cannot be replaced, on purpose. */
export const ACCEPT_ACCOUNT_SSH = 'accept-account-ssh';

/**
 * Why the release refuses a cover that leaves something exposed, and what to do, or undefined: said of the kinds
 * exposed only, with the choices this platform has first (macOS has no mount namespace to fix).
 */
export function accountSshRefusal(cover: AccountSshCover): { problem: string; fix: string } | undefined {
  if (cover.exposed.length === 0) return undefined;
  const of = (kind: AccountSshExposure['kind']) => cover.exposed.find((e) => e.kind === kind);
  const [account, agent] = [of('account'), of('agent')];
  // The system's configuration, and an ssh of another prefix's (see prefixedSystemConfigs), named as one.
  const systems = cover.exposed.filter((e) => e.kind === 'system');
  const system = systems.length === 0 ? undefined : { what: systems.map((e) => e.what).join(' and ') };
  const agentNamed = cover.exposed.some((e) => e.kind !== 'agent' && e.entries.some((entry) => entry.includes('IdentityAgent ')));
  const how = [
    ...(account || system ? ['an ssh it runs by its path (/usr/bin/ssh, `env -i ssh`, a GIT_SSH_COMMAND of either) '
      + `${account ? "finds ~/.ssh by the account's entry in the password database, whatever HOME says, " : ''}${system ? `reads ${system.what}${account ? ' after it' : ''}, ` : ''}`
      + 'and offers their keys and follows their configuration'] : []),
    ...(agent ? ["the agent's socket, which the rehearsal is not given, is found by its path by a process of the same account, and the agent could not be locked for the rehearsal"] : []),
  ];
  const linux = process.platform === 'linux';
  const choices = [
    ...(linux ? ['release where the rehearsal can have a mount namespace (with the cause above fixed), which replaces each of them'] : []),
    ...(account ? [`release from an account whose ~/.ssh holds no key production accepts${agent ? '' : ' (move such keys out of ~/.ssh, into ~/.ssh-keys say, and `ssh-add` them from there: the agent is locked while the rehearsal runs)'}`] : []),
    ...(agentNamed ? ["for an agent the configuration names (1Password's IdentityAgent), export SSH_AUTH_SOCK as that socket for the release and remove the IdentityAgent line"] : []),
    ...(system ? [`move the IdentityFile or IdentityAgent lines of ${system.what} into the ~/.ssh/config of the account that needs them`] : []),
    ...(agent ? ['release with an agent that can be locked, an OpenSSH ssh-agent of the release\'s own (`eval "$(ssh-agent)"`, then `ssh-add` the keys the deploys need): a forwarded agent may refuse, and one locked by another release (or `ssh-add -x`) refuses until that release ends (or `ssh-add -X`)'] : []),
    ...(linux ? [] : ['or release from Linux, where a mount namespace replaces each of them']),
  ];
  return {
    problem: `the rehearsal would read ${exposuresNamed(cover.exposed)}: ${how.join('; ')}: `
      + "production's admin key (or its backups' Storage Box key), which staging built from production's snapshot accepts too. "
      + `The rehearsal's own ~/.ssh cannot replace them: ${cover.why}.`,
    fix: `Fix: ${choices.join('; ')}; or pass --${ACCEPT_ACCOUNT_SSH} to rehearse with them readable on purpose (the rehearsal keeps its own HOME, ssh stand-ins and withheld variables).`,
  };
}

/** What --accept-account-ssh leaves readable, as a warning. */
export function accountSshWarning(cover: AccountSshCover): string {
  return `release: warning: --${ACCEPT_ACCOUNT_SSH}: the rehearsal can read ${exposuresNamed(cover.exposed)}: an ssh it runs by its path `
    + `(/usr/bin/ssh, \`env -i ssh\`) logs in with them to staging and production (${cover.why}).`;
}
