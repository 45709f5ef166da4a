import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { phase1Pilot } from '../../examples/phase1-pilot';

// docs/day-2.md tells a team which variable to change, and in which order, to rotate the restic password. The name
// it gives for a product's stacks must be the one ProductStacks declares in both production and the test (drill) stack.

const ROOT = path.resolve(__dirname, '..', '..');

test("docs/day-2.md names the restic password variable that a product's production and test stacks both read", () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'rotation-docs-'));
  try {
    const app = new App({ outdir });
    phase1Pilot(app);
    app.synth();
    const variables = (stack: string) => Object.keys(JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', stack, 'cdk.tf.json'), 'utf8')).variable ?? {});
    const bullet = /^- \*\*restic password\*\*:([\s\S]*?)(?=^- \*\*)/m.exec(fs.readFileSync(path.join(ROOT, 'docs', 'day-2.md'), 'utf8'))?.[1] ?? '';
    const named = /[Ww]ith `ProductStacks` both stacks read `TF_VAR_(\w+)`/.exec(bullet.replace(/\s+/g, ' '))?.[1];
    expect(named).toBeDefined();
    expect(variables('phase1-pilot-production')).toContain(named);
    expect(variables('phase1-pilot-test')).toContain(named);
    expect(bullet.replace(/\s+/g, ' ')).toMatch(/deploy production with the new value first, then test/);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});
