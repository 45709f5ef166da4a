import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { phase1Pilot } from '../../examples/phase1-pilot';
import { writeStandInOverride } from '../../testing';
import { cli, deployEnvironment } from './cli';

// Audit (cli): check's fixes named paths unquoted. In a project under a directory with a space ("my projects"),
// the pasted `rm -rf <stack dir>` removed two other directories and left the stack's, and `terraform -chdir=<dir>`
// split in two.

describe('the commands a message tells the reader to paste hold a path with a space as one word', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-paths-'));
  const outdir = path.join(work, 'my project', 'cdktf.out');
  fs.mkdirSync(path.dirname(outdir));
  const app = new App({ outdir });
  phase1Pilot(app);
  app.synth();
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  /** The words `sh` splits a pasted command into. */
  const words = (command: string) => spawnSync('sh', ['-c', `printf '%s\\n' ${command}`], { encoding: 'utf8' }).stdout.trimEnd().split('\n');

  test("check's terraform -chdir names the production stack's directory as one word", async () => {
    const { err } = await cli(['check', 'phase1-pilot-test', '--out', outdir]);
    const command = /export TF_VAR_production_backup_host=\$\((terraform .*? output -raw backup_drill_host)\)/.exec(err)?.[1];
    expect(words(command!)).toEqual(['terraform', `-chdir=${path.join(outdir, 'stacks', 'phase1-pilot-production')}`, 'output', '-raw', 'backup_drill_host']);
  });

  // Last: it removes production's stack directory.
  test("check's rm -rf of a rehearsal's stack directory removes that directory, and no other", async () => {
    const stackDir = path.join(outdir, 'stacks', 'phase1-pilot-production');
    writeStandInOverride(stackDir, path.join(work, 'rehearsal.cloud.json'));
    // What the unquoted path's first word names.
    const decoy = path.join(work, 'my');
    fs.mkdirSync(decoy);
    const { code, err } = await cli(['check', 'phase1-pilot-production', '--out', outdir], deployEnvironment(outdir));
    expect(code).toBe(1);
    const fix = /Fix: (rm -rf .*) and synthesize again/.exec(err)?.[1];
    expect(words(fix!)).toEqual(['rm', '-rf', stackDir]);
    expect(spawnSync('sh', ['-c', fix!], { cwd: work }).status).toBe(0);
    expect({ stack: fs.existsSync(stackDir), decoy: fs.existsSync(decoy) }).toEqual({ stack: false, decoy: true });
  });
});
