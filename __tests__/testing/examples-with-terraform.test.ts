import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { EXAMPLES } from '../../examples';
import { HetznerStandIn } from '../../testing';

// Terraform itself judges every stack every example synthesizes: `terraform validate` and
// `terraform plan` through the real CLI, with the stand-in serving the hcloud 1.68 schema.
// New examples are picked up from the registry (examples/index.ts).

function synthesizeAll(): Array<{ example: string; stack: string; dir: string }> {
  const out: Array<{ example: string; stack: string; dir: string }> = [];
  for (const [example, define] of Object.entries(EXAMPLES)) {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `example-tf-${example}-`));
    const app = new App({ outdir });
    define(app);
    app.synth();
    const stacksDir = path.join(outdir, 'stacks');
    for (const stack of fs.readdirSync(stacksDir).sort()) out.push({ example, stack, dir: path.join(stacksDir, stack) });
  }
  return out;
}

const stacks = synthesizeAll();
const standIn = new HetznerStandIn({ reattach: true });

afterAll(() => standIn.stop(true));

describe('every example stack, judged by Terraform', () => {
  test('the registry yields stacks to judge', () => {
    expect(stacks.length).toBeGreaterThanOrEqual(Object.keys(EXAMPLES).length);
  });

  test.each(stacks.map((s) => [`${s.example}/${s.stack}`, s] as const))('%s passes terraform validate and plan', (_name, s) => {
    const ws = standIn.workspace(s.dir, { name: s.stack });
    const validate = ws.validate();
    expect({ ok: validate.ok, diagnostics: validate.diagnostics.filter((d) => d.severity === 'error') }).toEqual({ ok: true, diagnostics: [] });

    const { run, changes } = ws.plan();
    expect({ ok: run.ok, diagnostics: run.diagnostics.filter((d) => d.severity === 'error') }).toEqual({ ok: true, diagnostics: [] });
    // A first plan creates every resource the stack declares, and nothing else.
    const declared = Object.entries(JSON.parse(fs.readFileSync(path.join(s.dir, 'cdk.tf.json'), 'utf8')).resource ?? {})
      .flatMap(([type, byName]) => Object.keys(byName as object).map((name) => `${type}.${name}`)).sort();
    expect(changes!.creates.map((c) => c.address).sort()).toEqual(declared);
  });
});
