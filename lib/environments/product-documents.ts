import * as fs from 'fs';
import * as path from 'path';
import { IConstruct } from 'constructs';
import { boundaryDocument } from '../boundary/boundary-document';
import { Component } from '../roadmap/component';
import { ChecklistEnvironment, ninetyDayChecklist } from './ninety-day-checklist';
import { PostponedRegister } from '../roadmap/postponed';
import { Product } from './product';

/** What the release path and reports need to know about one environment stack. */
export interface EnvironmentRecord {
  readonly stack: string;
  readonly environment: string;
  /** Where the environment's machines run. */
  readonly location: string;
  readonly serverType: string;
  readonly serverTypePreset: string[];
  readonly onDemand: boolean;
  readonly expiresAt?: string;
  /** The environment's PostgreSQL: its major, data directory and settings. */
  readonly database?: { readonly major: number; readonly dataDirectory: string; readonly volume?: string; readonly tuning: string };
  /** The release path snapshots this environment before each release (production with a backup plan). */
  readonly preReleaseSnapshot?: boolean;
}

/**
 * Writes a product's generated documents into the synth output, beside the stacks:
 * `<outdir>/products/<product>/{boundary.md, postponed.json, postponed.md, environments.json}`.
 */
export function writeProductDocuments(outdir: string, product: Product, stacks: readonly ChecklistEnvironment[], environments: readonly EnvironmentRecord[]): void {
  const dir = path.join(outdir, 'products', product.name);
  fs.mkdirSync(dir, { recursive: true });
  const register = postponedRegisterOf(product, stacks.map((s) => s.stack));
  fs.writeFileSync(path.join(dir, 'boundary.md'), boundaryDocument({
    title: product.name, policy: product.boundary, stacks: stacks.map((s) => s.stack), checklist: ninetyDayChecklist(product, stacks),
  }));
  fs.writeFileSync(path.join(dir, 'postponed.json'), `${JSON.stringify(register.toJson(), null, 2)}\n`);
  fs.writeFileSync(path.join(dir, 'postponed.md'), register.toMarkdown(product.name));
  fs.writeFileSync(path.join(dir, 'environments.json'), `${JSON.stringify({
    product: product.name,
    phase: product.phase.number,
    staging: product.staging.name,
    environments,
  }, null, 2)}\n`);
}

/** The product's postponed register, from the components its stacks declare. */
export function postponedRegisterOf(product: Product, stacks: readonly IConstruct[]): PostponedRegister {
  return new PostponedRegister(product.phase, product.earlyAdoptions, stacks.flatMap((s) => Component.declaredIn(s)));
}
