import * as fs from 'fs';
import * as path from 'path';
import { cli, deployEnvironment, synthesizedPilotWorkDirectory } from './cli';

// Audit (messages): the CLI's number options were read with Number() and refused by the number, so the message named
// NaN instead of what was typed (`--keep NaN is not allowed`, `--budget 'NaN'`), and Number's other readings passed:
// `--keep 0x10` kept 16 snapshots, `--staging-days 1e1` kept staging 10 days. snapshot asked the Hetzner API (with a
// token) before it looked at --keep.

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu';
const PRODUCTION_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM8xqk9KKFzjyUm7zn9jN8qK6gUimLQcZv8WO+NIigxr ops@acme-production';
const { work, outdir } = synthesizedPilotWorkDirectory('cli-number-options-');

describe('a number option is refused with the text as given, and the fix', () => {
  test.each([['two'], ['0x10'], ['1e1'], ['0'], ['51']])('snapshot --keep %s, before any call to the Hetzner API', async (keep) => {
    // No HCLOUD_TOKEN: the refusal comes before the client is made.
    const { code, err } = await cli(['snapshot', '--server', 'acme-production-app', '--keep', keep], {});
    expect(code).toBe(2);
    expect(err).toBe(`error: --keep ${keep} is not allowed: it is how many pre-release snapshots of the server stay. Fix: pass a whole number from 1 to 50.`);
  });

  test.each([['two'], ['1e1'], ['15']])('release --staging-days %s', async (days) => {
    const { code, err } = await cli(['release', '--product', 'phase1-pilot', '--out', outdir, '--rehearse', 'true', '--dry-run', '--staging-days', days], deployEnvironment(outdir));
    expect(code).toBe(2);
    expect(err).toContain(`error: --staging-days ${days} is not allowed: staging lives 1 to 14 days. Fix: pass a whole number of days in that range.`);
  });

  test.each([['30€'], ['thirty'], ['-5'], ['0x10'], ['1e1']])('init --budget %s, writing nothing', async (budget) => {
    const dir = path.join(work, `init-${budget.replace(/\W/g, '_')}`);
    const { code, err } = await cli(['init', dir, '--name', 'acme', '--admin-key', KEY, '--production-admin-key', PRODUCTION_KEY, '--admin-cidrs', '198.51.100.0/24', '--budget', budget]);
    expect(code).toBe(2);
    expect(err).toContain(`--budget '${budget}' is not allowed: a budget is a positive amount of euros. Fix: pass a number such as 30.`);
    expect(fs.existsSync(path.join(dir, 'product.ts'))).toBe(false);
  });
});
