import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cli } from './cli';

// Audit (first hour): `init /tmp/acme-iac …` ended with "Next: npm install && npm test", to be run in the directory
// the newcomer was still in, where npm install installs another project (or fails for want of a package.json).

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu';
const PRODUCTION_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM8xqk9KKFzjyUm7zn9jN8qK6gUimLQcZv8WO+NIigxr ops@acme-production';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'init-next-'));
const cwd = process.cwd();
afterAll(() => {
  process.chdir(cwd);
  fs.rmSync(work, { recursive: true, force: true });
});

async function init(dir: string): Promise<string> {
  const { code, out, err } = await cli(['init', dir, '--name', 'acme', '--admin-key', KEY, '--production-admin-key', PRODUCTION_KEY, '--admin-cidrs', '198.51.100.0/24']);
  expect({ code, err }).toEqual({ code: 0, err: '' });
  return out.split('\n').find((l) => l.startsWith('Next: '))!;
}

test('init names the cd into the new repository when it was run from elsewhere', async () => {
  process.chdir(work);
  expect(await init('acme iac')).toMatch(/^Next: cd 'acme iac' && npm install && npm test /);
  const elsewhere = path.join(work, 'elsewhere');
  fs.mkdirSync(elsewhere);
  process.chdir(elsewhere);
  expect(await init(path.join(work, 'other'))).toMatch(new RegExp(`^Next: cd ${path.join(work, 'other')} && npm install`));
  const here = path.join(work, 'here');
  fs.mkdirSync(here);
  process.chdir(here);
  expect(await init('.')).toMatch(/^Next: npm install && npm test /);
});
