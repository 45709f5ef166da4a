import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HetznerStandIn, installStandIn, writeStandInOverride } from '../../testing';
import { refusal } from '../boundary/refusal';

// Audit (the testing entry from plain JavaScript): a misspelt option of the harness was ignored, and the test then
// exercised less than it said: a misspelt rolloutTarget replaced the rollouts by a local no-op, a misspelt cloudFile
// gave a workspace a project of its own. A path that was not text failed inside Node's fs.

describe('the stand-in harness checks its options', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'harness-options-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('writeStandInOverride refuses a misspelt rolloutTarget, a target without its port, and paths that are not text', () => {
    const cloud = path.join(dir, 'cloud.json');
    expect(refusal(() => writeStandInOverride(dir, cloud, {}, { rolloutTraget: { host: '127.0.0.1' } } as any)))
      .toMatch(/^writeStandInOverride\.options\.rolloutTraget: .*did you mean 'rolloutTarget'\?/);
    expect(refusal(() => writeStandInOverride(dir, cloud, {}, { rolloutTarget: { host: '127.0.0.1', port: '22', privateKeyFile: '/k' } } as any)))
      .toMatch(/^writeStandInOverride\.options\.rolloutTarget\.port: '22' is not allowed: it is a string, not a number/);
    // The options in the stack's place: read as the stack, it had no rollouts to point anywhere and no backend to make local.
    expect(refusal(() => writeStandInOverride(dir, cloud, { rolloutTarget: { host: '127.0.0.1', port: 2222, privateKeyFile: '/k' } })))
      .toMatch(/^writeStandInOverride\.stackJson: .*rolloutTarget.* is not allowed: \{ rolloutTarget \} is an option, the fourth argument, not a synthesized stack\. Fix: writeStandInOverride\(stackDir, cloudFile, undefined, \{ rolloutTarget \}\)/);
    expect(refusal(() => writeStandInOverride(null as any, cloud))).toMatch(/^writeStandInOverride\.stackDir: missing: a text value is required/);
    // The valid call still writes the override.
    expect(fs.existsSync(writeStandInOverride(dir, cloud, {}, { rolloutTarget: { host: '127.0.0.1', port: 2222, privateKeyFile: '/k' } }))).toBe(true);
  });

  test('installStandIn refuses a directory that is not text', () => {
    expect(refusal(() => installStandIn(null as any))).toMatch(/^installStandIn\.dir: missing: a text value is required/);
  });

  test('HetznerStandIn.workspace refuses a misspelt cloudFile', () => {
    const standIn = new HetznerStandIn({ dir: path.join(dir, 'standin'), reattach: false });
    expect(refusal(() => standIn.workspace({}, { cloudfile: path.join(dir, 'shared.json') } as any)))
      .toMatch(/^HetznerStandIn\.workspace\.options\.cloudfile: .*did you mean 'cloudFile'\?/);
  });
});
