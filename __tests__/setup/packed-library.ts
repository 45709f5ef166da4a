import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const WAIT_LIMIT_MS = 10 * 60_000;

/**
 * The library as `npm pack` gives it (its prepack builds dist/), packed once per jest run and shared by the
 * suites that install it. Once, because a pack is a full build; and never two at a time, because two builds
 * writing dist/ side by side (two jest workers) can pack each other's half-written files.
 */
export function packedLibrary(): string {
  // This run's own directory (global-setup.js), shared by its workers.
  const dir = path.join(os.tmpdir(), 'packed-library');
  const done = path.join(dir, 'tarball');
  const failed = path.join(dir, 'failed');
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  let packer = true;
  try {
    fs.mkdirSync(dir); // atomic: the first suite to get here packs, the others wait for it
  } catch {
    packer = false;
  }
  if (packer) {
    try {
      const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', dir], {
        cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' },
      }));
      fs.writeFileSync(done, path.join(dir, packed[0].filename));
    } catch (e) {
      // tsc (run by the prepack) reports on stdout: keep it for the failure of every suite that waits.
      const { stdout, stderr, message } = e as { stdout?: string; stderr?: string; message: string };
      fs.writeFileSync(failed, `npm pack failed in ${ROOT}:\n${stdout ?? ''}\n${stderr ?? message}`);
    }
  }
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (;;) {
    if (fs.existsSync(done)) return fs.readFileSync(done, 'utf8');
    if (fs.existsSync(failed)) throw new Error(fs.readFileSync(failed, 'utf8'));
    if (Date.now() > deadline) throw new Error(`no packed library in ${dir} after ${WAIT_LIMIT_MS / 60_000} minutes: another suite started npm pack and did not finish`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  }
}
