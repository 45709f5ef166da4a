import { Fn, IResolvable, Op } from 'cdktf';

/** One DNS label: lowercase letters, digits and inner hyphens, 1 to 63 of them. */
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
/** Two labels or more. */
const DNS_NAME = `${LABEL}(?:[.]${LABEL})+`;

/**
 * A host name the egress allowlist accepts, in a syntax JavaScript and Terraform's RE2 read alike, so that the host
 * checked at synth (a literal) and the host Terraform derives from a secret URL (a heartbeat's, an S3 endpoint's) are
 * held to one rule (a URL's host may also be localhost: URL_HOST_NAME): at least two labels, an internationalized name
 * in its punycode form (`xn--…`), no trailing dot (urlHost drops a URL's), underscore, port or user name. With HOST_NAME_MAX_LENGTH and ADDRESS_ENDING. No backslash: Terraform's strings refuse `\.`.
 */
export const HOST_NAME = `^${DNS_NAME}$`;

/**
 * HOST_NAME, or `localhost`: the host a URL may name (hostNameCondition), as a stand-in endpoint on loopback does. The
 * table never filters loopback, and the refresh does not look it up. A literal host (a processor's API, an extra host,
 * a Storage Box) names someone reached off the machine, so it is held to HOST_NAME.
 */
const URL_HOST_NAME = `^(?:localhost|${DNS_NAME})$`;

/** The longest name DNS carries. */
export const HOST_NAME_MAX_LENGTH = 253;

/**
 * A name whose top-level label is all digits is an IP address ('203.0.113.7'): the allowlist resolves names, and the
 * boundary document must name who is reached.
 */
export const ADDRESS_ENDING = '[.][0-9]+$';

const rule = (alternative: string) => `a lowercase DNS name of at least two labels${alternative}, letters, digits and hyphens `
  + '(an internationalized name in its punycode form, xn--…), without an underscore or an IP address';

/** The rule as messages state it (a literal host's; a URL's host may also be localhost, and the URL may name a port). */
export const HOST_NAME_RULE = rule('');

/** The rule for a URL's host as messages state it. */
export const URL_HOST_NAME_RULE = rule(' (or localhost)');

/** Whether `host` is a host name the allowlist accepts, in JavaScript. */
export function isHostName(host: string): boolean {
  return host.length <= HOST_NAME_MAX_LENGTH && new RegExp(HOST_NAME).test(host) && !new RegExp(ADDRESS_ENDING).test(host);
}

/** Whether the host Terraform computes from a URL (`host`, a token) is a host name the allowlist accepts (URL_HOST_NAME): false where it cannot be computed. */
export function hostNameCondition(host: string): IResolvable {
  return Fn.try([Op.and(Op.and(Fn.can(Fn.regex(URL_HOST_NAME, host)), Op.lte(Fn.lengthOf(host), HOST_NAME_MAX_LENGTH)), Op.not(Fn.can(Fn.regex(ADDRESS_ENDING, host)))), false]);
}
