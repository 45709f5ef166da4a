import { isIP } from 'net';
import { Duration } from '../core/duration';
import { onePort, Port } from '../core/port';
import { Environment } from '../core/environment';
import { redactSecrets, ValidationError } from '../core/validation-message';
import { AlertReceiver } from './alert-receiver';
import { checkOptions, fail as refuse, is, orNothing, requireString, Schema } from '../core/runtime-checks';

/** An IP address family, as `Peer.family` names it. */
export type IpFamily = 'ipv4' | 'ipv6';

/** What every uptime check can set. */
export interface UptimeCheckOptions {
  /**
   * A short name, unique in the product: the `check` label of its metrics and alerts.
   * @default - derived from the host and path, such as `acme-eu-health`
   */
  readonly name?: string;
  /**
   * How often the check runs: at most every 2 minutes, since Prometheus marks a series stale 5 minutes after
   * its last scrape (a slower check would flap between data and no data).
   * @default Duration.seconds(30)
   */
  readonly interval?: Duration;
  /**
   * How long one probe may take before it counts as failed; at most the interval.
   * @default - the interval, at most Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * How long the check must keep failing before it alerts; rides out a single lost packet.
   * @default Duration.minutes(2)
   */
  readonly alertAfter?: Duration;
  /**
   * Who is alerted.
   * @default - the monitoring plan's receivers
   */
  readonly notify?: AlertReceiver[];
  /**
   * The environment whose machine runs the probe. Never the checked environment itself.
   * @default - test probes production and production probes test; in Phase 3 the monitoring machine probes both
   */
  readonly probeFrom?: Environment;
  /**
   * The address families probed, each on its own (no fallback to the other), so that an outage of one is seen
   * while the other answers. Narrow it to `['ipv4']` when the host name publishes no AAAA record (an IPv6 probe
   * would fail on it), or to what a CDN in front of the machine serves.
   * @default - what the checked environment's machine serves: IPv4 and IPv6, or IPv6 alone on a machine without public IPv4
   */
  readonly ipFamilies?: IpFamily[];
}

/** An HTTP(S) check: status and body. */
export interface HttpCheckOptions extends UptimeCheckOptions {
  /**
   * The status codes that count as up. A 3xx code turns redirect following off. A check that follows redirects, on
   * another port than 443, is let through the prober's egress allowlist to its host on 443 too (the usual redirect to
   * https://); a redirect to another host needs that host declared with `EgressAllowlist.requireProbeTargets`.
   * @default [200]
   */
  readonly expectStatus?: number[];
  /**
   * A regular expression (Go RE2: no lookaround, no backreferences) the body must match.
   * @default - any body
   */
  readonly expectBody?: string;
  /**
   * For `https://` URLs: alert when the certificate expires within this time.
   * @default Duration.days(14)
   */
  readonly certificateExpiry?: Duration;
}

/** A TCP check: the port accepts a connection (and a TLS handshake, with `tls`). */
export interface TcpCheckOptions extends UptimeCheckOptions {
  /**
   * Whether the port speaks TLS; its certificate's expiry is watched too.
   * @default false
   */
  readonly tls?: boolean;
  /**
   * With `tls`: alert when the certificate expires within this time.
   * @default Duration.days(14)
   */
  readonly certificateExpiry?: Duration;
}

/** The protocol an uptime check speaks. */
export enum UptimeCheckProtocol {
  /** An HTTP(S) request: status, body and certificate. */
  HTTP = 'http',
  /** A TCP connection, with a TLS handshake for TLS checks. */
  TCP = 'tcp',
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** The checks of the options every uptime check takes. */
function checkOptionsSchema(): Schema<UptimeCheckOptions> {
  const duration = is.optional(is.instance(Duration, 'use Duration.seconds(30) or another Duration'));
  return {
    name: is.optional(is.text("name it such as 'acme-health'")),
    interval: duration, timeout: duration, alertAfter: duration,
    notify: is.optional(is.list(is.instance(AlertReceiver, "use AlertReceiver.webhook('ops', { hostname })"), 'list receivers of the plan')),
    probeFrom: is.optional(is.instance(Environment, 'use Environment.PRODUCTION or Environment.TEST')),
    ipFamilies: is.optional(is.list((at, prop, value) => {
      if (value !== 'ipv4' && value !== 'ipv6') refuse(at, prop, value, "an address family is 'ipv4' or 'ipv6'", "list 'ipv4', 'ipv6' or both");
    }, "list 'ipv4', 'ipv6' or both, such as ['ipv4']")),
  };
}

/**
 * An uptime check of one environment: a URL or a TCP port, what counts as up, how often, and who is
 * alerted. Declared once on the product's `MonitoringPlan`; it always runs on a machine other than
 * the one it checks ("nothing is judged up by itself"), through prometheus-blackbox-exporter.
 *
 * Checks target public host names (the prober's egress allowlist holds host names), never
 * resources of another stack: every stack deploys on its own.
 */
export class UptimeCheck {
  /** Checks a URL (`https://` or `http://`): the status code, and optionally the body and the certificate. */
  public static http(environment: Environment, url: string, options: HttpCheckOptions = {}): UptimeCheck {
    requireString('UptimeCheck.http', 'url', url, "pass the public URL, such as 'https://acme.eu/health'");
    // Redacted: a URL with credentials or a token in its query is refused below, and must not be printed meanwhile.
    const label = `UptimeCheck(${redactSecrets(url)})`;
    // What is checked is what is built from: a frozen snapshot, each field read once (a getter answers once).
    options = checkOptions<HttpCheckOptions>(label, 'options', options, {
      ...checkOptionsSchema(),
      expectStatus: is.optional(is.list(is.number('pass the codes that mean up, such as [200]', { integer: true }), 'pass the codes that mean up, such as [200]')),
      expectBody: is.optional(is.text("pass a regular expression, such as '\"status\":\"ok\"'")),
      certificateExpiry: is.optional(is.instance(Duration, 'use Duration.days(14)')),
    }, orNothing("pass { expectStatus: [200] }")) ?? {};
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || parsed.username || parsed.password) {
      throw new ValidationError(`${label}.url: ${redactSecrets(JSON.stringify(url))} is not allowed: an HTTP check takes an http:// or https:// URL without credentials. Fix: pass the public URL, such as 'https://acme.eu/health'`);
    }
    const tls = parsed.protocol === 'https:';
    const port = parsed.port ? Number(parsed.port) : (tls ? 443 : 80);
    const status = options.expectStatus ?? [200];
    if (status.length === 0 || status.some((s) => !Number.isInteger(s) || s < 100 || s > 599)) {
      throw new ValidationError(`${label}.expectStatus: ${JSON.stringify(status)} is not allowed: status codes are 100-599. Fix: pass the codes that mean up, such as [200]`);
    }
    if (options.expectBody !== undefined) checkRegex(label, options.expectBody);
    return new UptimeCheck(environment, UptimeCheckProtocol.HTTP, url, parsed.hostname, probePort(label, port), tls, {
      ...options,
      name: options.name ?? deriveName(`${parsed.hostname}${parsed.pathname}`),
      expectStatus: [...status],
    }, label);
  }

  /** Checks that a TCP port accepts connections, such as a mail or database proxy port: `Port.of(993)`, or the number. */
  public static tcp(environment: Environment, host: string, port: Port | number, options: TcpCheckOptions = {}): UptimeCheck {
    requireString('UptimeCheck.tcp', 'host', host, "pass the public host name, such as 'mail.acme.eu'");
    const number = onePort(`UptimeCheck(${redactSecrets(host)})`, port, 'a TCP check connects to');
    const label = `UptimeCheck(${redactSecrets(`${host}:${number}`)})`;
    // What is checked is what is built from: a frozen snapshot, each field read once (a getter answers once).
    options = checkOptions<TcpCheckOptions>(label, 'options', options, {
      ...checkOptionsSchema(),
      tls: is.optional(is.boolean()),
      certificateExpiry: is.optional(is.instance(Duration, 'use Duration.days(14)')),
    }, orNothing('pass { tls: true }')) ?? {};
    return new UptimeCheck(environment, UptimeCheckProtocol.TCP, `${host}:${number}`, host, probePort(label, number), options.tls ?? false, {
      ...options,
      name: options.name ?? deriveName(`${host}-${number}`),
    }, label);
  }

  /** The `check` label of its metrics and alerts, unique in the product. */
  public readonly name: string;
  /** How often the check runs. */
  public readonly interval: Duration;
  /** How long one probe may take before it counts as failed. */
  public readonly timeout: Duration;
  /** How long the check must keep failing before it alerts. */
  public readonly alertAfter: Duration;
  /** Receivers named by the check; empty means the plan's receivers. */
  public readonly notify: readonly AlertReceiver[];
  /** The address families the check names, if any; the prober otherwise probes what the checked machine serves. */
  public readonly ipFamilies?: readonly IpFamily[];
  /** The environment whose machine runs the probe, when the check names one. */
  public readonly probeFrom?: Environment;
  /** The status codes that count as up (HTTP checks). */
  public readonly expectStatus: readonly number[];
  /** The regular expression the body must match (HTTP checks), if any. */
  public readonly expectBody?: string;
  /** When the certificate's expiry alerts; only for TLS checks. */
  public readonly certificateExpiry?: Duration;

  private constructor(
    /** The environment the check watches. */
    public readonly environment: Environment,
    /** HTTP or TCP. */
    public readonly protocol: UptimeCheckProtocol,
    /** The URL, or `host:port` for TCP checks. */
    public readonly target: string,
    /** The host name the probe connects to; joins the prober's egress allowlist. */
    public readonly hostname: string,
    /** The TCP port the probe connects to: one port, such as `Port.of(443)` (`port.from` is its number). */
    public readonly port: Port,
    /** Whether the probe speaks TLS. */
    public readonly tls: boolean,
    options: HttpCheckOptions & TcpCheckOptions & { name: string },
    label: string,
  ) {
    // Quoted and redacted as every refusal is: a target may carry credentials or a token.
    const fail = (prop: string, value: unknown, why: string, fix: string): never => refuse(label, prop, value, why, fix);
    this.name = options.name;
    this.interval = options.interval ?? Duration.seconds(30);
    this.timeout = options.timeout ?? (this.interval.isLongerThan(Duration.seconds(10)) ? Duration.seconds(10) : this.interval);
    this.alertAfter = options.alertAfter ?? Duration.minutes(2);
    this.notify = [...(options.notify ?? [])];
    this.probeFrom = options.probeFrom;
    this.ipFamilies = options.ipFamilies && [...new Set(options.ipFamilies)];
    this.expectStatus = options.expectStatus ?? [];
    this.expectBody = options.expectBody;
    this.certificateExpiry = tls ? (options.certificateExpiry ?? Duration.days(14)) : undefined;

    if (!Environment.all().includes(environment)) fail('environment', environment, 'it is not an environment', 'use Environment.TEST or Environment.PRODUCTION');
    if (!NAME.test(this.name)) fail('name', this.name, 'a check name is 1-63 lowercase letters, digits or "-"', "pass name: 'api-health'");
    if (hostname === 'localhost' || hostname.endsWith('.localhost') || isIP(hostname.replace(/^\[|\]$/g, '')) !== 0) {
      fail('target', target, 'a check of an IP address or localhost cannot leave through the egress allowlist, and a loopback check judges the prober by itself',
        'check the public host name of the environment, such as https://acme.eu/health');
    }
    if (!HOSTNAME.test(hostname)) fail('target', target, 'the host is not a fully qualified lowercase host name', "use the environment's public host name, such as acme.eu");
    // Prometheus marks a series stale 5 minutes after its last scrape: a check scraped less often than that would have
    // no data between its runs (MonitoringDataMissing firing every cycle) and a down alert that never holds for long.
    if (this.interval.toSeconds() < 1 || this.interval.toSeconds() > 120 || !Number.isInteger(this.interval.toSeconds())) {
      fail('interval', this.interval, 'a check runs every 1 second to 2 minutes, in whole seconds (Prometheus drops a series 5 minutes after its last scrape, so a slower check has no data between its runs)',
        'use Duration.seconds(30)');
    }
    if (this.timeout.toSeconds() < 1 || this.timeout.isLongerThan(this.interval) || !Number.isInteger(this.timeout.toSeconds())) {
      fail('timeout', this.timeout, `a probe times out after 1 second at least and the interval (${this.interval}) at most, in whole seconds`, 'use Duration.seconds(10)');
    }
    if (!Number.isInteger(this.alertAfter.toSeconds())) {
      // Refused before as "alerts only after a day", which a reader of Duration.seconds(90.5) could not match to the value.
      fail('alertAfter', this.alertAfter, 'Prometheus takes the wait before an alert in whole seconds', 'use Duration.minutes(2), or whole seconds such as Duration.seconds(90)');
    }
    if (this.alertAfter.isLongerThan(Duration.days(1))) {
      fail('alertAfter', this.alertAfter, 'an outage that alerts only after a day is not watched', 'use Duration.minutes(2)');
    }
    if (this.certificateExpiry && (this.certificateExpiry.toSeconds() < 86400 || this.certificateExpiry.isLongerThan(Duration.days(90))
      || !Number.isInteger(this.certificateExpiry.toSeconds()))) {
      fail('certificateExpiry', this.certificateExpiry, 'certificates warn 1 to 90 days ahead (Let\'s Encrypt certificates live 90 days)', 'use Duration.days(14)');
    }
    const again = this.notify.findIndex((r, i) => this.notify.findIndex((o) => o.name === r.name) !== i);
    if (again !== -1) {
      fail(`notify[${again}]`, this.notify[again], `the receiver is already listed (as notify[${this.notify.findIndex((o) => o.name === this.notify[again].name)}]), `
        + 'and Alertmanager would send it every alert of the check twice', 'list each receiver once');
    }
    if (this.ipFamilies && this.ipFamilies.length === 0) {
      fail('ipFamilies', [], 'a check that probes no address family watches nothing', "list 'ipv4', 'ipv6' or both, or leave ipFamilies out");
    }
    if (this.probeFrom === environment) {
      fail('probeFrom', environment, 'the prober would run on the machine it checks, and a machine is never judged up by itself',
        `probe ${environment} from another always-on environment (${environment === Environment.TEST ? 'Environment.PRODUCTION' : 'Environment.TEST'}), or leave probeFrom unset`);
    }
    if (this.probeFrom && !this.probeFrom.alwaysOn) {
      fail('probeFrom', this.probeFrom, 'an on-demand environment is gone most of the time, and its checks with it', 'probe from Environment.TEST or Environment.PRODUCTION');
    }
  }

  /**
   * The TCP port the probe connects to, as a number.
   * @deprecated use `port`, a `Port` since 0.2.0 (`port.from` is this number)
   */
  public get portNumber(): number {
    return this.port.from;
  }

  /** Whether the check follows redirects: not when a 3xx code is the expected answer. */
  public get followRedirects(): boolean {
    return !this.expectStatus.some((s) => s >= 300 && s < 400);
  }

  /** The name and the target, for documents and messages. */
  public toString(): string {
    return `${this.name} (${this.target})`;
  }
}

/** The port a probe connects to, refused as a TCP port (`https://acme.eu:0/`, 70000) with the check's label. */
function probePort(label: string, port: number): Port {
  if (!Number.isInteger(port) || port < 1 || port > 65535) refuse(label, 'port', port, 'a TCP port is 1-65535', 'pass the port the service listens on');
  return Port.of(port, label);
}

function deriveName(text: string): string {
  const name = text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return name || 'check';
}

function checkRegex(label: string, pattern: string): void {
  const fail = (why: string) => new ValidationError(`${label}.expectBody: '${pattern}' is not allowed: ${why}. Fix: pass a plain regular expression, such as '"status":\\s*"ok"'`);
  try {
    new RegExp(pattern);
  } catch (e) {
    throw fail(`it is not a regular expression (${(e as Error).message})`);
  }
  if (/\(\?<?[=!]|\\[1-9]/.test(pattern)) throw fail('the blackbox exporter uses Go RE2, which has no lookaround or backreferences');
}
