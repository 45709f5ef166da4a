import * as fs from 'fs';
import * as path from 'path';
import { App, TerraformStack, Testing } from 'cdktf';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import { SshKey } from '../../lib';

/** A test stack with the provider configured, named so that error paths read well. */
export function testStack(name = 'production'): { app: App; stack: TerraformStack } {
  const app = Testing.app();
  const stack = new TerraformStack(app, name);
  new HcloudProvider(stack, 'hcloud', {});
  return { app, stack };
}

export const ADMIN_KEY = SshKey.fromName('admin');
export const ADMIN_CIDRS = ['203.0.113.0/24'];

/**
 * Runs `fn` with SYNTH_HCL_OUTPUT set (`--hcl`) or unset, and puts the variable back after. cdktf 0.21 reads it when a
 * stack is built, so the stacks are built inside `fn`.
 */
export function withHcl(hcl: boolean, fn: () => void): void {
  const before = process.env.SYNTH_HCL_OUTPUT;
  if (hcl) process.env.SYNTH_HCL_OUTPUT = 'true';
  else delete process.env.SYNTH_HCL_OUTPUT;
  try {
    fn();
  } finally {
    if (before === undefined) delete process.env.SYNTH_HCL_OUTPUT;
    else process.env.SYNTH_HCL_OUTPUT = before;
  }
}

/** The message of what `fn` throws, or '' when it throws nothing: for tests that match a refusal's text. */
export function thrownMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return String((e as Error).message);
  }
  return '';
}

/** Writes an earlier --hcl synth's files of a stack under `outdir` (cdk.tf, metadata.json), which a refused synth must remove; returns their paths. */
export function earlierHclFiles(outdir: string, stackName: string): string[] {
  const dir = path.join(outdir, 'stacks', stackName);
  fs.mkdirSync(dir, { recursive: true });
  const files = [path.join(dir, 'cdk.tf'), path.join(dir, 'metadata.json')];
  for (const file of files) fs.writeFileSync(file, file.endsWith('.tf') ? '# earlier\n' : '{}');
  return files;
}

/** Parsed `Testing.synth` output with validations run. */
export function synthJson(stack: TerraformStack): any {
  return JSON.parse(Testing.synth(stack, true));
}

/** Every resource of a type in a synthesized stack, as a list. */
export function resourcesOf(json: any, type: string): any[] {
  return Object.values(json.resource?.[type] ?? {});
}

/** Warnings recorded on the construct tree. */
export function warningsOf(stack: TerraformStack): string[] {
  return stack.node.findAll().flatMap((c) => c.node.metadata)
    .filter((m) => m.type === '@cdktf/warn')
    .map((m) => String(m.data));
}
