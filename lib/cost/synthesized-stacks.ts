import * as fs from 'fs';
import * as path from 'path';
import { IConstruct } from 'constructs';
import { TerraformStack } from 'cdktf';
import { Environment } from '../core/environment';
import type { Product } from '../environments/product';
import { readJsonFile } from '../core/private/json-file';
import { SYNTH_FAILED } from '../core/private/failed-synth-output';

/** The product a stack belongs to, as far as cost and reports need it. */
export interface StackProduct {
  readonly name: string;
  readonly phase?: number;
  readonly phaseTitle?: string;
  /** The staging mode's name, such as `production-snapshot` or `reuse-test-machine`. */
  readonly staging?: string;
}

/** One synthesized stack: its Terraform JSON and what it is. */
export interface SynthesizedStack {
  /** The stack name, such as `acme-production`. */
  readonly name: string;
  /** The stack's Terraform JSON (`cdk.tf.json`), tokens resolved. */
  readonly terraform: Record<string, any>;
  /**
   * The product the stack belongs to.
   * @default - none: the stack is costed among the stacks without a product
   */
  readonly product?: StackProduct;
  /**
   * The environment's name.
   * @default - read from the `environment` label of the stack's resources
   */
  readonly environment?: string;
  /**
   * Whether the stack exists only on demand.
   * @default - true for a staging environment
   */
  readonly onDemand?: boolean;
  /**
   * Whether the release path snapshots this environment before each release (production with a backup plan).
   * @default false
   */
  readonly preReleaseSnapshot?: boolean;
}

/**
 * The stacks under `scope` (an App, or one stack), synthesized in memory from the construct tree.
 * Environment stacks say their product and environment.
 */
export function synthesizedStacksOf(scope: IConstruct): SynthesizedStack[] {
  const stacks = TerraformStack.isStack(scope)
    ? [scope as TerraformStack]
    : scope.node.findAll().filter((c): c is TerraformStack => TerraformStack.isStack(c));
  return stacks.map((stack) => synthesizedStackOf(stack));
}

/**
 * One stack as the estimator reads it, from the construct tree: `terraform` is its synthesized JSON, when the
 * caller has it already. The one reading of a stack for every estimate (`cost`, the report, a budget), so that they
 * agree on what it costs.
 */
export function synthesizedStackOf(stack: TerraformStack, terraform: Record<string, any> = stack.toTerraform()): SynthesizedStack {
  // Environment stacks live in stacks/, above this layer: recognized by what they carry.
  const { product, environment, record } = stack as unknown as { product?: unknown; environment?: unknown; record?: { preReleaseSnapshot?: unknown } };
  return {
    name: stack.node.id,
    terraform,
    ...(isProduct(product) ? { product: productOf(product) } : {}),
    ...(environment instanceof Environment ? { environment: environment.name, onDemand: !environment.alwaysOn } : {}),
    ...(record?.preReleaseSnapshot === true ? { preReleaseSnapshot: true } : {}),
  };
}

// Structural, not instanceof: Product may refer to this layer (its budget) without an import cycle.
function isProduct(value: unknown): value is Product {
  const p = value as Product | undefined;
  return typeof p?.name === 'string' && typeof p.phase?.number === 'number' && typeof p.staging?.name === 'string';
}

/** What the stacks need to know about a product. */
export function productOf(product: Product): StackProduct {
  return { name: product.name, phase: product.phase.number, phaseTitle: product.phase.title, staging: product.staging.name };
}

/** The fix for a file of the synth output that is not JSON (for readJsonFile). */
export const SYNTH_AGAIN = 'synthesize again (npx cdktf synth, or npm run synth): a synth cut short leaves such a file';

/**
 * The names of the stacks the last synth wrote: those of its `manifest.json`. cdktf never removes
 * `stacks/<name>/` of a stack the app no longer has (or, for staging, had only with an expiry), so a
 * directory listing counts stale stacks (priced twice, secrets asked for). Output without a manifest
 * (written by hand or by an older tool) falls back to every directory holding a `cdk.tf.json`. After a failed synth
 * (SYNTH_FAILED, no manifest) it refuses. A manifest written by any later good synth makes it pass again, though only a
 * good synth of an App holding the library's constructs removes SYNTH_FAILED.
 */
export function synthesizedStackNames(outdir: string): string[] {
  const stacksDir = path.join(outdir, 'stacks');
  const written = (name: string) => fs.existsSync(path.join(stacksDir, name, 'cdk.tf.json'));
  const manifest = path.join(outdir, 'manifest.json');
  const failed = path.join(outdir, SYNTH_FAILED);
  // A failed synth removed the manifest: the stacks' files left are an earlier synth's, or none.
  if (fs.existsSync(failed) && !fs.existsSync(manifest)) {
    throw new Error(`the last synth into ${outdir} failed (${fs.readFileSync(failed, 'utf8').trim()}). Fix: the error it printed, then synthesize again (npx cdktf synth, or npm run synth).`);
  }
  if (fs.existsSync(manifest)) {
    const stacks = (readJsonFile(manifest, SYNTH_AGAIN) as { stacks?: Record<string, unknown> }).stacks ?? {};
    return Object.keys(stacks).filter(written).sort();
  }
  return fs.readdirSync(stacksDir).filter(written).sort();
}

/**
 * The environment (`test`, `staging`, `production`) of each stack a product's `environments.json` in `outdir` names,
 * by stack name; an app's other stacks are not in it.
 */
export function stackEnvironments(outdir: string): Map<string, string> {
  const environments = new Map<string, string>();
  const productsDir = path.join(outdir, 'products');
  for (const name of fs.existsSync(productsDir) ? fs.readdirSync(productsDir).sort() : []) {
    const file = path.join(productsDir, name, 'environments.json');
    if (!fs.existsSync(file)) continue;
    const doc = readJsonFile(file, SYNTH_AGAIN) as { environments: Array<{ stack: string; environment: string }> };
    for (const e of doc.environments) environments.set(e.stack, e.environment);
  }
  return environments;
}

/**
 * The stacks of a synthesized app, read from its output directory (`cdktf.out`): each
 * `stacks/<name>/cdk.tf.json`, with products and environments from the
 * `products/<product>/environments.json` written at synth.
 */
export function readSynthesizedStacks(outdir: string): SynthesizedStack[] {
  const stacksDir = path.join(outdir, 'stacks');
  if (!fs.existsSync(stacksDir)) {
    throw new Error(`${stacksDir} not found. Fix: synthesize the app first (\`npx cdktf synth\`), or pass the output directory.`);
  }
  const known = new Map<string, { product: StackProduct; environment: string; onDemand: boolean; preReleaseSnapshot?: boolean }>();
  const productsDir = path.join(outdir, 'products');
  for (const name of fs.existsSync(productsDir) ? fs.readdirSync(productsDir).sort() : []) {
    const file = path.join(productsDir, name, 'environments.json');
    if (!fs.existsSync(file)) continue;
    const doc = readJsonFile(file, SYNTH_AGAIN) as { product: string; phase?: number; staging?: string; environments: Array<{ stack: string; environment: string; onDemand: boolean; preReleaseSnapshot?: boolean }> };
    for (const env of doc.environments) {
      known.set(env.stack, {
        product: { name: doc.product, phase: doc.phase, staging: doc.staging }, environment: env.environment, onDemand: env.onDemand,
        ...(env.preReleaseSnapshot === true ? { preReleaseSnapshot: true } : {}),
      });
    }
  }
  return synthesizedStackNames(outdir)
    .map((name) => {
      const info = known.get(name);
      return {
        name,
        terraform: readJsonFile(path.join(stacksDir, name, 'cdk.tf.json'), SYNTH_AGAIN),
        ...(info ? { product: info.product, environment: info.environment, onDemand: info.onDemand } : {}),
        ...(info?.preReleaseSnapshot ? { preReleaseSnapshot: true } : {}),
      };
    });
}
