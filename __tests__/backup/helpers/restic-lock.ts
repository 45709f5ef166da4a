import { ChildProcess, execFile, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { S3Server } from './s3-server';
import { PATH_ENV, RESTIC_PASSWORD } from './world';

/** A restic process that holds a lock on a repository, and the lock's file name. */
export interface HeldLock {
  readonly child: ChildProcess;
  readonly lock: string;
}

/** A restic repository as this host reaches it: restic's options and environment for it, and where its lock files lie. */
export interface LockedRepository {
  /** restic's options naming the repository (`-r <dir>`; none for a bucket's, named by the environment). */
  readonly options: string[];
  /** The environment restic needs besides the password (a bucket's repository and key pair). */
  readonly env: Record<string, string>;
  /** The directory of its lock files. */
  readonly locks: string;
  /** How a lock file's name ends after the lock's ID (s3rver's `._S3rver_object`). */
  readonly suffix: string;
}

/** The repository under `prefix` in the stand-in bucket, as restic's S3 backend reaches it over loopback. */
export function bucketRepository(s3: S3Server, prefix: string): LockedRepository {
  return {
    options: [],
    env: {
      RESTIC_REPOSITORY: `s3:${s3.endpoint}/${s3.bucket}/${prefix}`,
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    },
    locks: path.join(s3.objects(prefix), 'locks'),
    suffix: '._S3rver_object',
  };
}

const repositoryOf = (repo: string | LockedRepository): LockedRepository =>
  (typeof repo === 'string' ? { options: ['-r', repo], env: {}, locks: path.join(repo, 'locks'), suffix: '' } : repo);
/** The IDs of the locks in the repository now. */
export const locksOf = (repo: LockedRepository): string[] => (fs.existsSync(repo.locks) ? fs.readdirSync(repo.locks) : [])
  .filter((f) => f.endsWith(repo.suffix)).map((f) => f.slice(0, f.length - repo.suffix.length));
const resticEnv = (repo: LockedRepository, password: string) => ({ PATH: PATH_ENV, HOME: '/root', RESTIC_PASSWORD: password, ...repo.env });

/**
 * Whether restic reads the lock back: one killed while writing it would leave a file no restic can read. Asynchronous:
 * the bucket's stand-in answers from this process, which a synchronous spawn would stop.
 */
async function readable(repo: LockedRepository, lock: string, password: string): Promise<boolean> {
  try {
    await promisify(execFile)('restic', [...repo.options, '--no-cache', '--no-lock', 'cat', 'lock', lock], { env: resticEnv(repo, password) });
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts restic on the repository `where` (a directory, or a bucket's: {@link bucketRepository}; as this host, as a
 * machine's own restic or another machine's would be) in a way that takes its lock and then waits on its input:
 * `backup --stdin` takes a shared lock, `key passwd` (which reads the new password from stdin) the exclusive one. Resolves once restic reads the lock back; the process
 * is added to `running`, for the suite to kill at its end. `password` opens the repository (the world's by default).
 * `host` runs restic as another machine would: in a UTS namespace of its own with that host name, which restic writes
 * into its lock (root only).
 */
export async function holdResticLock(where: string | LockedRepository, kind: 'shared' | 'exclusive', running: ChildProcess[],
  password = RESTIC_PASSWORD, host?: string): Promise<HeldLock> {
  const repo = repositoryOf(where);
  const before = new Set(locksOf(repo));
  const args = kind === 'shared' ? ['backup', '--stdin', '--stdin-filename', 'held', '--host', 'killed-job'] : ['key', 'passwd'];
  const restic = ['restic', ...repo.options, '--no-cache', ...args];
  // exec: the child is restic itself, for killHolder's SIGKILL.
  const [command, ...argv] = host ? ['unshare', '--uts', 'sh', '-c', 'hostname "$0" && exec "$@"', host, ...restic] : restic;
  const child = spawn(command, argv, { env: resticEnv(repo, password), stdio: ['pipe', 'ignore', 'pipe'] });
  running.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  for (let i = 0; i < 600; i++) {
    const added = locksOf(repo).filter((l) => !before.has(l));
    if (added.length === 1 && await readable(repo, added[0], password)) return { child, lock: added[0] };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`restic ${args.join(' ')} took no lock on ${repo.locks}: ${stderr}`);
}

/** Kills the holder with no chance to remove its lock (SIGKILL: the OOM killer, a crash); the lock stays. */
export async function killHolder(held: HeldLock): Promise<void> {
  if (held.child.exitCode !== null || held.child.signalCode !== null) return;
  const exited = new Promise((r) => held.child.once('exit', r));
  held.child.kill('SIGKILL');
  await exited;
}

/**
 * A directory under `dir` to put first on a job's PATH: its restic is a stand-in that fails `restic unlock` (as on an
 * account that may not delete, or a link lost mid-run) and runs the real restic for everything else. Returns the path.
 */
export function unlockFails(dir: string): string {
  const bin = path.join(dir, 'bin-unlock-fails');
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, 'restic'), '#!/bin/bash\n[ "${@: -1}" != unlock ] || { echo "unlock: connection lost" >&2; exit 1; }\nexec /usr/bin/restic "$@"\n', { mode: 0o755 });
  return bin;
}

/**
 * Writes into the repository directory `repo` a lock of `host` last refreshed `minutes` ago, as a restic whose refreshes
 * failed (or whose clock is off, or that was stopped) leaves it: restic's own lock format (JSON, encrypted with the
 * repository's master key: AES-256-CTR, Poly1305-AES), which restic cannot be made to write with an old time.
 * Returns the lock's ID.
 */
export function writeOldLock(repo: string, host: string, minutes: number, exclusive = true, password = RESTIC_PASSWORD): string {
  const key = execFileSync('restic', ['-r', repo, '--no-cache', '--no-lock', 'cat', 'masterkey'], { env: resticEnv(repositoryOf(repo), password) }).toString();
  const lock = JSON.stringify({ time: new Date(Date.now() - minutes * 60_000).toISOString(), exclusive, hostname: host,
    username: 'root', pid: 4242, uid: 0, gid: 0 });
  const script = [
    'import hashlib, json, os, sys',
    'from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes',
    'from cryptography.hazmat.primitives.poly1305 import Poly1305',
    'from base64 import b64decode as d',
    'key, plain = json.loads(sys.argv[1]), sys.argv[2].encode()',
    'iv = os.urandom(16)',
    'enc = Cipher(algorithms.AES(d(key["encrypt"])), modes.CTR(iv)).encryptor()',
    'ct = enc.update(plain) + enc.finalize()',
    'ecb = Cipher(algorithms.AES(d(key["mac"]["k"])), modes.ECB()).encryptor()',
    'tag = Poly1305.generate_tag(d(key["mac"]["r"]) + ecb.update(iv) + ecb.finalize(), ct)',
    'blob = iv + ct + tag',
    'name = hashlib.sha256(blob).hexdigest()',
    'file = os.path.join(sys.argv[3], name)',
    'open(file, "wb").write(blob)',
    // The SFTP account owns the repository: its restic unlock may remove the lock.
    'os.chown(file, os.stat(sys.argv[3]).st_uid, os.stat(sys.argv[3]).st_gid)',
    'print(name)',
  ].join('\n');
  return execFileSync('python3', ['-c', script, key, lock, path.join(repo, 'locks')]).toString().trim();
}
