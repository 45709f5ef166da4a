import { Duration } from '../core/duration';
import { Environment } from '../core/environment';
import { redactSecrets, ValidationError } from '../core/validation-message';
import { LegalSeat } from '../boundary/processor';
import { checkOptions, checkProps, is, orNothing, Schema } from '../core/runtime-checks';
import { onePort, Port } from '../core/port';
import { DEADMAN_VARIABLE_PREFIX } from './private/paths';

/** A Healthchecks instance the team runs itself. */
export interface SelfHostedDeadMansSwitchProps {
  /** The host of the team's Healthchecks instance (or any receiver that takes Healthchecks-style pings), such as `hc.example.eu`. */
  readonly hostname: string;
  /**
   * The TCP port of the ping URL: `Port.of(8443)`, or the number.
   * @default 443
   */
  readonly port?: Port | number;
}

/** What every dead-man's switch can set. */
export interface DeadMansSwitchOptions {
  /**
   * How often the prober's watchdog pings: the period of each prober's check at the ping service.
   * Configure the check with this period and a grace time of `grace` (the same length).
   * @default Duration.minutes(5)
   */
  readonly interval?: Duration;
}

const SWITCH_OPTIONS: Schema<DeadMansSwitchOptions> = { interval: is.optional(is.instance(Duration, 'use Duration.minutes(5)')) };

/**
 * Watches the prober itself. Every prober carries an always-firing `Watchdog` alert that
 * Alertmanager delivers to a Healthchecks-style ping URL; the ping service alerts the team when the
 * pings stop, so a dead machine, Prometheus, rule evaluation, Alertmanager or network path is
 * noticed like any other outage.
 *
 * The ping URL holds the check's key, so it arrives as a sensitive variable of each stack that runs
 * a prober (`monitoring_deadman_ping_url_<environment>`), one check per prober. The pings carry the watchdog
 * alert (its name and the prober's labels), no tenant data.
 */
export class DeadMansSwitch {
  /**
   * healthchecks.io's ping endpoint (`hc-ping.com`), run by SIA Monkey See Monkey Do, Riga (LV).
   */
  public static healthchecksIo(options: DeadMansSwitchOptions = {}): DeadMansSwitch {
    options = checkOptions<DeadMansSwitchOptions>('DeadMansSwitch.healthchecksIo', 'options', options, SWITCH_OPTIONS, orNothing('pass { interval: Duration.minutes(5) }')) ?? {};
    return new DeadMansSwitch('healthchecks.io', 'hc-ping.com', 443, { city: 'Riga', country: 'LV' }, options);
  }

  /** A Healthchecks instance the team runs itself, inside its EU control plane. */
  public static selfHosted(props: SelfHostedDeadMansSwitchProps, options: DeadMansSwitchOptions = {}): DeadMansSwitch {
    // What is checked is what is built from: a frozen snapshot, each field read once (a getter answers once).
    props = checkProps<SelfHostedDeadMansSwitchProps>('DeadMansSwitch.selfHosted', props, {
      hostname: is.text("pass the instance's host, such as 'ping.example.eu'"),
      // A Port or a number: onePort checks it below.
      port: is.checkedLater(),
    }, "pass { hostname: 'ping.example.eu' }");
    const port = props.port === undefined ? 443 : onePort('DeadMansSwitch.selfHosted', props.port, 'a ping URL has');
    options = checkOptions<DeadMansSwitchOptions>('DeadMansSwitch.selfHosted', 'options', options, SWITCH_OPTIONS, orNothing('pass { interval: Duration.minutes(5) }')) ?? {};
    return new DeadMansSwitch('self-hosted Healthchecks', props.hostname, port, undefined, options);
  }

  /** How often the watchdog pings. */
  public readonly interval: Duration;
  /** The TCP port of the ping URL, one port such as `Port.of(443)` (`port.from` is its number); the prober's firewall opens it. */
  public readonly port: Port;

  private constructor(
    /** What the service is, for documents. */
    public readonly service: string,
    /** Where the pings go; joins the prober's egress allowlist. */
    public readonly hostname: string,
    port: number,
    /** Where the service's operator is seated, when it is not the team itself. */
    public readonly legalSeat: LegalSeat | undefined,
    options: DeadMansSwitchOptions,
  ) {
    this.interval = options.interval ?? Duration.minutes(5);
    const fail = (prop: string, value: unknown, why: string, fix: string): never => {
      // Redacted: a ping URL pasted where the host belongs is itself the secret (whoever has it can ping).
      throw new ValidationError(`DeadMansSwitch(${service}).${prop}: ${redactSecrets(JSON.stringify(String(value)))} is not allowed: ${why}. Fix: ${fix}`);
    };
    if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(hostname ?? '')) {
      fail('hostname', hostname, 'pings leave through the egress allowlist, which holds host names', "pass the ping service's host name, such as 'hc.example.eu'");
    }
    if (!Number.isInteger(port) || port < 1 || port > 65535) fail('port', port, 'a TCP port is 1-65535', 'pass the port of the ping URL, such as 443');
    this.port = Port.of(port, `DeadMansSwitch(${service})`);
    const seconds = this.interval.toSeconds();
    if (seconds < 60 || seconds > 3600 || seconds % 60 !== 0) {
      fail('interval', this.interval, 'Alertmanager repeats the watchdog in whole minutes, and a ping rarer than hourly leaves a dead prober unnoticed too long',
        'use whole minutes from 1 to 60, such as Duration.minutes(5)');
    }
  }

  /**
   * The grace to configure at the ping service: one interval. The watchdog pings once per interval
   * (measured by the live test), so the check alerts when a ping is an interval late, and one ping
   * lost on the way never does.
   */
  public get grace(): Duration {
    return this.interval;
  }

  /**
   * The variable holding the ping URL of the prober of `environment`'s stack. Each prober has a
   * check of its own: with one shared check, a live prober's pings would hide a dead one.
   */
  public secretVariableNameFor(environment: Environment): string {
    return `${DEADMAN_VARIABLE_PREFIX}${environment.name}`;
  }

  /**
   * The TCP port of the ping URL, as a number.
   * @deprecated use `port`, a `Port` since 0.2.0 (`port.from` is this number)
   */
  public get portNumber(): number {
    return this.port.from;
  }

  /** The service, its host and the interval, for documents. */
  public toString(): string {
    return `${this.service} (${this.hostname}), every ${this.interval}`;
  }
}
