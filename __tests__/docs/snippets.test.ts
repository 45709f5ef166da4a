import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import { HetznerStandIn, installStandIn } from '../../testing';
import { javascriptEntry } from '../../testing/harness/transpile-cache';

// Every TypeScript snippet in README.md and docs/ is compiled against the library, as a team would
// import it, and every snippet that synthesizes an app is run, its stacks validated and planned by
// Terraform through the stand-in provider. A snippet that is a fragment names its fixture in an HTML
// comment on the line before it, `<!-- snippet: fixture=NAME -->`: the fixture (below) declares what
// the fragment uses, and the fragment takes the place of `/* snippet */`.

const ROOT = path.resolve(__dirname, '..', '..');

const FIXTURES: Record<string, string> = {
  // docs/backup.md: inside the production environment's stack.
  'production-stack': `import { Construct } from 'constructs';
import { TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import { BackupPlan, BackupTarget, Environment, Heartbeat, Location, Machine, StorageBox } from 'cdktf-sovereign-hetzner';
export class ProductionStack extends TerraformStack {
  constructor(scope: Construct, id: string, environment: Environment, app: Machine) {
    super(scope, id);
    /* snippet */
  }
}
`,
  // docs/backup.md: inside the test environment's stack.
  'test-stack': `import { Construct } from 'constructs';
import { TerraformStack, TerraformVariable } from 'cdktf';
import { BackupTarget, Heartbeat, Location, Machine, RestoreCheck, RestoreDrill, StorageBoxAccount } from 'cdktf-sovereign-hetzner';
export class TestStack extends TerraformStack {
  constructor(scope: Construct, id: string, app: Machine, drillHost: TerraformVariable, drillUser: TerraformVariable) {
    super(scope, id);
    const secret = (name: string) => new TerraformVariable(this, name, { type: 'string', sensitive: true });
    /* snippet */
  }
}
`,
  // docs/database.md: the team's app and product, as the README's quick start builds them; the snippet imports the rest.
  'product-app': `import type { App } from 'cdktf';
import type { Product } from 'cdktf-sovereign-hetzner';
declare const app: App;
declare const product: Product;
/* snippet */
`,
  // A jest suite of the team's, with its own stack builder.
  'team-jest': `import type { TerraformStack as Stack } from 'cdktf';
declare function buildProduction(options?: { userData?: string }): Stack;
declare const productionStack: Stack;
declare const stack: Stack;
/* snippet */
`,
};

interface Snippet {
  readonly source: string;
  readonly line: number;
  readonly fixture?: string;
  readonly code: string;
}

function snippets(): Snippet[] {
  const files = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs'), { recursive: true }).map(String)
    .filter((f) => f.endsWith('.md')).map((f) => path.join('docs', f))];
  return files.flatMap((source) => {
    const lines = fs.readFileSync(path.join(ROOT, source), 'utf8').split('\n');
    const found: Snippet[] = [];
    for (let i = 0; i < lines.length; i++) {
      if (lines[i].trim() !== '```ts') continue;
      const end = lines.indexOf('```', i + 1);
      const fixture = /<!-- snippet: fixture=([\w-]+) -->/.exec(lines[i - 1] ?? '')?.[1];
      found.push({ source, line: i + 1, fixture, code: lines.slice(i + 1, end).join('\n') });
      i = end;
    }
    return found;
  });
}

/** The package's entry points, as the repository's source files. */
function localImports(code: string, dir: string): string {
  const to = (p: string) => {
    const rel = path.relative(dir, path.join(ROOT, p)).split(path.sep).join('/');
    return rel.startsWith('.') ? rel : `./${rel}`;
  };
  return code
    .replace(/from 'cdktf-sovereign-hetzner'/g, `from '${to('lib')}'`)
    .replace(/from 'cdktf-sovereign-hetzner\/stacks'/g, `from '${to('stacks')}'`)
    .replace(/from 'cdktf-sovereign-hetzner\/testing'/g, `from '${to('testing')}'`)
    .replace(/from 'cdktf-sovereign-hetzner\/hcloud'/g, `from '${to('generated/providers/hcloud')}'`);
}

describe('the TypeScript snippets of README.md and docs/', () => {
  const all = snippets();
  // Inside the project, so that the snippets resolve its packages.
  fs.mkdirSync(path.join(ROOT, '.tmp'), { recursive: true });
  const dir = fs.mkdtempSync(path.join(ROOT, '.tmp', 'snippets-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const fileOf = (s: Snippet) => path.join(dir, `${s.source.replace(/[/.]/g, '_')}_${s.line}.ts`);

  beforeAll(() => {
    for (const s of all) {
      if (s.fixture && !FIXTURES[s.fixture]) throw new Error(`${s.source}:${s.line} names fixture '${s.fixture}', which the snippet test does not define`);
      const text = s.fixture ? FIXTURES[s.fixture].replace('/* snippet */', s.code) : s.code;
      fs.writeFileSync(fileOf(s), `${localImports(text, dir)}\nexport {};\n`);
    }
  });

  test('the README and the docs have snippets, and the quick start is one of them', () => {
    expect(all.length).toBeGreaterThanOrEqual(6);
    const quickStart = all.find((s) => s.source === 'README.md' && s.code.includes('new ProductStacks(app, product') && s.code.includes('app.synth()'));
    expect(quickStart).toBeDefined();
    // A complete Phase 1 product, backups and monitoring included, in at most 40 lines.
    expect(quickStart!.code.trim().split('\n').length).toBeLessThanOrEqual(40);
  });

  test('every snippet compiles against the library with the project\'s compiler settings', () => {
    const config = ts.readConfigFile(path.join(ROOT, 'tsconfig.test.json'), ts.sys.readFile).config;
    const { options } = ts.parseJsonConfigFileContent(config, ts.sys, ROOT);
    const program = ts.createProgram(all.map(fileOf), { ...options, noEmit: true, noUnusedLocals: false, noUnusedParameters: false });
    // The snippets' own diagnostics: the library's bodies are checked by `npm run typecheck`, and checking them
    // here again was most of this test's CPU.
    const problems = all.flatMap((s) => ts.getPreEmitDiagnostics(program, program.getSourceFile(fileOf(s))))
      .filter((d) => d.file && d.file.fileName.startsWith(dir))
      .map((d) => {
        const snippet = all.find((s) => fileOf(s) === d.file!.fileName)!;
        const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
        return `${snippet.source}:${snippet.line} (line ${line + 1} of the compiled snippet): ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      });
    expect(problems).toEqual([]);
  }, 120_000);

  test('every snippet that synthesizes an app runs, and Terraform validates and plans its stacks through the stand-in', () => {
    const runnable = all.filter((s) => !s.fixture && s.code.includes('app.synth()'));
    expect(runnable.length).toBeGreaterThanOrEqual(1);
    const standIn = HetznerStandIn.shared();
    for (const s of runnable) {
      const cwd = fs.mkdtempSync(path.join(dir, 'run-'));
      // Staging's expiry as the release path and docs/testing.md set it, 2 days ahead, not the far date the suites pin
      // for stable snapshots, which warns that staging would be permanent.
      const stagingExpiresAt = new Date(Date.now() + 2 * 864e5).toISOString().slice(0, 10);
      const run = spawnSync(process.execPath, [javascriptEntry(fileOf(s).replace(/\.ts$/, ''))], { cwd, encoding: 'utf8', env: { ...process.env, CHECKPOINT_DISABLE: '1', STAGING_EXPIRES_AT: stagingExpiresAt } });
      expect(`${s.source}:${s.line}: exit ${run.status}\n${run.stderr}`).toBe(`${s.source}:${s.line}: exit 0\n${run.stderr}`);
      const stacks = fs.readdirSync(path.join(cwd, 'cdktf.out', 'stacks'));
      expect(stacks.length).toBeGreaterThanOrEqual(2);
      // A newcomer copies the snippet and synthesizes: each warning it prints (the cdktf CLI prints the manifest's) is
      // one the text around it names, so that it is expected, not a sign of a mistake in the copy.
      const manifest = JSON.parse(fs.readFileSync(path.join(cwd, 'cdktf.out', 'manifest.json'), 'utf8'));
      const warned = [...new Set(Object.values<any>(manifest.stacks).flatMap((stack) => (stack.annotations ?? [])
        .filter((a: any) => a.level === '@cdktf/warn').map((a: any) => /^([\w-]+):/.exec(a.message)?.[1] ?? a.message)))].sort();
      const named = fs.readFileSync(path.join(ROOT, s.source), 'utf8');
      expect(`${s.source}:${s.line} warns ${warned.filter((rule) => !named.includes(`\`${rule}\``)).join(', ') || 'nothing unnamed'}`)
        .toBe(`${s.source}:${s.line} warns nothing unnamed`);
      for (const stack of stacks) {
        const ws = standIn.workspace(path.join(cwd, 'cdktf.out', 'stacks', stack));
        const validate = ws.validate();
        expect(`${stack}: ${validate.ok ? 'valid' : validate.stderr + validate.stdout}`).toBe(`${stack}: valid`);
        const { run: plan } = ws.plan();
        expect(`${stack}: ${plan.ok ? 'planned' : plan.stderr + plan.stdout}`).toBe(`${stack}: planned`);
      }
    }
  }, 240_000);
});

describe("docs/testing.md's recipe for cdktf deploy against the stand-in", () => {
  const block = /^```js\n(\/\/ standin\.js[\s\S]*?)^```/m.exec(fs.readFileSync(path.join(ROOT, 'docs', 'testing.md'), 'utf8'))?.[1];
  fs.mkdirSync(path.join(ROOT, '.tmp'), { recursive: true });
  const project = fs.mkdtempSync(path.join(ROOT, '.tmp', 'standin-recipe-'));
  afterAll(() => fs.rmSync(project, { recursive: true, force: true }));

  test('standin.js exports the environment installStandIn gives: the CLI configuration, the token, no shared plugin cache', () => {
    expect(block).toBeDefined();
    // A synthesized stack with one secret, where the recipe runs: after `npx cdktf synth`.
    const stackDir = path.join(project, 'cdktf.out', 'stacks', 'acme-test');
    fs.mkdirSync(stackDir, { recursive: true });
    fs.writeFileSync(path.join(stackDir, 'cdk.tf.json'), JSON.stringify({
      terraform: { required_providers: { hcloud: { source: 'hetznercloud/hcloud', version: '~> 1.68' } } },
      variable: { restic_password: { type: 'string', sensitive: true } },
    }));
    // The recipe as written, with the package's entry point as the repository's source.
    const testingEntry = javascriptEntry(path.join(ROOT, 'testing', 'index'));
    fs.writeFileSync(path.join(project, 'standin.js'), block!.replace(/require\('cdktf-sovereign-hetzner\/testing'\)/, `require(${JSON.stringify(testingEntry)})`));
    // `eval "$(node standin.js)"` in a shell that has a plugin cache of its own, as a developer's may.
    const shell = spawnSync('bash', ['-c', 'eval "$(node standin.js)" && node -e "process.stdout.write(JSON.stringify(process.env))"'], {
      cwd: project, encoding: 'utf8', env: { ...process.env, TF_PLUGIN_CACHE_DIR: path.join(project, 'shared-cache') },
    });
    expect(`exit ${shell.status}\n${shell.stderr}`).toBe('exit 0\n');
    const exported = JSON.parse(shell.stdout) as Record<string, string>;
    const { environment } = installStandIn(path.join(project, '.hcloud-standin'));
    expect(environment).toMatchObject({ CDKTF_DISABLE_PLUGIN_CACHE_ENV: '1', TF_PLUGIN_CACHE_DIR: '' });
    for (const [name, value] of Object.entries(environment)) expect([name, exported[name]]).toEqual([name, value]);
    expect(fs.existsSync(exported.TF_CLI_CONFIG_FILE)).toBe(true);
    expect(exported.TF_VAR_restic_password).toEqual(expect.any(String));
    expect(fs.readdirSync(stackDir)).toContain('hcloud_standin_override.tf.json');
  });
});
