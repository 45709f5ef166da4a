import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/**
 * Re-wraps a local restic repository's master key under a cheap key derivation, for tests only.
 *
 * `restic init` calibrates scrypt to take about half a second on the machine it runs on, and every
 * restic command pays it again when it opens the repository. The suites open their repositories
 * hundreds of times, so that cost dominated them while testing nothing of ours. The master key, the
 * data and every script stay as they are; only the key file's scrypt parameters change (restic reads
 * them from the file). The format follows restic's design document: scrypt gives 64 bytes, the
 * AES-256-CTR key then the Poly1305-AES key (k || r); the key file's `data` is nonce || ciphertext || MAC.
 * Returns how many keys it re-wrapped; a key it cannot re-wrap is left as it was, with a warning.
 */
export function cheapenRepositoryKeys(repository: string, password: string, cost: KdfCost = CHEAP): number {
  return cheapenKeyFiles(path.join(repository, 'keys'), '', password, cost);
}

/**
 * The same for a repository in an s3rver bucket directory (`<dir>/<bucket>/<repository path>`): an
 * object is a file named `<key>._S3rver_object` with its metadata beside it (s3rver recomputes a
 * missing `.md5`, and takes the length from the file).
 */
export function cheapenS3rverRepositoryKeys(repository: string, password: string, cost: KdfCost = CHEAP): number {
  const dir = path.join(repository, 'keys');
  return cheapenKeyFiles(dir, '._S3rver_object', password, cost, (from, to) => {
    fs.renameSync(path.join(dir, `${from}._S3rver_metadata.json`), path.join(dir, `${to}._S3rver_metadata.json`));
    fs.rmSync(path.join(dir, `${from}._S3rver_object.md5`), { force: true });
  });
}

/**
 * Adds a key for `newPassword` to a local repository that `password` opens, as `restic key add` would
 * but under the cheap derivation: `key add` calibrates scrypt for seconds first. Returns the new key's ID.
 */
export function addCheapRepositoryKey(repository: string, password: string, newPassword: string): string {
  const dir = path.join(repository, 'keys');
  for (const name of fs.readdirSync(dir)) {
    const key = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
    let masterKey: Buffer;
    try {
      masterKey = masterKeyOf(key, password);
    } catch {
      continue; // another password's key
    }
    return writeKeyFile(dir, '', { ...key, created: new Date().toISOString() }, masterKey, newPassword, CHEAP);
  }
  throw new Error(`no key of ${repository} opens with the password given`);
}

/** scrypt's cost parameters, as a restic key file holds them. */
export interface KdfCost { readonly N: number; readonly r: number; readonly p: number }
const CHEAP: KdfCost = { N: 1024, r: 8, p: 1 };

function cheapenKeyFiles(dir: string, suffix: string, password: string, cost: KdfCost, moved?: (from: string, to: string) => void): number {
  let rewritten = 0;
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith(suffix))) {
    // Only a speed-up: a key this cannot re-wrap (another format, another password) stays as restic made it,
    // and the suites run slower. Its own test (restic-key.test.ts) fails loudly instead.
    try {
      if (rewrap(dir, name, suffix, password, cost, moved)) rewritten++;
    } catch (e) {
      console.warn(`restic key ${path.join(dir, name)} keeps its calibrated derivation: ${(e as Error).message}`);
    }
  }
  return rewritten;
}

function rewrap(dir: string, name: string, suffix: string, password: string, cost: KdfCost, moved?: (from: string, to: string) => void): boolean {
  const id = name.slice(0, name.length - suffix.length);
  const file = path.join(dir, name);
  const key = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (key.kdf !== 'scrypt') throw new Error(`key derivation ${key.kdf} is not scrypt`);
  if (key.N === cost.N && key.r === cost.r && key.p === cost.p) return false;
  const masterKey = masterKeyOf(key, password);
  const { mode, uid, gid } = fs.statSync(file);
  const newId = writeKeyFile(dir, suffix, key, masterKey, password, cost);
  // The new file keeps the old one's mode and owner.
  const replacement = path.join(dir, `${newId}${suffix}`);
  fs.chmodSync(replacement, mode & 0o7777);
  fs.chownSync(replacement, uid, gid);
  fs.rmSync(file);
  moved?.(id, newId);
  return true;
}

/** Writes `masterKey` sealed under `password` as a key file with `fields`' other fields; returns its ID. */
function writeKeyFile(dir: string, suffix: string, fields: object, masterKey: Buffer, password: string, cost: KdfCost): string {
  const salt = crypto.randomBytes(64);
  const data = seal(masterKey, derive(password, salt, cost));
  const content = JSON.stringify({ ...fields, kdf: 'scrypt', ...cost, salt: salt.toString('base64'), data: data.toString('base64') });
  // restic names a key file by the SHA-256 of its content.
  const id = crypto.createHash('sha256').update(content).digest('hex');
  fs.writeFileSync(path.join(dir, `${id}${suffix}`), content);
  return id;
}

interface DerivedKey { readonly aes: Buffer; readonly macK: Buffer; readonly macR: Buffer }

/** The repository's master key, opened from a key file's JSON with its password; throws on a wrong one. */
function masterKeyOf(key: { data: string; salt: string } & KdfCost, password: string): Buffer {
  return open(Buffer.from(key.data, 'base64'), derive(password, Buffer.from(key.salt, 'base64'), key));
}

function derive(password: string, salt: Buffer, params: KdfCost): DerivedKey {
  const bytes = crypto.scryptSync(password, salt, 64, { N: params.N, r: params.r, p: params.p, maxmem: 512 * 1024 * 1024 });
  return { aes: bytes.subarray(0, 32), macK: bytes.subarray(32, 48), macR: bytes.subarray(48, 64) };
}

function open(sealed: Buffer, key: DerivedKey): Buffer {
  const nonce = sealed.subarray(0, 16);
  const ciphertext = sealed.subarray(16, sealed.length - 16);
  const mac = sealed.subarray(sealed.length - 16);
  if (!crypto.timingSafeEqual(mac, poly1305Aes(ciphertext, nonce, key))) throw new Error('wrong password: the key file\'s MAC does not match');
  const decipher = crypto.createDecipheriv('aes-256-ctr', key.aes, nonce);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

function seal(plaintext: Buffer, key: DerivedKey): Buffer {
  const nonce = crypto.randomBytes(16);
  const cipher = crypto.createCipheriv('aes-256-ctr', key.aes, nonce);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, ciphertext, poly1305Aes(ciphertext, nonce, key)]);
}

/** Poly1305-AES (Bernstein 2005): r from the key (clamped), s = AES-128_k(nonce). */
function poly1305Aes(message: Buffer, nonce: Buffer, key: DerivedKey): Buffer {
  const aes = crypto.createCipheriv('aes-128-ecb', key.macK, null);
  aes.setAutoPadding(false);
  const s = littleEndian(Buffer.concat([aes.update(nonce), aes.final()]));
  const r = littleEndian(key.macR) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  const p = (1n << 130n) - 5n;
  let acc = 0n;
  for (let i = 0; i < message.length; i += 16) {
    const block = message.subarray(i, i + 16);
    acc = ((acc + littleEndian(block) + (1n << BigInt(8 * block.length))) * r) % p;
  }
  const tag = (acc + s) & ((1n << 128n) - 1n);
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) out[i] = Number((tag >> BigInt(8 * i)) & 0xffn);
  return out;
}

function littleEndian(bytes: Buffer): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
  return n;
}

/** Opens and seals a repository's data (its blobs, pack headers, files) with its master key, as restic does. */
export interface RepositoryCipher {
  open(sealed: Buffer): Buffer;
  seal(plaintext: Buffer): Buffer;
}

/** The master key of a local repository that `password` opens, as a {@link RepositoryCipher}. */
export function repositoryCipher(repository: string, password: string): RepositoryCipher {
  const dir = path.join(repository, 'keys');
  for (const name of fs.readdirSync(dir)) {
    let master: { encrypt: string; mac: { k: string; r: string } };
    try {
      master = JSON.parse(masterKeyOf(JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')), password).toString('utf8'));
    } catch {
      continue; // another password's key
    }
    const key: DerivedKey = { aes: Buffer.from(master.encrypt, 'base64'), macK: Buffer.from(master.mac.k, 'base64'), macR: Buffer.from(master.mac.r, 'base64') };
    return { open: (sealed) => open(sealed, key), seal: (plaintext) => seal(plaintext, key) };
  }
  throw new Error(`no key of ${repository} opens with the password given`);
}
