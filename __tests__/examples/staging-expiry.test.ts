import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DEFAULT_STAGING_DAYS, expiryAfterDays } from '../../lib/environments/staging';

// The suites pin STAGING_EXPIRES_AT (global-setup.js) so that the examples' output is stable. A newcomer's
// `npm run synth` has no such variable: the examples used a fixed date then, which warned as it neared
// (Environment-StagingLongLived) and would have labelled staging expired, for the reaper to delete, after it.
describe('the examples without STAGING_EXPIRES_AT', () => {
  function synthesizeUnpinned(): { manifest: any; stacks: Record<string, any> } {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'examples-unpinned-'));
    const pinned = process.env.STAGING_EXPIRES_AT;
    delete process.env.STAGING_EXPIRES_AT;
    try {
      // A fresh module registry: the examples read the variable when they are first loaded.
      jest.isolateModules(() => {
        const { App } = require('cdktf');
        const { EXAMPLES } = require('../../examples');
        const app = new App({ outdir });
        for (const define of Object.values(EXAMPLES) as Array<(app: unknown) => unknown>) define(app);
        app.synth();
      });
    } finally {
      process.env.STAGING_EXPIRES_AT = pinned;
    }
    const stacksDir = path.join(outdir, 'stacks');
    const stacks = Object.fromEntries(fs.readdirSync(stacksDir).map((name) =>
      [name, JSON.parse(fs.readFileSync(path.join(stacksDir, name, 'cdk.tf.json'), 'utf8'))]));
    return { manifest: JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8')), stacks };
  }

  test("give staging the release path's default life from today, and synthesize without a warning about its expiry", () => {
    const earliest = expiryAfterDays(DEFAULT_STAGING_DAYS, new Date());
    const { manifest, stacks } = synthesizeUnpinned();
    // The day may turn during the synth.
    const latest = expiryAfterDays(DEFAULT_STAGING_DAYS, new Date());
    const stagingStacks = Object.keys(stacks).filter((name) => name.endsWith('-staging'));
    expect(stagingStacks.sort()).toEqual(['phase1-pilot-staging', 'phase3-traction-staging']);
    for (const name of stagingStacks) {
      for (const server of Object.values<any>(stacks[name].resource.hcloud_server)) {
        expect([earliest, latest]).toContain(server.labels['expires-at']);
      }
    }
    const warnings = Object.values<any>(manifest.stacks).flatMap((stack) => stack.annotations ?? [])
      .map((annotation: { message: string }) => annotation.message);
    expect(warnings.filter((message: string) => /Environment-Staging(LongLived|Expired)/.test(message))).toEqual([]);
  });
});
