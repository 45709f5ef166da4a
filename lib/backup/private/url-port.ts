import { conditional, Fn, IResolvable, Op, TerraformVariable } from 'cdktf';

/** The start of a URL up to its host (Terraform's RE2 syntax): an optional scheme, then the host. */
export const URL_HOST = '^(?:[A-Za-z][A-Za-z0-9+.-]*://)?([^/:]+)';

/**
 * The host of the URL in the secret `variable`, derived at deploy for the machine's egress allowlist: read without the
 * spaces around the URL, as every check of it reads it (' https://s3.example.eu' gave ' https' as the host).
 */
export function urlHost(variable: TerraformVariable): string {
  return Fn.element(Fn.regex(URL_HOST, Fn.trimspace(variable.stringValue)), 0);
}

/**
 * A precondition that fails the plan when the URL in the secret `variable` names another port than `port`, the one declared at synth for the
 * machine's egress allowlist (an S3 endpoint's, a heartbeat's ping URL's). Synth cannot read the URL, a secret; a URL on
 * another port would only show as every connection to it reset by the host table, at the first run after the deploy. A
 * URL without a port means 443 (80 for http://); a value that is not a URL is left to its user. For a `terraform_data`
 * beside the jobs rather than the variable's own validation: Terraform prints a variable's value when its validation
 * fails, sensitive or not, and a precondition's references stay "(sensitive value)".
 * @param what the URL as the message names it, such as "The offsite S3 endpoint's URL"
 * @param fix how to declare another port
 */
export function urlPortPrecondition(variable: TerraformVariable, port: number, what: string, fix: string): { condition: IResolvable; errorMessage: string } {
  // Trimmed, as the host and https checks read it: a space before the URL hid its port, read as 443.
  const value = Fn.trimspace(variable.stringValue);
  // The host's group comes first, the port's second.
  const named = Fn.tonumber(Fn.element(Fn.regex(`${URL_HOST}:([0-9]+)`, value), 1));
  const schemeDefault = conditional(Fn.startswith(Fn.lower(value), 'http://'), 80, 443);
  return {
    condition: Op.eq(Fn.try([named, schemeDefault]), port),
    errorMessage: `${what} must use port ${port}, the port declared for it: ${fix}, or use a URL on port ${port}.`,
  };
}
