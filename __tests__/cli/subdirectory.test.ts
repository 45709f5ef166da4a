import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { phase1Pilot } from '../../examples/phase1-pilot';
import { javascriptEntry } from '../../testing/harness/transpile-cache';
import { deployEnvironment } from './cli';

// Audit (cli): without --out, check, guard, cost and release read ./cdktf.out. Run from a subdirectory of the project
// (where a team's shell often is), or in a project whose cdktf.json names another output, they said "cdktf.out/stacks
// not found. Fix: synthesize first" of a synth that was there. They now read the output of the nearest cdktf.json.

describe('the commands run from a subdirectory of the project read its synth', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-subdir-'));
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
  const project = path.join(work, 'acme iac');
  const subdirectory = path.join(project, 'src');
  fs.mkdirSync(subdirectory, { recursive: true });
  fs.writeFileSync(path.join(project, 'cdktf.json'), JSON.stringify({ language: 'typescript', app: 'node main.js', output: 'synth-out' }));
  const outdir = path.join(project, 'synth-out');
  const app = new App({ outdir });
  phase1Pilot(app);
  app.synth();
  const main = javascriptEntry(path.resolve(__dirname, '../../cli/main'));

  /** The CLI as a process of its own, in `cwd`. */
  const run = (args: string[], env: NodeJS.ProcessEnv = {}, cwd = subdirectory) => {
    const result = spawnSync(process.execPath, [main, ...args], { cwd, env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
    return { code: result.status, out: result.stdout, err: result.stderr };
  };

  test('check, cost and guard find the stacks in the output cdktf.json names', () => {
    expect(run(['check', '--plan'], deployEnvironment(outdir))).toMatchObject({ code: 0, err: '', out: expect.stringMatching(/^Everything phase1-pilot-production, phase1-pilot-staging, phase1-pilot-test need for a plan is set/) });
    const cost = run(['cost', '--json']);
    expect(cost.code).toBe(0);
    expect(JSON.parse(cost.out).products.map((p: { product: string }) => p.product)).toEqual(['phase1-pilot']);
    // guard finds the stack, and goes on to Terraform (missing here).
    expect(run(['guard', 'phase1-pilot-production'], { TERRAFORM_BINARY_NAME: path.join(work, 'no-terraform') }).err)
      .toMatch(/^error: .*no-terraform could not run: .*Fix: install Terraform/);
  });

  test('release from a subdirectory refuses before any step (cdktf deploy would not find cdktf.json); the dry run says so', () => {
    const bin = fs.mkdtempSync(path.join(work, 'npx-'));
    const log = path.join(bin, 'calls.log');
    fs.writeFileSync(path.join(bin, 'npx'), `#!/bin/sh\necho "$*" >> "${log}"\n`, { mode: 0o755 });
    const env = { ...deployEnvironment(outdir), PATH: `${bin}:${process.env.PATH}` };
    const refused = run(['release', '--product', 'phase1-pilot', '--rehearse', 'true'], env);
    expect(refused.code).toBe(1);
    expect(refused.err).toBe(`error: release runs in ${subdirectory}, below the project's cdktf.json in ${project}: its steps run cdktf deploy, which reads `
      + `the cdktf.json of the directory it runs in. Nothing was run. Fix: cd '${project}', then release again.\n`);
    expect(fs.existsSync(log)).toBe(false);
    const dry = run(['release', '--product', 'phase1-pilot', '--rehearse', 'true', '--dry-run'], env);
    expect(dry.code).toBe(0);
    expect(dry.err).toMatch(/^note: release runs in .* Run the commands from /);
    // From the project's directory it reads the output cdktf.json names, and hands it to the guard.
    const fromProject = run(['release', '--product', 'phase1-pilot', '--rehearse', 'true', '--dry-run'], env, project);
    expect(fromProject).toMatchObject({ code: 0, err: '', out: expect.stringMatching(/^npx cdktf-sovereign-hetzner guard phase1-pilot-production --out synth-out$/m) });
  });
});
