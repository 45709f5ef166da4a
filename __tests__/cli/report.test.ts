import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cli } from './cli';

const EXAMPLES_MODULE = path.resolve(__dirname, '..', '..', 'examples', 'index.ts');

describe('cdktf-sovereign-hetzner report', () => {
  test('writes index.md and a self-contained index.html from the app module', async () => {
    const to = fs.mkdtempSync(path.join(os.tmpdir(), 'report-cli-'));
    const { code, out } = await cli(['report', '--app', EXAMPLES_MODULE, '--export', 'EXAMPLES', '--to', to, '--billing-date', '2026-11-25']);
    expect(code).toBe(0);
    expect(out).toBe(`Wrote ${path.join(to, 'index.md')} and ${path.join(to, 'index.html')} (3 product(s), €${'X'} a month).`.replace('€X', out.match(/€[\d.]+/)![0]));
    expect(fs.readdirSync(to).sort()).toEqual(['diagram-phase1-pilot.svg', 'diagram-phase2-paying.svg', 'diagram-phase3-traction.svg', 'index.html', 'index.md']);
    const md = fs.readFileSync(path.join(to, 'index.md'), 'utf8');
    expect(md).toMatch(/^\| Phase 1: Pre-revenue or early pilots \| phase1-pilot \| \*\*€29\.92\*\* \|$/m);
    expect(fs.readFileSync(path.join(to, 'index.html'), 'utf8').match(/<svg /g)).toHaveLength(3);
    fs.rmSync(to, { recursive: true, force: true });
  });

  test('says how to turn a module that only synthesizes into one it can read', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'report-cli-'));
    // What a plain main.js of an app exports: nothing.
    fs.writeFileSync(path.join(dir, 'main.js'), 'const app = {};\n');
    const { code, err } = await cli(['report', '--app', path.join(dir, 'main.js')]);
    expect(code).toBe(1);
    expect(err).toMatch(/exports no app definition\. Fix: export a function \(app\) => void.*synthesize only when run \(if \(require\.main === module\)\), as the main\.ts of `cdktf-sovereign-hetzner init` does\./);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('an --ordered-on stack the app does not have is a usage error naming the flag and the stacks', async () => {
    // Left to the estimator, it failed as a run (exit 1), naming CostEstimate.serversOrderedOn.
    const { code, err } = await cli(['report', '--app', EXAMPLES_MODULE, '--export', 'EXAMPLES', '--only', 'phase1-pilot', '--ordered-on', 'phase1-pilot-prod=2026-05-01']);
    expect({ code, err }).toEqual({ code: 2, err: expect.stringMatching(/^error: --ordered-on phase1-pilot-prod=2026-05-01 is not allowed: there is no stack phase1-pilot-prod \(the stacks are [^)]*phase1-pilot-production[^)]*\)\. Fix: name one of them/) });
  });

  test('fails without the app module', async () => {
    expect(await cli(['report'])).toMatchObject({ code: 2, err: expect.stringMatching(/^error: --app MODULE is required: the report reads the construct tree\. Fix: pass the built module that exports a function taking the App, and its name: --app dist\/main\.js --export defineApp in a repository `init` scaffolded/) });
  });
});
