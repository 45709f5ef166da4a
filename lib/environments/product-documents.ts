import * as fs from 'fs';
import * as path from 'path';
import { IConstruct } from 'constructs';
import { TerraformStack } from 'cdktf';
import { BackupPlan } from '../backup/backup-plan';
import { boundaryDocument } from '../boundary/boundary-document';
import { DataClass } from '../core/data-class';
import { Machine } from '../hetzner/machine';
import { Component } from '../roadmap/component';
import { ChecklistEnvironment, ninetyDayChecklist } from './ninety-day-checklist';
import { PostponedRegister } from '../roadmap/postponed';
import { Product } from './product';

/** An environment's PostgreSQL, as the release path and reports show it. */
export interface EnvironmentDatabaseRecord {
  /** The PostgreSQL major version, such as 15. */
  readonly major: number;
  /** Where the cluster keeps its data on the machine. */
  readonly dataDirectory: string;
  /** The volume the data directory is on, if it has one. */
  readonly volume?: string;
  /** The tuning applied, in words. */
  readonly tuning: string;
}

/**
 * What the release path and reports need to know about one environment stack
 * (`environments.json` beside the synthesized stacks).
 */
export interface EnvironmentRecord {
  /** The stack's name. */
  readonly stack: string;
  /** `test`, `staging` or `production`. */
  readonly environment: string;
  /** Where the environment's machines run. */
  readonly location: string;
  /** The app machine's server type, such as `cx33`. */
  readonly serverType: string;
  /** The server types the environment's preset names, in order of preference. */
  readonly serverTypePreset: string[];
  /** Whether the environment exists only on demand (staging). */
  readonly onDemand: boolean;
  /** For an on-demand environment: the day it expires, `YYYY-MM-DD`. */
  readonly expiresAt?: string;
  /** The environment's PostgreSQL: its major, data directory and settings. */
  readonly database?: EnvironmentDatabaseRecord;
  /** The release path snapshots this environment before each release (production with a backup plan). */
  readonly preReleaseSnapshot?: boolean;
}

/**
 * Writes a product's generated documents into the synth output, beside the stacks:
 * `<outdir>/products/<product>/{boundary.md, postponed.json, postponed.md, environments.json}`. `besideStacks`, the
 * app's other stacks checked against the product's boundary, are in boundary.md too.
 */
export function writeProductDocuments(outdir: string, product: Product, stacks: readonly ChecklistEnvironment[], environments: readonly EnvironmentRecord[], besideStacks: readonly TerraformStack[] = []): void {
  const dir = path.join(outdir, 'products', product.name);
  fs.mkdirSync(dir, { recursive: true });
  const register = postponedRegisterOf(product, stacks.map((s) => s.stack));
  // The stacks beside the environments run the product's boundary too (ProductStacks refuses them
  // otherwise): their data, allowlists and suppressions are published with the environments'.
  fs.writeFileSync(path.join(dir, 'boundary.md'), boundaryDocument({
    title: product.name, policy: product.boundary, stacks: [...stacks.map((s) => s.stack), ...besideStacks], checklist: ninetyDayChecklist(product, stacks),
    encryptedCopies: offsiteBackupCopies([...stacks.map((s) => s.stack), ...besideStacks]),
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

/** The backup copies the stacks keep outside Hetzner (offsite buckets), each with the classes of the machine it copies. */
function offsiteBackupCopies(stacks: readonly TerraformStack[]): Array<{ dataClasses: readonly DataClass[]; to: string }> {
  return stacks.flatMap((s) => s.node.findAll()).filter((c): c is Machine => c instanceof Machine).flatMap((machine) =>
    (BackupPlan.of(machine)?.targets ?? []).filter((t) => t.isOffsite).map((t) => ({ dataClasses: machine.dataClasses, to: String(t) })));
}
