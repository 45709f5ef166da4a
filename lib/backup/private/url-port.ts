import { conditional, Fn, IResolvable, Op, TerraformVariable } from 'cdktf';
import { hostNameCondition, URL_HOST_NAME_RULE } from '../../boundary/private/host-name';

/** The start of a URL up to its host (Terraform's RE2 syntax): an optional scheme, then the host. */
export const URL_HOST = '^(?:[A-Za-z][A-Za-z0-9+.-]*://)?([^/:]+)';

/**
 * The host of the URL in the secret `variable`, derived at deploy for the machine's egress allowlist: read without the
 * spaces around the URL, as every check of it reads it (' https://s3.example.eu' gave ' https' as the host), in
 * lower case, as DNS reads it and the allowlist's rule for a host name (host-name.ts) holds it, and without a trailing
 * dot ('https://hc.acme.eu./…' names hc.acme.eu, and worked before the host was checked).
 */
export function urlHost(variable: TerraformVariable): string {
  return Fn.trimsuffix(Fn.lower(Fn.element(Fn.regex(URL_HOST, Fn.trimspace(variable.stringValue)), 0)), '.');
}

/**
 * A precondition that fails the plan when the host the allowlist reads from the URL in the secret `variable` (`urlHost`)
 * is not a host name the allowlist accepts, by the rule a literal host is held to at synth (`hostnameProblem`; a URL may also
 * name localhost, and its trailing dot is dropped): an IP address or a user name before the host (read as the host) reached
 * the hostnames file unchecked, and only showed as the refresh failing, or the wrong host allowed, on the machine; an
 * underscore or a name in Unicode is refused too, so that one rule holds for a host however it is given. A value that
 * names no host (no scheme, and no dot, colon or bracket before its path, such as the stand-in's placeholders) is left to its user. Its message never
 * shows the value.
 * @param what the URL as the message names it, such as "The offsite S3 endpoint's URL"
 * @param fix what to set it to
 */
export function urlHostPrecondition(variable: TerraformVariable, what: string, fix: string): { condition: IResolvable; errorMessage: string } {
  const value = Fn.trimspace(variable.stringValue);
  const namesHost = Fn.can(Fn.regex('^(?:[A-Za-z][A-Za-z0-9+.-]*://|[^/]*[.:[])', value));
  const userInfo = Fn.can(Fn.regex('^[A-Za-z][A-Za-z0-9+.-]*://[^/]*@', value));
  return {
    // Terraform evaluates both sides of || and &&: the host's own check stays false, not an error, where it cannot be read.
    condition: Op.or(Op.not(namesHost), Op.and(Op.not(userInfo), hostNameCondition(urlHost(variable)))),
    errorMessage: `${what} must name its host as the egress allowlist reads one, ${URL_HOST_NAME_RULE}, and no user name or password: ${fix}.`,
  };
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
