import { quote, redactSecrets, ValidationError } from '../core/validation-message';
import { Processor } from '../boundary/processor';
import { checkProps, is } from '../core/runtime-checks';
import { isReason, REASON_RULE } from '../core/reason';

/** Who runs the Sentry-protocol service that receives the application's error events. */
export enum ErrorMonitoringHosting {
  /** GlitchTip (or self-hosted Sentry) run by the team inside its EU control plane. */
  SELF_HOSTED = 'self-hosted',
  /** A hosted service of an EU-seated provider. */
  HOSTED = 'hosted',
  /** Sentry SaaS in its EU data region: stored in Frankfurt, run by a company seated in the US. */
  SENTRY_EU_REGION = 'sentry-eu-region',
}

/** Sentry's EU data region: the organization's ingest host, and the team's acceptance of a processor seated in the US. */
export interface SentryEuRegionProps {
  /** The organization's EU ingest host from the DSN, such as `o123456.ingest.de.sentry.io`. */
  readonly ingestHostname: string;
  /**
   * Why the team accepts a processor seated outside the EU for its error events; at least 20
   * letters, 8 of them different. Without it the boundary checks fail synth. With it, the exception is recorded as
   * suppressions of `Boundary-ErrorMonitoringEndpoint` and `Boundary-ProcessorAllowed`, which the
   * boundary document lists with this reason.
   * @default - not accepted: synth fails
   */
  readonly usSeatAccepted?: string;
}

const SENTRY_EU_INGEST = /^o[0-9]+\.ingest\.de\.sentry\.io$/;

/**
 * Where applications report errors: a Sentry-protocol endpoint, declared as the processor it is.
 *
 * Error events carry user data (request URLs, user IDs, stack-frame variables), so the endpoint is a
 * processor like any other: declared in the `BoundaryPolicy` with its legal seat, and allowed to
 * receive pseudonymized (scrubbed) data. The application scrubs before sending (Sentry SDKs:
 * `send_default_pii=False` and a `before_send` hook); that part is application code.
 */
export class ErrorMonitoringEndpoint {
  /**
   * GlitchTip run by the team itself inside its EU control plane. Declare it as a processor with
   * the team's own legal seat and the GlitchTip host name, and allow it pseudonymized data in the
   * policy, so that the boundary document shows where error events go.
   */
  public static selfHosted(processor: Processor): ErrorMonitoringEndpoint {
    return new ErrorMonitoringEndpoint(ErrorMonitoringHosting.SELF_HOSTED, processor);
  }

  /** A hosted Sentry-protocol service of an EU-seated provider, declared as a processor in the policy. */
  public static hosted(processor: Processor): ErrorMonitoringEndpoint {
    return new ErrorMonitoringEndpoint(ErrorMonitoringHosting.HOSTED, processor);
  }

  /**
   * Sentry SaaS in its EU data region (events stored in Frankfurt). Functional Software, Inc., the
   * company behind Sentry, is seated in San Francisco (US) for the EU region too, so US law reaches
   * the data: the policy cannot allow it, and synth fails unless the team accepts that with a
   * reason (`usSeatAccepted`). Self-hosted GlitchTip keeps the events inside the control plane.
   */
  public static sentryEuRegion(props: SentryEuRegionProps): ErrorMonitoringEndpoint {
    // What is checked is what is built from: a frozen snapshot, each field read once (a getter answers once).
    props = checkProps<SentryEuRegionProps>('ErrorMonitoringEndpoint.sentryEuRegion', props, {
      ingestHostname: is.text("copy the host from the DSN, such as 'o123456.ingest.de.sentry.io'"),
      usSeatAccepted: is.optional(is.text('say why a US-seated processor is acceptable (contract, scrubbing), or self-host GlitchTip')),
    }, "pass { ingestHostname: 'o123456.ingest.de.sentry.io' }");
    if (!SENTRY_EU_INGEST.test(props.ingestHostname ?? '')) {
      throw new ValidationError(`ErrorMonitoringEndpoint.sentryEuRegion.ingestHostname: ${redactSecrets(JSON.stringify(props.ingestHostname))} is not allowed: `
        + "events for the EU data region go to the organization's ingest host in the EU. Fix: copy the host from the DSN, such as 'o123456.ingest.de.sentry.io'");
    }
    if (props.usSeatAccepted !== undefined && !isReason(props.usSeatAccepted)) {
      throw new ValidationError(`ErrorMonitoringEndpoint.sentryEuRegion.usSeatAccepted: ${JSON.stringify(props.usSeatAccepted)} is not allowed: `
        + `accepting a US-seated processor needs a specific reason of at least 20 characters (${REASON_RULE}). Fix: say why it is acceptable (contract, scrubbing), or self-host GlitchTip`);
    }
    const processor = new Processor({
      name: 'Sentry (Functional Software, Inc.)',
      legalSeat: { city: 'San Francisco', country: 'US' },
      hostnames: [props.ingestHostname],
      purpose: 'error monitoring (EU data region, Frankfurt)',
      note: 'The EU data region stores events in Frankfurt; the company is seated in the US.',
    });
    return new ErrorMonitoringEndpoint(ErrorMonitoringHosting.SENTRY_EU_REGION, processor, props.usSeatAccepted);
  }

  private constructor(
    /** Who runs the endpoint: the team, a hosted EU service, or Sentry's EU region. */
    public readonly hosting: ErrorMonitoringHosting,
    /** The processor that receives the events. */
    public readonly processor: Processor,
    /** The team's reason for accepting a non-EU seat, if it gave one. */
    public readonly nonEuSeatAccepted?: string,
  ) {
    if (!(processor instanceof Processor)) {
      throw new ValidationError(`ErrorMonitoringEndpoint.processor: ${quote(processor)} is not allowed: the endpoint is a processor of the boundary. `
        + "Fix: pass new Processor({ name, legalSeat: { city, country }, hostnames: ['errors.example.eu'] })");
    }
    if (processor.hostnames.length === 0) {
      throw new ValidationError(`ErrorMonitoringEndpoint.processor: '${processor.name}' is not allowed: it names no host, and error events leave only to the hosts of the egress allowlist. `
        + "Fix: give the processor the DSN's host, such as hostnames: ['errors.example.eu']");
    }
  }

  /** The hosts the application sends events to; they join the app machine's egress allowlist. */
  public get hostnames(): readonly string[] {
    return this.processor.hostnames;
  }

  /** The processor and how it is hosted, for documents. */
  public toString(): string {
    return `${this.processor.name} (${this.hosting})`;
  }
}
