import { Fn, TerraformVariable } from 'cdktf';
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
}
