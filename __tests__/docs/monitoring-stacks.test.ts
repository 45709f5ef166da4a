import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, TerraformStack, TerraformVariable } from 'cdktf';
import { EnvironmentStack } from '../../stacks';
import { EXAMPLES } from '../../examples';

// docs/monitoring/phase-<n>.md say, per environment, what runs there and which stacks declare the monitoring's
// secrets. The pages are generated from the presets (monitoring-document.test.ts keeps them current), but those
// sentences were written by hand: they said staging runs error monitoring and every stack declares
// `error_monitoring_dsn`, while EnvironmentStack gives staging no monitoring at all. Here each page is held to
// the stacks its phase's example synthesizes.

const ROOT = path.resolve(__dirname, '..', '..');
const ENVIRONMENTS = ['test', 'staging', 'production'] as const;

/** The environments whose stack declares the variable `name`. */
function declaring(app: App, name: string): string[] {
  return app.node.children
    .filter((s): s is EnvironmentStack => s instanceof EnvironmentStack)
    .filter((s) => (s as TerraformStack).node.findAll().some((c) => c instanceof TerraformVariable && c.node.id === name))
    .map((s) => s.environment.name);
}

describe.each([1, 2, 3])('docs/monitoring/phase-%s.md against its example', (phase) => {
  const page = fs.readFileSync(path.join(ROOT, 'docs', 'monitoring', `phase-${phase}.md`), 'utf8');
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'monitoring-stacks-')) });
  afterAll(() => fs.rmSync(app.outdir, { recursive: true, force: true }));
  const build = Object.values(EXAMPLES)[phase - 1];
  build(app);
  const stacks = app.node.children.filter((s): s is EnvironmentStack => s instanceof EnvironmentStack);

  test('the example has the stacks the comparison needs', () => {
    expect(stacks.map((s) => s.environment.name)).toEqual(expect.arrayContaining(['test', 'production']));
  });

  test('the stacks it says declare error_monitoring_dsn are the ones that do', () => {
    // The stacks it names, up to any aside in parentheses.
    const sentence = /`error_monitoring_dsn` on ([^.;(]*)/.exec(page)?.[1];
    expect(sentence).toBeDefined();
    const present = stacks.map((s) => s.environment.name);
    const said = /every stack/.test(sentence!) ? present : ENVIRONMENTS.filter((e) => sentence!.includes(e) && present.includes(e));
    expect([...said].sort()).toEqual(declaring(app, 'error_monitoring_dsn').sort());
  });

  test("staging's row says error monitoring runs there only when the staging stack has it", () => {
    const runs = /^\| staging \(on demand\) \| ([^|]*) \|/m.exec(page)?.[1];
    expect(runs).toBeDefined();
    const staging = stacks.find((s) => s.environment.name === 'staging');
    // Phase 2's example has no staging stack; its page must say the same as the others.
    const stagingRuns = staging ? staging.monitoring !== undefined : false;
    expect(/error monitoring/.test(runs!.replace(/\bno error monitoring\b/, ''))).toBe(stagingRuns);
  });
});
