import { IConstruct } from 'constructs';
import { Fn, Op, TerraformVariable } from 'cdktf';
import { Port } from '../core/port';
import { TerraformData } from '../core/private/terraform-data';
import { checkOptions, fail, is, leaveOutFix } from '../core/runtime-checks';
import { urlHost, urlHostPrecondition, urlPortPrecondition } from './private/url-port';

/** What a heartbeat needs beyond its URL. */
export interface HeartbeatOptions {
  /**
   * The TCP port the ping URL names (`https://hc.acme.eu:8443/…`). The URL is a secret, so synth cannot read the port
   * from it: it is declared here, the machines that ping open it for the ping host alone (their egress allowlist lets
   * no other host through on it), and Terraform fails the plan when the URL names another port.
   * @default Port.of(443)
   */
  readonly port?: Port;
}

/**
 * Where the backup jobs and the restore drill report: a Healthchecks-style ping service, EU-hosted
 * (healthchecks.io is run from Latvia) or self-hosted.
 *
 * The URL is a secret (anyone holding it can report success), so it comes from a sensitive
 * variable. It is the part up to the ping key, such as `https://hc-ping.com/<ping-key>`; each job
 * pings `<url>/<server>-<job>` with its summary on success, `/start` when it begins and `/fail` with
 * the log tail on failure. The service alerts on a failure ping, and on a missed ping when a job
 * did not run at all.
 *
 * The machines that ping declare the ping host for their egress allowlist on the port the URL names: 443 unless
 * declared (`Heartbeat.healthchecks(url, { port: Port.of(8443) })` for `https://hc.acme.eu:8443/…`), which they open
 * for the ping host alone. The URL is a secret, so Terraform compares its port with the declared one at plan.
 */
export class Heartbeat {
  /** Pings by slug under a Healthchecks ping key; the checks are named `<server>-<job>`. */
  public static healthchecks(pingUrl: TerraformVariable, options?: HeartbeatOptions): Heartbeat {
    const at = 'Heartbeat.healthchecks';
    is.secret("pass a sensitive variable: new SecretVariable(stack, 'backup_heartbeat_url', { description })")(at, 'pingUrl', pingUrl);
    const fix = leaveOutFix("use Port.of(8443), the port the ping URL names (leave it out for 443)");
    const checked = checkOptions<HeartbeatOptions>(at, 'options', options, { port: is.optional(is.instance(Port, fix)) }, leaveOutFix('pass { port: Port.of(8443) }, or leave the options out'));
    const port = checked?.port ?? Port.of(443);
    if (!port.isSingle) fail(at, 'options.port', port.toString(), 'a ping service listens on one port, not a range', fix.text);
    return new Heartbeat(pingUrl, port);
  }

  private constructor(
    /** The sensitive variable holding the ping URL prefix. */
    public readonly pingUrl: TerraformVariable,
    /** The TCP port the ping URL names, declared (the URL is a secret): the machines that ping open it for the ping host alone. */
    public readonly port: Port,
  ) {}

  /**
   * The ping service's host, derived at deploy from the secret URL (the host is not secret, the key
   * after it is), for the egress allowlist of the machines that ping.
   * @internal
   */
  public get host(): string {
    // The URL checks' own pattern, over the value they check: a scheme in capitals ('HTTPS://') is still a scheme.
    return urlHost(this.pingUrl);
  }

  /**
   * The ping host and its declared port, for the egress allowlist of the machines that ping.
   * @internal
   */
  public get destination(): { readonly host: string; readonly port: number } {
    return { host: this.host, port: this.port.from };
  }

  /**
   * Fails the plan unless the URL is `https://<host>[:port]/…`: over `http://` the ping key (and the failure
   * pings' log tails) would cross the network in clear text; with a user name or password in it, the host the
   * allowlist reads would be the user name. Nor unless the URL names the declared port (443 when it names none): on another
   * port the host table would reset every ping. A value that is no URL at all (the stand-in's placeholders) is left to the
   * jobs, whose pings then fail. A precondition of a `terraform_data`
   * beside `scope`, not the variable's validation, which Terraform prints with the value; the precondition's
   * reference stays "(sensitive value)".
   * @internal
   */
  public requireHttps(scope: IConstruct, variableOf: string): void {
    const id = 'heartbeat-https';
    if (scope.node.tryFindChild(id)) return;
    const port = urlPortPrecondition(this.pingUrl, this.port.from, `The ping URL of ${variableOf} (TF_VAR_${this.pingUrl.friendlyUniqueId})`,
      'declare the URL\'s port with Heartbeat.healthchecks(url, { port: Port.of(<port>) })');
    const host = urlHostPrecondition(this.pingUrl, `The ping URL of ${variableOf} (TF_VAR_${this.pingUrl.friendlyUniqueId})`,
      'set it to the https:// URL the ping service gives, such as https://hc-ping.com/<ping-key>');
    const url = Fn.lower(Fn.trimspace(this.pingUrl.stringValue));
    const https = Op.and(Op.not(Fn.startswith(url, 'http://')), Op.not(Fn.can(Fn.regex('^[a-z]+://[^/]*@', url))));
    new TerraformData(scope, id, {
      lifecycle: {
        precondition: [{
          condition: https,
          errorMessage: `The ping URL of ${variableOf} (TF_VAR_${this.pingUrl.friendlyUniqueId}) must be https://<host>/…, with no user name or password: `
            + 'over http:// its ping key would cross the network in clear text. Set it to the https:// URL the ping service gives, such as https://hc-ping.com/<ping-key>.',
        }, {
          // A URL refused above (http://, a user name or password) is not said to have the wrong port, or host, too.
          condition: Op.or(Op.not(https), port.condition),
          errorMessage: port.errorMessage,
        }, {
          condition: Op.or(Op.not(https), host.condition),
          errorMessage: host.errorMessage,
        }],
      },
    });
  }
}
