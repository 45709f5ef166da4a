import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { synthesizedBundle } from '../../testing/bundle';

// A team upgrades the library and deploys the same product code: the new version's backup-dump carries a fix, nothing
// of theirs changed. Terraform replaces a machine's rollout only when its triggers change, so the fix reaches the running
// machine only if the library's own scripts are part of what the rollout is keyed on. Two library versions are two
// module registries here: the second loads one of the library's modules with a script changed, and synthesizes the example.

const PRODUCTION = 'phase1-pilot-production';
const SERVER = 'phase1-pilot-production-app';
const FIX = '# a fix of the next library version';

/**
 * The example's production stack as a library version synthesizes it: `changed` names the constant of one of the
 * library's modules that this version changed (a line added after its first).
 */
function synthesize(changed?: { module: string; name: string }): any {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'library-upgrade-'));
  try {
    jest.isolateModules(() => {
      if (changed) {
        jest.doMock(changed.module, () => {
          const actual = jest.requireActual(changed.module);
          return { ...actual, [changed.name]: actual[changed.name].replace('\n', `\n${FIX}\n`) };
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
    if (changed) jest.dontMock(changed.module);
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

function rolloutOf(stack: any): any {
  return Object.entries<any>(stack.resource.terraform_data).find(([name, r]) => /^App_Rollout_/.test(name) && r.provisioner)![1];
}

test('a library upgrade that changes a script of the bundle replaces the rollout, and the new script goes with it', () => {
  const before = synthesize();
  const after = synthesize({ module: '../../lib/backup/private/scripts', name: 'BACKUP_DUMP' });
  const [was, now] = [rolloutOf(before).triggers_replace, rolloutOf(after).triggers_replace];
  expect(now.bundle).not.toBe(was.bundle);
  expect(now.bundle).toBe(synthesizedBundle(after, SERVER).version);
  // Nothing else of the machine changed: no secret, no server.
  expect({ inputs: now.inputs, image: now.image, agent: now.agent }).toEqual({ inputs: was.inputs, image: was.image, agent: was.agent });
  expect(after.resource.hcloud_server).toEqual(before.resource.hcloud_server);
  expect(synthesizedBundle(before, SERVER).files.get('/usr/local/sbin/backup-dump')?.content).not.toContain(FIX);
  expect(synthesizedBundle(after, SERVER).files.get('/usr/local/sbin/backup-dump')?.content).toContain(FIX);
}, 120_000);

// The agent is no file of the bundle: it comes with every rollout and stays as /usr/local/sbin/sovereign-rollout. A
// version whose agent alone changed (a fix of how it installs files, or of how it stops a command) did not change the
// bundle, so no deploy ran it: the machine kept what the old agent had installed, and its old copy.
test('a library upgrade that changes only the rollout agent replaces the rollout once, carrying the new agent', () => {
  const before = synthesize();
  const after = synthesize({ module: '../../lib/hetzner/private/rollout-agent', name: 'ROLLOUT_AGENT' });
  const [was, now] = [rolloutOf(before).triggers_replace, rolloutOf(after).triggers_replace];
  expect(now.bundle).toBe(was.bundle);
  expect(now.agent).toMatch(/^sha256:[0-9a-f]{64}$/);
  expect(now.agent).not.toBe(was.agent);
  const agentOf = (stack: any) => rolloutOf(stack).provisioner.map((p: any) => p.file).find((f: any) => f && String(f.destination).endsWith('/sovereign-rollout')).content;
  expect(agentOf(before)).not.toContain(FIX);
  expect(agentOf(after)).toContain(FIX);
  // The same library synthesizes the same trigger: a second deploy plans nothing.
  expect(rolloutOf(synthesize()).triggers_replace.agent).toBe(was.agent);
}, 120_000);
