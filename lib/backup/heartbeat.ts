import { IConstruct } from 'constructs';
import { Fn, Op, TerraformVariable } from 'cdktf';
import { TerraformData } from '../core/private/terraform-data';
import { is } from '../core/runtime-checks';

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
 * The machines that ping declare the ping host on TCP 443 for their egress allowlist: the port in the URL is known only
 * at deploy. For a ping URL with another port (`https://hc.acme.eu:8443/…`), open that port with
 * `EgressAllowlist.allowTcpPort(machine, 8443, …)`, which lets every allowlisted host through on it, the ping host included.
 */
export class Heartbeat {
  /** Pings by slug under a Healthchecks ping key; the checks are named `<server>-<job>`. */
  public static healthchecks(pingUrl: TerraformVariable): Heartbeat {
    is.secret("pass a sensitive variable: new SecretVariable(stack, 'backup_heartbeat_url', { description })")('Heartbeat.healthchecks', 'pingUrl', pingUrl);
    return new Heartbeat(pingUrl);
  }

  private constructor(
    /** The sensitive variable holding the ping URL prefix. */
    public readonly pingUrl: TerraformVariable,
  ) {}

  /**
   * The ping service's host, derived at deploy from the secret URL (the host is not secret, the key
   * after it is), for the egress allowlist of the machines that ping.
   * @internal
   */
  public get host(): string {
    return Fn.element(Fn.regex('^(?:[a-z]+://)?([^/:]+)', this.pingUrl.stringValue), 0);
  }

  /**
   * Fails the plan unless the URL is `https://<host>[:port]/…`: over `http://` the ping key (and the failure
   * pings' log tails) would cross the network in clear text; with a user name or password in it, the host the
   * allowlist reads would be the user name. A value that is no URL at all (the stand-in's placeholders) is left to the jobs, whose pings then fail.
   * A precondition of a `terraform_data`
   * beside `scope`, not the variable's validation, which Terraform prints with the value; the precondition's
   * reference stays "(sensitive value)".
   * @internal
   */
  public requireHttps(scope: IConstruct, variableOf: string): void {
    const id = 'heartbeat-https';
    if (scope.node.tryFindChild(id)) return;
    new TerraformData(scope, id, {
      lifecycle: {
        precondition: [{
          condition: Op.and(Op.not(Fn.startswith(Fn.lower(Fn.trimspace(this.pingUrl.stringValue)), 'http://')),
            Op.not(Fn.can(Fn.regex('^[a-z]+://[^/]*@', Fn.lower(Fn.trimspace(this.pingUrl.stringValue)))))),
          errorMessage: `The ping URL of ${variableOf} (TF_VAR_${this.pingUrl.friendlyUniqueId}) must be https://<host>/…, with no user name or password: `
            + 'over http:// its ping key would cross the network in clear text. Set it to the https:// URL the ping service gives, such as https://hc-ping.com/<ping-key>.',
        }],
      },
    });
  }
}
