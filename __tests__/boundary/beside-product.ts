import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, TerraformStack } from 'cdktf';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import { DataClass, Environment, Machine, Phase, Product, ServerType, SshKey } from '../../lib';
import { ProductStacks } from '../../stacks';
import { admin, backup, monitoring } from '../setup/product-basics';
import { policy } from './fixtures';

/** An app holding the product acme's environment stacks, written to a new directory. */
export function productApp(): App {
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'beside-product-')) });
  new ProductStacks(app, new Product({ name: 'acme', phase: Phase.ONE, stateBucket: 'acme-tfstate', boundary: policy, admin, backup, monitoring }));
  return app;
}

/** A team's own stack beside the product's, with one production machine holding `dataClass` data and open egress. */
export function analyticsStack(app: App, dataClass = DataClass.SENSITIVE): TerraformStack {
  const stack = new TerraformStack(app, 'analytics');
  new HcloudProvider(stack, 'hcloud', {});
  new Machine(stack, 'Box', {
    environment: Environment.PRODUCTION, role: 'analytics', serverType: ServerType.CX33, sshKeys: [SshKey.fromName('admin')],
    adminCidrs: ['203.0.113.0/24'], dataClasses: [dataClass],
  });
  return stack;
}

/** Synthesizes the whole app; returns the error text, or '' when synth passes. */
export function appSynthError(app: App): string {
  try {
    app.synth();
    return '';
  } catch (e) {
    return String((e as Error).message);
  }
}
