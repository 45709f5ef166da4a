import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { Phase, Product, StagingMode } from '../../lib';
import { ProductStacks } from '../../stacks';
import { EXAMPLE_ADMIN, exampleBackup, exampleBoundary, exampleMonitoring } from '../../examples/shared';
import { cli, deployEnvironment } from './cli';

// Audit (staging lifecycle): `init`'s app, like the README's, has a staging stack only while STAGING_EXPIRES_AT is
// set. The release set it for bringing staging up and taking it down, not for the rehearsal between them: a
// rehearsal that asks for staging's address (`cdktf output acme-staging`, which synthesizes the app again) found
// no staging stack, failed, and production was never deployed.
describe('release: the rehearsal sees the app that brought staging up', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'release-rehearsal-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("the rehearsal runs with staging's expiry, so a synth in it has the staging stack", async () => {
    const outdir = path.join(dir, 'cdktf.out');
    const app = new App({ outdir });
    new ProductStacks(app, new Product({
      name: 'acme', phase: Phase.ONE, admin: EXAMPLE_ADMIN, ...exampleBoundary(), monitoring: exampleMonitoring('acme.example.eu'),
      backup: exampleBackup({ offsite: false }), stateBucket: 'acme-tfstate', staging: StagingMode.fromProductionSnapshot(),
    }), { stagingExpiresAt: '2026-11-28' });
    app.synth();
    // A stand-in `npx` that does nothing but print an image ID for the snapshot step.
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'npx'), '#!/bin/sh\ncase "$2" in snapshot) echo 4242;; esac\n', { mode: 0o755 });
    const seen = path.join(dir, 'rehearsal.env');
    // Everything the stacks need is set: release refuses to start otherwise.
    const { code } = await cli(['release', '--product', 'acme', '--out', outdir, '--rehearse', `echo "$STAGING_EXPIRES_AT" > ${seen}`, '--now', '2026-11-25T09:00:00Z'],
      { ...deployEnvironment(outdir), PATH: `${bin}:${process.env.PATH}` });
    expect(code).toBe(0);
    expect(fs.readFileSync(seen, 'utf8').trim()).toBe('2026-11-28');
  });
});
