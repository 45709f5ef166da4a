import { redactSecrets, ValidationError } from '../core/validation-message';
import { checkProps, is, requireString } from '../core/runtime-checks';
import { onePort, Port } from '../core/port';
import { RECEIVER_NAME, SMTP_PASSWORD_PREFIX } from './private/receiver-names';

/** How an alert reaches people. */
export enum AlertReceiverKind {
  /** An HTTPS POST of Alertmanager's webhook JSON (version 4) to a URL that carries its token. */
  WEBHOOK = 'webhook',
  /** An e-mail through an SMTP server, with STARTTLS required. */
  EMAIL = 'email',
}

/** Where a webhook receiver's alerts go (its URL, with its token, is a secret variable). */
export interface WebhookReceiverOptions {
  /**
   * The host the webhook URL points to, such as `chat.example.eu`. The URL itself is a secret and
   * arrives only at plan time, so the egress allowlist of the prober is built from this name; the
   * setup on the machine refuses a URL whose host or port differs, or that is not https.
   */
  readonly hostname: string;
  /**
   * The TCP port of the URL: `Port.of(8443)`, or the number.
   * @default 443
   */
  readonly port?: Port | number;
}

/** Who an e-mail receiver mails, and through which SMTP server (its password is a secret variable). */
export interface EmailReceiverOptions {
  /** Who gets the e-mail. */
  readonly to: string[];
  /** The sender address. */
  readonly from: string;
  /** The SMTP server as `host:port`, such as `smtp.example.eu:587` (submission with STARTTLS). */
  readonly smarthost: string;
  /** The SMTP user; the password arrives as a sensitive variable. */
  readonly username: string;
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A receiver as messages name it, redacted: a webhook URL passed as the name (the first argument) printed its token there. */
function labelOf(name: string): string {
  return `AlertReceiver(${redactSecrets(String(name))})`;
}

/** A receiver's refusal, its value redacted as its name is. */
function refuse(name: string, prop: string, value: unknown, why: string, fix: string): never {
  throw new ValidationError(`${labelOf(name)}.${prop}: ${redactSecrets(JSON.stringify(value))} is not allowed: ${why}. Fix: ${fix}`);
}

/**
 * Who gets alerted: a webhook or an e-mail address, by name. Its secret (the webhook URL with its
 * token, the SMTP password) is never a prop: each stack that sends alerts declares it as a
 * sensitive Terraform variable (`monitoring_webhook_<name>`, `monitoring_smtp_password_<name>`).
 *
 * Alert notifications carry operational facts only (check names, URLs, host names and numbers from
 * the library's rules), never tenant data, so a receiver is not a data processor of the boundary.
 */
export class AlertReceiver {
  /** A webhook, such as a chat integration or an incident tool; `hostname` is where its URL points. */
  public static webhook(name: string, options: WebhookReceiverOptions): AlertReceiver {
    requireString('AlertReceiver.webhook', 'name', name, "name it such as 'ops'");
    // What is checked is what is built from: a frozen snapshot, each field read once (a getter answers once).
    options = checkProps<WebhookReceiverOptions>(labelOf(name), options, {
      hostname: is.text("pass the host its URL points to, such as 'chat.example.eu'"),
      // A Port or a number: onePort checks it below, naming the receiver.
      port: is.checkedLater(),
    }, "pass { hostname: 'chat.example.eu' }");
    const port = options.port === undefined ? 443 : onePort(labelOf(name), options.port, 'a webhook URL has');
    return new AlertReceiver(name, AlertReceiverKind.WEBHOOK, options.hostname, port, undefined);
  }

  /** E-mail through an SMTP server that requires STARTTLS. Use port 587: Hetzner blocks outgoing 25 and 465 by default. */
  public static email(name: string, options: EmailReceiverOptions): AlertReceiver {
    requireString('AlertReceiver.email', 'name', name, "name it such as 'ops'");
    // What is checked is what is built from: a frozen snapshot, each field read once (a getter answers once).
    options = checkProps<EmailReceiverOptions>(labelOf(name), options, {
      to: is.list(is.text("write it as 'ops@example.eu'"), "pass to: ['ops@example.eu']"),
      from: is.text("write it as 'alerts@example.eu'"),
      smarthost: is.text("pass 'smtp.example.eu:587'"),
      username: is.text('pass the SMTP user name'),
    }, "pass { to: ['ops@example.eu'], from, smarthost: 'smtp.example.eu:587', username }");
    const fail = (prop: string, value: unknown, why: string, fix: string): never => refuse(name, prop, value, why, fix);
    const match = /^([^:\s]+):(\d{1,5})$/.exec(options.smarthost ?? '');
    if (!match) fail('smarthost', options.smarthost, 'the SMTP server is written host:port', "pass 'smtp.example.eu:587'");
    const to = options.to ?? [];
    if (to.length === 0) fail('to', to, 'an e-mail receiver needs at least one address', "pass to: ['ops@example.eu']");
    for (const address of [...to, options.from]) {
      if (!EMAIL.test(address ?? '')) fail(address === options.from ? 'from' : 'to', address, 'it is not an e-mail address', "write it as 'ops@example.eu'");
    }
    const again = to.findIndex((address, i) => to.indexOf(address) !== i);
    if (again !== -1) fail(`to[${again}]`, to[again], `the address is already listed (as to[${to.indexOf(to[again])}]), so it would get every alert twice`, 'list each address once');
    if (!options.username) fail('username', options.username, 'Alertmanager logs in to the SMTP server', 'pass the SMTP user name');
    return new AlertReceiver(name, AlertReceiverKind.EMAIL, match![1], Number(match![2]), {
      to: [...to], from: options.from, smarthost: options.smarthost, username: options.username,
    });
  }

  /** The TCP port alerts are sent to: one port, such as `Port.of(443)` (`port.from` is its number). */
  public readonly port: Port;

  private constructor(
    /** Lowercase letters, digits and `_`; names the receiver's secret variable. */
    public readonly name: string,
    /** Webhook or e-mail. */
    public readonly kind: AlertReceiverKind,
    /** The host alerts are sent to: the webhook's host or the SMTP server. */
    public readonly hostname: string,
    port: number,
    /** E-mail settings, for e-mail receivers. */
    public readonly email: Readonly<EmailReceiverOptions> | undefined,
  ) {
    const fail = (prop: string, value: unknown, why: string, fix: string): never => refuse(name, prop, value, why, fix);
    if (!RECEIVER_NAME.test(name ?? '')) {
      fail('name', name, 'a receiver name is 1-31 lowercase letters, digits or "_", starting with a letter (it names a Terraform variable)', "use a name such as 'ops'");
    }
    if (!HOSTNAME.test(hostname ?? '')) {
      fail('hostname', hostname, 'alerts leave through the egress allowlist, which holds host names', "pass the receiver's host name, such as 'chat.example.eu'");
    }
    if (!Number.isInteger(port) || port < 1 || port > 65535) fail('port', port, 'a TCP port is 1-65535', 'pass the port of the URL, such as 443');
    this.port = Port.of(port, labelOf(name));
  }

  /**
   * The TCP port alerts are sent to, as a number.
   * @deprecated use `port`, a `Port` since 0.2.0 (`port.from` is this number)
   */
  public get portNumber(): number {
    return this.port.from;
  }

  /** The name of the sensitive variable that holds the receiver's secret in each stack that sends alerts. */
  public get secretVariableName(): string {
    return this.kind === AlertReceiverKind.WEBHOOK ? `monitoring_webhook_${this.name}` : `${SMTP_PASSWORD_PREFIX}${this.name}`;
  }

  /** The name and where alerts go, for documents and messages. */
  public toString(): string {
    return this.kind === AlertReceiverKind.WEBHOOK ? `${this.name} (webhook to ${this.hostname})` : `${this.name} (e-mail to ${this.email!.to.join(', ')})`;
  }
}
