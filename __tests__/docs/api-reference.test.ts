import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// The API reference is built by TypeDoc from the package's public entry points (typedoc.json: the
// constructs, the stacks and the stand-in; not the generated hcloud bindings) with every public symbol
// required to carry documentation. A symbol without it, a public type that refers to one the entry
// points do not export, or a broken link fails the build, and this test lists each.

const ROOT = path.resolve(__dirname, '..', '..');
const TYPEDOC = path.join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc');

/** TypeDoc's warnings and errors, without colour codes, one per entry. */
function problemsOf(output: string): string[] {
  return output.replace(/\x1b\[[0-9;]*m/g, '').split('\n')
    .filter((line) => /^\[(warning|error)\]/.test(line) && !/Found \d+ errors and \d+ warnings/.test(line));
}

describe('the API reference', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'api-reference-'));
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));
  let result: ReturnType<typeof spawnSync>;
  let problems: string[];

  beforeAll(() => {
    if (!fs.existsSync(TYPEDOC)) throw new Error(`TypeDoc is not installed (${TYPEDOC}). Fix: npm ci (it is a devDependency).`);
    // typedoc.json treats warnings as errors (`npm run docs` fails on them); here they are collected
    // instead, so that the pages are written and each test below judges one thing.
    result = spawnSync(process.execPath, [TYPEDOC, '--options', path.join(ROOT, 'typedoc.json'), '--out', out, '--treatWarningsAsErrors', 'false'], {
      cwd: ROOT, encoding: 'utf8', timeout: 600_000,
    });
    problems = problemsOf(`${result.stdout}\n${result.stderr}`);
  }, 600_000);

  test('documents every public symbol', () => {
    const undocumented = problems.filter((p) => p.includes('does not have any documentation'))
      .map((p) => p.replace(/^\[warning\] /, '').replace(/, defined in cdktf-sovereign-hetzner\//, ' in ').replace(/, does not have any documentation$/, ''));
    // One line per symbol, so that the failure is the to-do list.
    expect(undocumented.join('\n')).toBe('');
  });

  test('builds without any other warning or error: every referenced type exported, every link resolved', () => {
    expect(problems.filter((p) => !p.includes('does not have any documentation')).join('\n')).toBe('');
    expect(result.status).toBe(0);
    expect(fs.existsSync(path.join(out, 'index.html'))).toBe(true);
    // The switch above is the only difference from `npm run docs`.
    expect(JSON.parse(fs.readFileSync(path.join(ROOT, 'typedoc.json'), 'utf8'))).toMatchObject({
      treatWarningsAsErrors: true, validation: { notDocumented: true, notExported: true, invalidLink: true },
    });
  });

  test("holds the constructs, the stacks and the stand-in, and none of the internals the root entry used to export", () => {
    const pages = fs.readdirSync(out, { recursive: true }).map(String);
    for (const page of ['classes/lib.Machine.html', 'interfaces/lib.IMachine.html', 'classes/stacks.ProductStacks.html', 'classes/testing.HetznerStandIn.html']) {
      expect([page, pages.includes(page)]).toEqual([page, true]);
    }
    // Files of this repository import these by relative path; neither the reference nor the root entry at
    // runtime holds them (0.1 exported them from the root).
    const root = require('../../lib');
    for (const internal of ['isExpired', 'writeProductDocuments', 'reportModelOf', 'EGRESS_RULESET', 'secretKindIn', 'costFigures', 'HcloudApiClient', 'priceDataProblems']) {
      expect([internal, pages.filter((p) => p.includes(`lib.${internal}.`)), internal in root]).toEqual([internal, [], false]);
    }
    // The generated bindings are not part of the reference (the Terraform Registry documents hcloud).
    expect(pages.filter((p) => /hcloud/i.test(p))).toEqual([]);
  });
});
