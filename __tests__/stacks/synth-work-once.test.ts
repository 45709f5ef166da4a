import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Fn } from 'cdktf';
import { Machine } from '../../lib';
import * as productDocuments from '../../lib/environments/product-documents';
import { LARGE_PRODUCT_NAME, largeProductStacks } from '../setup/large-product';

// Audit (scale): a large product (__tests__/setup/large-product.ts) took several seconds of CPU to synthesize, most of it
// work done again and again (scripts/bench-synth-large.results.md):
// - every stack of a product wrote the product's documents, and each writing ran the boundary checks on every stack
//   of the product, so the checks ran once per stack per stack;
// - a machine's rollout built its inputs document (a Terraform function call per deploy-time reference, each of which
//   cdktf gives a full stack trace) at every resolution of the stack, and a synth resolves each stack many times.
// What is done once is asserted here, not how long it takes.

function synthesizeLargeProduct(): { app: App; stacks: ReturnType<typeof largeProductStacks> } {
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'synth-once-')) });
  const stacks = largeProductStacks(app);
  app.synth();
  return { app, stacks };
}

afterEach(() => jest.restoreAllMocks());

describe('work a synth does once', () => {
  test("the product's documents are written once per synth, complete, whichever stack synthesizes first", () => {
    const write = jest.spyOn(productDocuments, 'writeProductDocuments');
    const { app } = synthesizeLargeProduct();
    expect(write.mock.calls.map(([, product]) => product.name)).toEqual([LARGE_PRODUCT_NAME]);
    // Written by the first stack, they still cover the stacks synthesized after it.
    const boundary = fs.readFileSync(path.join(app.outdir, 'products', LARGE_PRODUCT_NAME, 'boundary.md'), 'utf8');
    for (const environment of ['test', 'staging', 'production']) expect(boundary).toContain(`| ${LARGE_PRODUCT_NAME}-${environment}/App |`);
    // A second synth of the same app writes them again.
    app.synth();
    expect(write).toHaveBeenCalledTimes(2);
  });

  test("a machine's rollout builds its inputs document once per bundle: one jsonencode per deploy-time reference", () => {
    const jsonencode = jest.spyOn(Fn, 'jsonencode');
    const { stacks } = synthesizeLargeProduct();
    const references = stacks.all.flatMap((s) => s.node.findAll().filter(Machine.isMachine))
      .flatMap((m) => [...m.bundle.files().values()].flatMap((f) => f.content.match(/\$\{TfToken\[[^\]]+\]\}/g) ?? []));
    expect(references.length).toBeGreaterThan(20);
    expect(jsonencode.mock.calls.length).toBe(references.length);
  });
});
