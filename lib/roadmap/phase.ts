import { Environment } from '../core/environment';
import { ServerType } from '../hetzner/server-type';
import { Component } from './component';
import { ServerTypeChoice } from './server-type-choice';
import { invalidValue, quote, ValidationError } from '../core/validation-message';
import { requireInstance } from '../core/runtime-checks';

interface PhaseSpec {
  readonly title: string;
  readonly test: ServerTypeChoice;
  readonly production: ServerTypeChoice;
  readonly monitoring?: ServerTypeChoice;
  readonly required: readonly Component[];
  readonly allowed: readonly Component[];
  readonly decisionPoints: readonly string[];
}

const PHASE_ONE_REQUIRED = [Component.REMOTE_BACKUP, Component.EXTERNAL_UPTIME_CHECKS, Component.ERROR_MONITORING];
const PHASE_TWO_REQUIRED = [...PHASE_ONE_REQUIRED, Component.OFFSITE_BACKUP, Component.HOST_OBSERVABILITY];

/**
 * A stage of the machine roadmap: which machines an environment gets and which components
 * are in, required or postponed. "Thresholds, not hopes": a phase is entered because
 * `Roadmap.assess` says the numbers call for it.
 */
export class Phase {
  /**
   * Phase 1, pre-revenue or early pilots: one small permanent test machine (cx23, else cpx22),
   * one modest production machine (cx33, else cpx32), a remote backup target, external uptime
   * checks and basic error monitoring. Everything else is postponed.
   */
  public static readonly ONE = new Phase(1, {
    title: 'Pre-revenue or early pilots',
    test: ServerTypeChoice.of(ServerType.CX23, ServerType.CPX22),
    production: ServerTypeChoice.of(ServerType.CX33, ServerType.CPX32),
    required: PHASE_ONE_REQUIRED,
    allowed: [],
    decisionPoints: [],
  });

  /**
   * Phase 2, first paying customers: production grows to cx43 (else cpx42); an offsite
   * non-Hetzner backup, host metrics and alerting become required; a data volume is allowed
   * once data growth justifies it.
   */
  public static readonly TWO = new Phase(2, {
    title: 'First paying customers',
    test: ServerTypeChoice.of(ServerType.CX23, ServerType.CPX22),
    production: ServerTypeChoice.of(ServerType.CX43, ServerType.CPX42),
    required: PHASE_TWO_REQUIRED,
    allowed: [Component.DATA_VOLUME],
    decisionPoints: [],
  });

  /**
   * Phase 3, real product traction: production moves to dedicated vCPUs (ccx23, else cx53, else cpx52),
   * test grows to cx33 (else cpx32), heavier observability gets its own machine (cx33, else cpx32), and database storage may
   * move to a volume or a separate server. Self-hosted inference is a documented decision point.
   */
  public static readonly THREE = new Phase(3, {
    title: 'Real product traction',
    test: ServerTypeChoice.of(ServerType.CX33, ServerType.CPX32),
    production: ServerTypeChoice.of(ServerType.CCX23, ServerType.CX53, ServerType.CPX52),
    monitoring: ServerTypeChoice.of(ServerType.CX33, ServerType.CPX32),
    required: [...PHASE_TWO_REQUIRED, Component.MONITORING_MACHINE],
    allowed: [Component.DATA_VOLUME, Component.SPLIT_APP_DB],
    decisionPoints: [
      `Self-hosted inference: revisit when ${Component.SELF_HOSTED_INFERENCE.threshold}. Until then, EU model APIs within the data boundary.`,
    ],
  });

  /** Every phase, in order. */
  public static all(): Phase[] {
    return [Phase.ONE, Phase.TWO, Phase.THREE];
  }

  /** The phase with this number, 1 to 3; throws for any other. */
  public static of(number: number): Phase {
    const phase = Phase.all().find((p) => p.number === number);
    if (!phase) throw new ValidationError(invalidValue('Phase.of', 'number', number, `${quote(number)} is not a phase`, 'use Phase.ONE, Phase.TWO or Phase.THREE'));
    return phase;
  }

  private constructor(
    /** 1, 2 or 3. */
    public readonly number: number,
    private readonly spec: PhaseSpec,
  ) {}

  /** The phase's title, such as `Pre-revenue or early pilots`. */
  public get title(): string {
    return this.spec.title;
  }

  /** The server types, in order of preference, for an environment's app machine. */
  public machineFor(environment: Environment): ServerTypeChoice {
    // From JavaScript, 'test' (the name) fell through to production's types.
    requireInstance(`Phase.of(${this.number}).machineFor`, 'environment', environment, Environment,
      'use Environment.TEST, Environment.STAGING or Environment.PRODUCTION (the object, not its name)', 'an Environment');
    // Staging rehearses production: a server built from a production snapshot needs at least production's disk.
    return environment === Environment.TEST ? this.spec.test : this.spec.production;
  }

  /** The separate monitoring machine's types, in phases that have one. */
  public get monitoringMachine(): ServerTypeChoice | undefined {
    return this.spec.monitoring;
  }

  /** Components this phase requires. */
  public get required(): readonly Component[] {
    return this.spec.required;
  }

  /** Whether a component may be built in this phase (required or allowed). */
  public permits(component: Component): boolean {
    // From JavaScript, 'data-volume' (the id, not Component.DATA_VOLUME) answered false: postponed, whatever the phase.
    requireInstance('Phase.permits', 'component', component, Component, 'use a Component constant such as Component.DATA_VOLUME (the object, not its id)', 'a Component');
    return this.spec.required.includes(component) || this.spec.allowed.includes(component);
  }

  /** Components this phase deliberately does not build. */
  public get postponed(): Component[] {
    return Component.all().filter((c) => !this.permits(c));
  }

  /** Decisions this phase must revisit, in words. */
  public get decisionPoints(): readonly string[] {
    return this.spec.decisionPoints;
  }

  /** The phase in words, such as `Phase 1`. */
  public toString(): string {
    return `Phase ${this.number}`;
  }
}
