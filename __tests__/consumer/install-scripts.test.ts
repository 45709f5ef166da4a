import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cli } from '../cli/cli';

// Audit (first hour): npm 11 runs no dependency's install script that package.json's allowScripts does not allow, and
// ended `npm ci` here and `npm install` in a repository from `init` with "npm warn install-scripts 4 packages have
// install scripts not yet covered by allowScripts", explained nowhere. None of the four is needed (the suite, and
// a scaffold's install, test, synth and report, run without them): both package.json files now say so.

const ROOT = path.resolve(__dirname, '..', '..');
const own = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

test('every package of the lock file with an install script is decided in allowScripts', () => {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')).packages as Record<string, { hasInstallScript?: boolean }>;
  const withScripts = Object.entries(lock).filter(([, p]) => p.hasInstallScript).map(([at]) => at.replace(/^.*node_modules\//, ''));
  expect(withScripts.length).toBeGreaterThan(0);
  expect(withScripts.filter((name) => own.allowScripts?.[name] === undefined)).toEqual([]);
});

test("init's package.json carries the same decisions", async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'install-scripts-'));
  try {
    const dir = path.join(work, 'acme-iac');
    const { code } = await cli(['init', dir, '--name', 'acme', '--library', '0.1.0',
      '--admin-key', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu',
      '--production-admin-key', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM8xqk9KKFzjyUm7zn9jN8qK6gUimLQcZv8WO+NIigxr ops@acme-production',
      '--admin-cidrs', '198.51.100.0/24']);
    expect(code).toBe(0);
    const scaffolded = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).allowScripts;
    expect(Object.keys(scaffolded ?? {}).sort()).toEqual(['@cdktf/node-pty-prebuilt-multiarch', '@parcel/watcher', 'protobufjs', 'unrs-resolver']);
    expect(scaffolded).toEqual(own.allowScripts);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});
