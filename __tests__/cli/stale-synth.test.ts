import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Aspects, TerraformStack } from 'cdktf';
import { phase1Pilot } from '../../examples/phase1-pilot';
import { phase2PayingCustomers } from '../../examples/phase2-paying-customers';
import { cli } from './cli';

// Audit (cli): cdktf never removes a stack's directory, nor a product's environments.json, that the app no longer
// defines. guard planned such a left-over stack (a renamed one, or a name mistyped into an old one) and passed, and
// release read a removed product's environments.json and ran its path, deploying what the app no longer has.

describe('guard and release read only what the last synth wrote', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-stale-'));
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
  // Phase 1's app first, then the app of Phase 2 alone into the same directory: phase1-pilot's files stay.
  const outdir = path.join(work, 'cdktf.out');
  for (const define of [phase1Pilot, phase2PayingCustomers]) {
    const app = new App({ outdir });
    define(app);
    app.synth();
  }
  // Terraform is never needed: guard refuses before it runs it.
  const env = { TERRAFORM_BINARY_NAME: path.join(work, 'no-terraform') };

  test('guard refuses a stack directory left from an earlier synth, and a stack name the synth never wrote, naming those it did', async () => {
    expect(fs.existsSync(path.join(outdir, 'stacks', 'phase1-pilot-production', 'cdk.tf.json'))).toBe(true);
    const left = await cli(['guard', 'phase1-pilot-production', '--out', outdir], env);
    expect(left.code).toBe(1);
    expect(left.err).toMatch(new RegExp(`^error: no stack named 'phase1-pilot-production' in the last synth into ${outdir} \\(${path.join(outdir, 'stacks', 'phase1-pilot-production')} is left from an earlier synth\\)\\. `
      + 'Fix: pass one of phase2-paying-production, phase2-paying-test, or synthesize the app that defines phase1-pilot-production again\\.$'));
    const mistyped = await cli(['guard', 'phase2-paying-prod', '--out', outdir], env);
    expect(mistyped.err).toMatch(/^error: no stack named 'phase2-paying-prod' in the last synth into .*\. Fix: pass one of phase2-paying-production, phase2-paying-test,/);
    // A stack of the last synth is planned (here: Terraform is missing, so it says so).
    expect((await cli(['guard', 'phase2-paying-production', '--out', outdir], env)).err).toMatch(/could not run/);
  });

  test("release refuses a product the last synth did not write, before running anything, even in a dry run", async () => {
    const { code, out, err } = await cli(['release', '--product', 'phase1-pilot', '--out', outdir, '--rehearse', 'true', '--dry-run']);
    expect({ code, out }).toEqual({ code: 1, out: '' });
    expect(err).toMatch(new RegExp(`^error: ${path.join(outdir, 'products', 'phase1-pilot', 'environments.json')} is left from an earlier synth: the last synth into ${outdir} wrote `
      + "no stack 'phase1-pilot-test', 'phase1-pilot-staging', 'phase1-pilot-production', so the release would deploy what the app no longer defines\\. "
      + 'Fix: synthesize the app that defines phase1-pilot \\(npm run synth\\), or pass a product it defines \\(its stacks: phase2-paying-production, phase2-paying-test\\)\\.$'));
    expect((await cli(['release', '--product', 'phase2-paying', '--out', outdir, '--rehearse', 'true', '--dry-run'])).code).toBe(0);
  });
});

// Review (mend): a failed synth left the previous manifest.json, so check (with no names) checked the stacks it had not
// reached, with an earlier synth's files, and passed; guard said "no stack named" of a stack whose file the synth removed.
describe('after a failed synth, the CLI refuses naming it', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-failed-'));
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
  const outdir = path.join(work, 'cdktf.out');
  const good = new App({ outdir });
  phase1Pilot(good);
  good.synth();
  // The same app again, failing at the App's validation after its stacks were written.
  const bad = new App({ outdir });
  phase1Pilot(bad);
  bad.node.addValidation({ validate: () => ['refused for the test'] });
  let failure = '';
  try {
    bad.synth();
  } catch (e) {
    failure = (e as Error).message;
  }

  test('check and guard refuse; a later synth clears it', async () => {
    expect(failure).toMatch(/refused for the test/);
    expect(fs.existsSync(path.join(outdir, 'manifest.json'))).toBe(false);
    // The stored line is the cause, not cdktf's "App-level validation failed with the following errors:" header.
    const stored = fs.readFileSync(path.join(outdir, 'synth-failed'), 'utf8').trim();
    expect(failure.split('\n')[0]).toMatch(/validation failed with the following errors:$/);
    expect(stored).toMatch(/refused for the test$/);
    const cause = stored.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const refusal = new RegExp(`^error: the last synth into ${outdir} failed \\(${cause}\\)\\. Fix: the error it printed, then synthesize again`);
    const checked = await cli(['check', '--out', outdir]);
    expect(checked.code).not.toBe(0);
    expect(checked.err).toMatch(refusal);
    expect((await cli(['guard', 'phase1-pilot-production', '--out', outdir])).err).toMatch(refusal);
    const again = new App({ outdir });
    phase1Pilot(again);
    again.synth();
    expect(fs.existsSync(path.join(outdir, 'synth-failed'))).toBe(false);
    expect((await cli(['check', 'phase1-pilot-test', '--out', outdir])).err).not.toMatch(/last synth .* failed/);
  });
});

// Review (mend): the marker held the error's first line as is, and an Aspect's error (or cdktf's own, quoting a value)
// may carry a secret, read in another CI job; a marker that could not be written, or cleared, went unsaid or failed a
// good synth with a raw fs error.
describe('the synth-failed marker', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-marker-'));
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
  // 64 letters and digits: the shape of an hcloud API token, which the library's redaction knows.
  const token = 'Ab3dEf6hIj9lMn2pQr5tUv8xYz1bCd4fGh7jKl0nOp3rSt6vWx9zAb2dEf5hIj8l';

  const failingApp = (outdir: string, message: string): string => {
    const app = new App({ outdir });
    phase1Pilot(app);
    // cdktf runs the aspects of each stack (not the App's) as it synthesizes it.
    const stack = app.node.children.find((c) => TerraformStack.isStack(c))!;
    Aspects.of(stack).add({ visit: () => { throw new Error(message); } });
    try {
      app.synth();
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('the synth did not fail');
  };

  test("holds the error's cause with a secret-looking value redacted", () => {
    const outdir = path.join(work, 'redacted');
    const message = failingApp(outdir, `hcloud rejected token ${token} for the test`);
    expect(message).toContain('for the test');
    const stored = fs.readFileSync(path.join(outdir, 'synth-failed'), 'utf8');
    expect(stored).not.toContain(token);
    expect(stored).toBe('hcloud rejected token <redacted> for the test\n');
  });

  test('one that cannot be written is said on the error; one that cannot be cleared is warned of, the synth passing', () => {
    const outdir = path.join(work, 'directory');
    fs.mkdirSync(path.join(outdir, 'synth-failed', 'held'), { recursive: true });
    const message = failingApp(outdir, 'refused for the test');
    expect(message).toMatch(/\n\nsynth-failed could not be written \(\S+synth-failed: EISDIR\): check, guard and release cannot tell this synth failed\.$/);
    expect(message).not.toMatch(/manifest\.json could not be removed/);
    const warn = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const app = new App({ outdir });
      phase1Pilot(app);
      expect(() => app.synth()).not.toThrow();
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^warning: \S+synth-failed from an earlier failed synth could not be removed \(ERR_FS_EISDIR\); remove it by hand\.\n$/));
    } finally {
      warn.mockRestore();
    }
    expect(fs.existsSync(path.join(outdir, 'manifest.json'))).toBe(true);
  });

  test('a manifest.json that cannot be removed is its own note; the marker is still written', () => {
    const outdir = path.join(work, 'manifest');
    fs.mkdirSync(path.join(outdir, 'manifest.json', 'held'), { recursive: true });
    const message = failingApp(outdir, 'refused for the test');
    expect(message).toMatch(/\n\nmanifest\.json could not be removed \(\S+manifest\.json: ERR_FS_EISDIR\): remove it before a deploy/);
    expect(message).not.toMatch(/synth-failed could not be written/);
    expect(fs.readFileSync(path.join(outdir, 'synth-failed'), 'utf8')).toBe('refused for the test\n');
  });
});
