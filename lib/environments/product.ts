import { BoundaryPolicy } from '../boundary/boundary-policy';
import type { RestoreCheck } from '../backup/restore-check';
import type { S3Provider } from '../backup/s3-provider';
import type { Budget } from '../cost/budget';
import type { MonitoringPlan } from '../monitoring/monitoring-plan';
import { DataFlowProps } from '../boundary/data-flow';
import { Environment } from '../core/environment';
import { labelValueProblem } from '../core/labels';
import { ValidationError } from '../core/validation-message';
import { Location } from '../hetzner/location';
import { ServerType } from '../hetzner/server-type';
import { Component } from '../roadmap/component';
import { Phase } from '../roadmap/phase';
import { EarlyAdoption } from '../roadmap/postponed';
import { ServerTypeChoice } from '../roadmap/server-type-choice';
import { AdminAccess } from './admin-access';
import { StagingMode } from './staging';

/** How a product's production data is backed up and proven restorable. */
export interface ProductBackupOptions {
  /** The team's verification queries for the weekly restore drill on the test machine; at least one. */
  readonly restoreChecks: RestoreCheck[];
  /**
   * The offsite S3-compatible provider (EU, not Hetzner); its endpoint, bucket and keys come in as sensitive variables.
   * @default - none; required from Phase 2 on
   */
  readonly offsite?: S3Provider;
  /**
   * The host of the Healthchecks-style service the jobs ping (the ping URLs themselves are secrets).
   * @default 'hc-ping.com'
   */
  readonly heartbeatHostname?: string;
  /**
   * The Storage Box's SSH host keys (`ssh-keyscan -p 23 <host>`, key part), to pin instead of trusting on first use.
   * @default - trusted on first use, with a warning
   */
  readonly storageBoxHostKeys?: string[];
}

export interface ProductProps {
  /** Short name; prefixes stacks and resource names (lowercase letters, digits, "-"). */
  readonly name: string;
  /** The roadmap phase the product is in; decides machines and components. */
  readonly phase: Phase;
  /** Admin SSH keys and networks, for every environment. */
  readonly admin: AdminAccess;
  /** The data boundary: what may leave the EU control plane, to whom, in what form. Every stack is checked against it. */
  readonly boundary: BoundaryPolicy;
  /**
   * What the app sends to external processors; each flow is checked against the boundary, and
   * the processors' hostnames join the app machines' egress allowlist.
   * @default - none
   */
  readonly dataFlows?: DataFlowProps[];
  /** The Object Storage bucket holding every environment's Terraform state (one key per stack). */
  readonly stateBucket: string;
  /**
   * Where the machines run.
   * @default Location.FSN1
   */
  readonly location?: Location;
  /**
   * Where the state bucket is.
   * @default Location.FSN1
   */
  readonly stateLocation?: Location;
  /**
   * How releases are rehearsed.
   * @default StagingMode.reuseTestMachine()
   */
  readonly staging?: StagingMode;
  /**
   * Components built before their phase, each with the reason; they are listed as such in the postponed list.
   * @default - none
   */
  readonly earlyAdoptions?: EarlyAdoption[];
  /**
   * Backups: production gets a BackupPlan (dumps, Storage Box in another location, offsite copy from
   * Phase 2) and the test machine runs the weekly restore drill.
   * @default - none; a production stack then fails synth, since production refuses to run without backups
   */
  readonly backup?: ProductBackupOptions;
  /**
   * Monitoring: uptime checks run from another always-on machine, alert receivers, the dead-man's
   * switch and the error-monitoring endpoint.
   * @default - none; a production stack then fails synth, since production needs uptime checks and a receiver
   */
  readonly monitoring?: MonitoringPlan;
  /**
   * The most the product may cost a month at Hetzner's net list prices: its always-on environments, what
   * they share (the state bucket's Object Storage base price) and 4 rehearsals of 2 hours on on-demand
   * staging. Over it synth fails with the breakdown and the largest items; from `warnAt` (80% unless set) it warns.
   * @default - no budget
   */
  readonly budget?: Budget;
  /**
   * Server types Hetzner cannot deliver right now (for example sold out); each preset falls back to its next type.
   * @default - none
   */
  readonly unavailableServerTypes?: string[];
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

/**
 * A product declared once: its name, phase, admin access and state. Every environment stack
 * reads it from here, so no construct asks the team for the same fact twice.
 */
export class Product {
  public readonly name: string;
  public readonly phase: Phase;
  public readonly admin: AdminAccess;
  public readonly boundary: BoundaryPolicy;
  public readonly dataFlows: readonly DataFlowProps[];
  public readonly stateBucket: string;
  public readonly location: Location;
  public readonly stateLocation: Location;
  public readonly staging: StagingMode;
  public readonly earlyAdoptions: readonly EarlyAdoption[];
  public readonly budget?: Budget;
  public readonly backup?: ProductBackupOptions;
  public readonly monitoring?: MonitoringPlan;
  private readonly unavailable: ReadonlySet<string>;

  constructor(props: ProductProps) {
    const fail = (prop: string, value: unknown, why: string, fix: string): never => {
      throw new ValidationError(`Product(${props.name}).${prop}: ${JSON.stringify(value)} is not allowed: ${why}. Fix: ${fix}`);
    };
    if (!NAME.test(props.name ?? '')) fail('name', props.name, 'a product name is 1-32 lowercase letters, digits or "-"', 'use a short name such as "acme"');
    for (const adoption of props.earlyAdoptions ?? []) {
      if (props.phase.permits(adoption.component)) {
        fail('earlyAdoptions', adoption.component.id, `${props.phase} already includes it`, 'remove the adoption');
      }
      if ((adoption.reason ?? '').trim().length < 20) {
        fail('earlyAdoptions', adoption.component.id, 'an early adoption needs a specific reason of at least 20 characters',
          `say why it cannot wait for its threshold (${adoption.component.threshold})`);
      }
    }
    if (labelValueProblem(props.name)) fail('name', props.name, labelValueProblem(props.name)!, 'use a short name such as "acme"');
    this.name = props.name;
    this.phase = props.phase;
    this.admin = props.admin;
    this.boundary = props.boundary;
    this.dataFlows = props.dataFlows ?? [];
    this.stateBucket = props.stateBucket;
    this.location = props.location ?? Location.FSN1;
    this.stateLocation = props.stateLocation ?? Location.FSN1;
    this.staging = props.staging ?? StagingMode.reuseTestMachine();
    this.earlyAdoptions = props.earlyAdoptions ?? [];
    this.budget = props.budget;
    this.backup = props.backup;
    this.monitoring = props.monitoring;
    this.unavailable = new Set(props.unavailableServerTypes ?? []);
  }

  /** The preset server types for an environment's app machine, in order of preference. */
  public serverTypesFor(environment: Environment): ServerTypeChoice {
    return this.phase.machineFor(environment);
  }

  /**
   * The server type an environment's app machine gets: the first of the phase's preset that is
   * not listed as unavailable. Throws when the whole preset is unavailable.
   */
  public serverTypeFor(environment: Environment): ServerType {
    const choice = this.serverTypesFor(environment);
    const picked = choice.pick(this.unavailable);
    if (!picked) {
      throw new ValidationError(`Product(${this.name}).unavailableServerTypes: every ${environment.name} preset type (${choice}) is listed as unavailable. `
        + 'Fix: wait for capacity, pick another location, or adopt a larger type explicitly.');
    }
    return picked;
  }

  /** The early adoption of a component, if the team made one. */
  public adoptionOf(component: Component): EarlyAdoption | undefined {
    return this.earlyAdoptions.find((a) => a.component === component);
  }
}
