import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { synthesizedBundle } from '../../testing/bundle';

// A team upgrades the library and deploys the same product code: the new version's backup-dump carries a fix, nothing
// of theirs changed. Terraform replaces a machine's rollout only when its triggers change, so the fix reaches the running
// machine only if the library's own scripts are part of what the rollout is keyed on. Two library versions are two
// module registries here: the second loads the backup scripts with backup-dump changed, and synthesizes the example.

const PRODUCTION = 'phase1-pilot-production';
const SERVER = 'phase1-pilot-production-app';
const FIX = '# a fix of the next library version';

function synthesize(library: 'installed' | 'upgraded'): any {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `library-${library}-`));
  try {
    jest.isolateModules(() => {
      if (library === 'upgraded') {
        jest.doMock('../../lib/backup/private/scripts', () => {
          const actual = jest.requireActual('../../lib/backup/private/scripts');
          return { ...actual, BACKUP_DUMP: actual.BACKUP_DUMP.replace('\n', `\n${FIX}\n`) };
        });
      }
      const { App } = require('cdktf');
      const { phase1Pilot } = require('../../examples/phase1-pilot');
      const app = new App({ outdir });
      phase1Pilot(app);
      app.synth();
    });
    return JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', PRODUCTION, 'cdk.tf.json'), 'utf8'));
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

function rolloutOf(stack: any): any {
  return Object.entries<any>(stack.resource.terraform_data).find(([name, r]) => /^App_Rollout_/.test(name) && r.provisioner)![1];
}

test('a library upgrade that changes a script of the bundle replaces the rollout, and the new script goes with it', () => {
  const before = synthesize('installed');
  const after = synthesize('upgraded');
  const [was, now] = [rolloutOf(before).triggers_replace, rolloutOf(after).triggers_replace];
  expect(now.bundle).not.toBe(was.bundle);
  expect(now.bundle).toBe(synthesizedBundle(after, SERVER).version);
  // Nothing else of the machine changed: no secret, no server.
  expect({ inputs: now.inputs, image: now.image }).toEqual({ inputs: was.inputs, image: was.image });
  expect(after.resource.hcloud_server).toEqual(before.resource.hcloud_server);
  expect(synthesizedBundle(before, SERVER).files.get('/usr/local/sbin/backup-dump')?.content).not.toContain(FIX);
  expect(synthesizedBundle(after, SERVER).files.get('/usr/local/sbin/backup-dump')?.content).toContain(FIX);
}, 120_000);
