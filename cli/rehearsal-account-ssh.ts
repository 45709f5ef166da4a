import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
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
 * a socket elsewhere (`ControlPath`), a command (`ProxyCommand`, `Match exec`).
 */
const CONFIG_KEY_SOURCES = /^\s*(IdentityAgent|IdentityFile|Include|PKCS11Provider|ControlPath|ProxyCommand|Match)(?:\s*=\s*|\s+)(.*?)\s*$/gim;

/** OpenSSH's limit on nested `Include`s: it refuses the configuration past it. */
const INCLUDE_DEPTH = 16;
/** Files of configuration and keys outside `~/.ssh` read at most for one judgement: past it, the configuration is not judged. */
const FILES_READ = 256;
/** OpenSSH loads no key file larger than this (MAX_KEY_FILE_SIZE); a configuration file larger is not judged either. */
const LARGEST_FILE = 1024 * 1024;
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

/** Ends a judgement that cannot be made (an `Include` loop, too many files): the configuration is refused as a whole. */
class NotJudged extends Error {}

/** One judgement of an account's `~/.ssh`: the files read so far (real paths), each read once. */
interface Judging {
  readonly dir: string;
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
  let real = file;
  try {
    real = fs.realpathSync(file);
  } catch {
    // Gone or unreadable: readRegular says which.
  }
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
function publicKeyOf(file: string, text: string): { key: string } | { why: string } {
  const derived = spawnSync('ssh-keygen', ['-y', '-P', '', '-f', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  if (derived.status === 0 && derived.stdout.trim()) return { key: sshKeyMaterial(derived.stdout) };
  const pubFile = readRegular(`${file}.pub`);
  const pub = 'text' in pubFile ? sshKeyMaterial(pubFile.text) : undefined;
  const stored = storedPublicKey(text);
  if (stored !== undefined && pub !== undefined && pub !== stored) {
    return { why: `a private key whose ${path.basename(file)}.pub names another key (${sshKeyFingerprint(stored)} in the key file)` };
  }
  const key = stored ?? pub;
  return key === undefined ? { why: `a private key whose public key cannot be read: a passphrase, and no ${path.basename(file)}.pub` } : { key };
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
  if (productionKeys === undefined) return `${sshKeyFingerprint(read.key)}; the keys production accepts are not known`;
  return productionKeys.has(read.key) ? `${sshKeyFingerprint(read.key)}, a key production accepts` : undefined;
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
 * `ControlPath` outside `dir`, a `ProxyCommand` or a `Match exec` (conservatively: what they run is not known; named,
 * never shown, as a command may carry a token), an `IdentityFile` outside `dir` holding a key that may (see
 * keyReaching) or that cannot be told (a token, a relative path, unreadable), a quote left open; and those of the
 * files an `Include` names, each read once. A file of `dir` is judged as an entry of its own; a path that names no
 * file (a leftover line) gives ssh nothing. Throws NotJudged past OpenSSH's depth of `Include`s or FILES_READ files.
 */
function configReaching(text: string, judging: Judging, depth: number): string[] {
  const { dir, home } = judging;
  return [...text.matchAll(CONFIG_KEY_SOURCES)].flatMap(([, directive, value]): string[] => {
    const kind = directive.toLowerCase();
    const command = `${directive}${kind === 'match' ? ' exec' : ''} (a command, not shown)`;
    if (kind === 'proxycommand') return /^none$/i.test(value) ? [] : [command];
    const words = configWords(value);
    if (words === undefined) return [`${directive} (a quote left open, not judged)`];
    if (kind === 'match') return words.some((word) => /^!?exec$/i.test(word)) ? [command] : [];
    const said = `${directive} ${value}`;
    const word = words[0] ?? '';
    if (/^none$/i.test(word) || (kind === 'identityagent' && word === 'SSH_AUTH_SOCK')) return [];
    if (kind === 'include') {
      return words.flatMap((part) => {
        const files = includedFiles(part, dir, home);
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
    try {
      if (fs.statSync(file).isSocket()) {
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
      const judging: Judging = { dir, home: path.dirname(dir), productionKeys, read: new Set([fs.realpathSync(file)]) };
      try {
        why = configReaching(read.text, judging, 0).join(', ') || undefined;
      } catch (e) {
        if (!(e instanceof NotJudged)) throw e;
        why = e.message;
      }
    } else {
      why = keyReaching(file, read.text, productionKeys);
    }
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
