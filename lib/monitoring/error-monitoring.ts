import { Construct } from 'constructs';
import { TerraformVariable } from 'cdktf';
import { EgressForm } from '../boundary/boundary-policy';
import { requireConstructDestinations } from '../boundary/egress-allowlist';
import { DataFlow } from '../boundary/data-flow';
import { BoundarySuppressions } from '../boundary/suppressions';
import { DataClass } from '../core/data-class';
import { invalidValue, ValidationError } from '../core/validation-message';
import { checkProps, is } from '../core/runtime-checks';
import { IMachine } from '../hetzner/machine';
import { guardOnClone } from '../hetzner/private/machine-identity';
import { machineCheck } from '../hetzner/private/require-machine';
import { Component } from '../roadmap/component';
import { ErrorMonitoringEndpoint, ErrorMonitoringHosting } from './error-monitoring-endpoint';
import { ERROR_MONITORING_ENDPOINT_RULE_ID } from './error-monitoring-rule';
import { declareErrorMonitoring } from './private/declarations';
import { ERROR_MONITORING_DSN_VARIABLE, ERROR_MONITORING_ENV, SETUP } from './private/paths';
import { requireSensitiveVariable } from '../core/private/sensitive-variable';
import { secretFile } from './private/secrets';
import { ensureTooling } from './private/tooling';
import { guardStack } from '../core/private/guard-stack';

/** What error monitoring needs: the machine, the endpoint and the DSN. */
export interface ErrorMonitoringProps {
  /** The machine whose applications report errors (a `Machine`). */
  readonly machine: IMachine;
  /** The Sentry-protocol endpoint, declared as a processor of the boundary policy. */
  readonly endpoint: ErrorMonitoringEndpoint;
  /** The DSN (it holds the project's key), from a sensitive variable such as `error_monitoring_dsn`. */
  readonly dsn: TerraformVariable;
}

/**
 * Basic error monitoring under the data boundary. It writes the DSN and the environment's name to
 * `/etc/sovereign/error-monitoring.env` (root-only; `SENTRY_DSN`, `SENTRY_ENVIRONMENT`, which
 * Sentry SDKs read) for the applications' systemd units, and declares the flow of pseudonymized
 * (scrubbed) error events to the endpoint's processor, which the boundary checks hold against the
 * policy. The endpoint's hosts join the machine's egress allowlist by themselves (`EgressAllowlist.requireHostnames`).
 *
 * Scrubbing is the application's part: `send_default_pii=False` and a `before_send` hook.
 */
export class ErrorMonitoring extends Construct {
  /** The Sentry-protocol endpoint the applications report to. */
  public readonly endpoint: ErrorMonitoringEndpoint;
  /** The machine whose applications report errors. */
  public readonly machine: IMachine;

  constructor(scope: Construct, id: string, props: ErrorMonitoringProps) {
    super(scope, id);
    guardStack(this);
    // The props checked are the props built from: one frozen snapshot (a getter answers once; later edits do not reach it).
    props = checkProps<ErrorMonitoringProps>(this, props, {
      machine: machineCheck(),
      endpoint: is.checkedLater(),
      dsn: is.checkedLater(),
    }, "pass { machine, endpoint: ErrorMonitoringEndpoint.selfHosted(processor), dsn: <sensitive variable> }");
    this.endpoint = props.endpoint;
    this.machine = props.machine;
    if (!(props.endpoint instanceof ErrorMonitoringEndpoint)) {
      throw new ValidationError(invalidValue(this, 'endpoint', String(props.endpoint), 'error events go to a declared Sentry-protocol endpoint',
        'pass ErrorMonitoringEndpoint.selfHosted(processor), .hosted(processor) or .sentryEuRegion({ ingestHostname })'));
    }
    requireSensitiveVariable(this, 'dsn', props.dsn);

    // The events' destination, declared for the machine's egress allowlist whoever builds the stack.
    requireConstructDestinations(props.machine, [...props.endpoint.hostnames], 'error monitoring endpoint the applications report scrubbed errors to');
    declareErrorMonitoring(this, props.endpoint);
    DataFlow.declare(this, {
      processor: props.endpoint.processor,
      dataClass: DataClass.PSEUDONYMIZED,
      form: EgressForm.PSEUDONYMIZED,
      purpose: `error events (scrubbed) of the ${props.machine.environment} applications`,
    });
    if (props.endpoint.hosting === ErrorMonitoringHosting.SENTRY_EU_REGION && props.endpoint.nonEuSeatAccepted) {
      // The team accepted the US seat with a reason: recorded as suppressions, which the boundary document lists.
      BoundarySuppressions.add(this, [
        { id: ERROR_MONITORING_ENDPOINT_RULE_ID, reason: props.endpoint.nonEuSeatAccepted },
        { id: 'Boundary-ProcessorAllowed', reason: props.endpoint.nonEuSeatAccepted },
      ]);
    }
    Component.declare(this, Component.ERROR_MONITORING);

    ensureTooling(props.machine);
    // On a clone the environment file names the original's environment and project key.
    guardOnClone(props.machine, { files: [ERROR_MONITORING_ENV] });
    props.machine.addBundlePart({
      name: 'sovereign-monitoring error monitoring',
      files: [secretFile(ERROR_MONITORING_DSN_VARIABLE, props.dsn)],
      commands: [[SETUP, 'error-monitoring', props.machine.environment.name, props.endpoint.hostnames.join(',')]],
    });
  }

  /**
   * The hosts the applications send events to (HTTPS), declared on the machine's egress allowlist already. Not an extra host
   * for `EgressAllowlist.apply`: they are the processor's API, which synth refuses there.
   * @deprecated Passing them to `EgressAllowlist.apply` is refused, and nothing else needs them: ErrorMonitoring declares
   * them on the machine's allowlist itself. Read `endpoint.hostnames` to show them; `EgressAllowlist.hostnamesFor` lists what the allowlist holds.
   */
  public get egressHostnames(): string[] {
    return [...this.endpoint.hostnames];
  }

  /** Where applications read `SENTRY_DSN` and `SENTRY_ENVIRONMENT` (systemd `EnvironmentFile=`). */
  public get environmentFile(): string {
    return ERROR_MONITORING_ENV;
  }
}
