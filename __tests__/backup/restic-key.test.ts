import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { addCheapRepositoryKey, cheapenRepositoryKeys } from './helpers/restic-key';
import { PATH_ENV } from './helpers/world';
import { describeWithRealParts } from '../setup/real-parts';

// The backup suites re-wrap their repositories' keys under a cheap scrypt cost (helpers/restic-key.ts) and
// carry on with restic's calibrated key when that fails; this suite is where a failure to re-wrap shows.
const hasRestic = spawnSync('restic', ['version'], { env: { PATH: PATH_ENV } }).status === 0;
const describeWithRestic = describeWithRealParts(hasRestic, 'the restic key suite', 'restic');

describeWithRestic('re-wrapping a restic key under a cheap key derivation (a test helper)', () => {
  const PASSWORD = 'correct horse battery staple 7#';
  let tmp: string;
  let repo: string;
  const restic = (password: string, ...args: string[]) =>
    spawnSync('restic', ['-r', repo, '--no-cache', ...args], { env: { PATH: PATH_ENV, HOME: tmp, RESTIC_PASSWORD: password }, encoding: 'utf8' });
  const keyFiles = () => fs.readdirSync(path.join(repo, 'keys'));
  const key = () => JSON.parse(fs.readFileSync(path.join(repo, 'keys', keyFiles()[0]), 'utf8'));

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'restic-key-'));
    repo = path.join(tmp, 'repo');
    const data = path.join(tmp, 'data.txt');
    fs.writeFileSync(data, 'every byte comes back\n');
    for (const args of [['init'], ['backup', data]]) {
      const run = restic(PASSWORD, ...args);
      if (run.status !== 0) throw new Error(run.stderr);
    }
  });

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('a wrong password leaves the key as restic made it', () => {
    const before = keyFiles();
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      expect(cheapenRepositoryKeys(repo, 'not the password')).toBe(0);
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/keeps its calibrated derivation: wrong password/));
    } finally {
      warn.mockRestore();
    }
    expect(keyFiles()).toEqual(before);
  });

  test('restic opens the re-wrapped key with the same password, reads the data back, and still refuses a wrong one', () => {
    const calibrated = key();
    expect(calibrated.N * calibrated.r * calibrated.p).toBeGreaterThan(1024 * 8);
    expect(cheapenRepositoryKeys(repo, PASSWORD)).toBe(1);

    const [name] = keyFiles();
    const content = fs.readFileSync(path.join(repo, 'keys', name), 'utf8');
    expect(name).toBe(crypto.createHash('sha256').update(content).digest('hex'));
    expect(key()).toEqual(expect.objectContaining({ kdf: 'scrypt', N: 1024, r: 8, p: 1, created: calibrated.created }));
    expect(key().salt).not.toBe(calibrated.salt);

    const dump = restic(PASSWORD, 'dump', 'latest', path.join(tmp, 'data.txt'));
    expect(dump.stderr).toBe('');
    expect(dump.stdout).toBe('every byte comes back\n');
    expect(restic(PASSWORD, 'check', '--read-data').status).toBe(0);
    const wrong = restic('not the password', 'cat', 'config');
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toMatch(/wrong password or no key found/);
    // Once cheap, it stays as it is.
    expect(cheapenRepositoryKeys(repo, PASSWORD)).toBe(0);
    expect(keyFiles()).toEqual([name]);
  });

  test('an added key: restic lists both keys and opens the data with either password; a wrong password adds nothing', () => {
    const SECOND = 'a second password, for a rotation';
    expect(() => addCheapRepositoryKey(repo, 'not the password', SECOND)).toThrow(/no key of .* opens with the password given/);
    expect(keyFiles()).toHaveLength(1);
    const id = addCheapRepositoryKey(repo, PASSWORD, SECOND);
    const listed = JSON.parse(restic(SECOND, 'key', 'list', '--json').stdout);
    // restic lists a key by the first 8 characters of its ID.
    expect(listed.map((k: any) => k.id).sort()).toEqual(keyFiles().map((f) => f.slice(0, 8)).sort());
    expect(listed).toContainEqual(expect.objectContaining({ id: id.slice(0, 8), current: true }));
    expect(restic(SECOND, 'dump', 'latest', path.join(tmp, 'data.txt')).stdout).toBe('every byte comes back\n');
    expect(restic(PASSWORD, 'cat', 'config').status).toBe(0);
  });
});
