import { Token } from 'cdktf';
import { IConstruct } from 'constructs';

/**
 * Formats a synth-time error the one way this library reports them:
 * `<path>.<prop>: <value> is not allowed: <why>. Fix: <how>`
 *
 * The value is quoted as JSON so that empty strings and lists stay visible.
 */
export function invalidValue(scope: IConstruct | string, prop: string, value: unknown, why: string, fix: string): string {
  // The why and the fix redacted too: a fix that writes the value out again (`EgressHost.publicOnly('<it>', …)`) put a
  // webhook URL's token, redacted in the quote, back in the message. Redacted once, from the value as written: a
  // redacted quote redacted again printed a private key as `<redacted><redacted>`.
  return redactSecrets(`${pathOf(scope)}.${prop}: ${quoteAsWritten(value)} is not allowed: ${why}. Fix: ${fix}`);
}

/** The same shape for a value that is missing rather than wrong. */
export function missingValue(scope: IConstruct | string, prop: string, why: string, fix: string): string {
  return redactSecrets(`${pathOf(scope)}.${prop}: missing: ${why}. Fix: ${fix}`);
}

/** A construct's path, or a path written out for values outside the construct tree (`BoundaryPolicy`, `Processor(…)`). */
function pathOf(scope: IConstruct | string): string {
  return typeof scope === 'string' ? scope : scope.node.path;
}

/**
 * The value as a reader should see it: strings quoted (a token's placeholder said to be one), NaN and
 * Infinity by name (JSON would print `null`), objects with their own `toString` by it, the rest as JSON; never throws. Secrets pasted
 * by mistake (credentials in a URL, a webhook's token path, an API token) are redacted, since
 * messages end up in CI logs.
 */
export function quote(value: unknown): string {
  return redactSecrets(quoteAsWritten(value));
}

function quoteAsWritten(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint' || typeof value === 'symbol') return String(value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'object' && value !== null && typeof (value as { toString?: unknown }).toString === 'function'
    && (value as object).toString !== Object.prototype.toString && !Array.isArray(value)) {
    try {
      return `'${String(value)}'`;
    } catch {
      return '<unprintable object>';
    }
  }
  // A token prints as '${TfToken[TOKEN.7]}', which no reader recognises as the value they passed.
  if (typeof value === 'string') return Token.isUnresolved(value) ? `'${value}' (${TOKEN_NOTE})` : `'${value}'`;
  try {
    const json = JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : typeof v === 'bigint' ? String(v) : v));
    if (json === undefined) return String(value);
    // Redacted before it is cut (the message is redacted again, which changes nothing): cut first, a login lost its `@`
    // and host, and its password was printed as plain text.
    const shown = redactSecrets(json);
    return shown.length > 200 ? `${shown.slice(0, 197)}...` : shown;
  } catch {
    return '<unprintable object>';
  }
}

/** What a value holding a cdktf token is, in a message: its text is a placeholder. */
const TOKEN_NOTE = 'a Terraform token: a Lazy value, a variable or an attribute, not known when this was checked';

/** After a login's `@`: a host name, its port perhaps, then the end of the authority (not `@sha256:…`, not more name). */
const HOST_AFTER_AT = String.raw`(?=[A-Za-z0-9._-]{1,253}(?::\d{1,5})?(?![A-Za-z0-9._:@-]))`;

/**
 * A URL: its scheme and host, then the rest (path, query, fragment). A `user:password@` before the host is read up to
 * its `@` even where the password holds `/`, `?` or `#` (an S3 secret key is base64, `/` and `+` included): read as
 * the path, it was printed in clear. Not a port and a path (`registry:5000/image@sha256:…`, `host.eu:443/@scope/pkg`),
 * which lost their host. A password that starts with 1 to 5 digits and a `/`, `?` or `#` (`user:123/abc@host`) is one
 * when the user has no `.` (a host name has) and a host follows its `@` (not a digest, `@sha256:…`): read as a port
 * and a path, it was printed. A host without a `.` then looks the same (`localhost:4873/@scope/pkg`): its
 * authority is hidden too, which errs on the side of the password. A password holding `'` or `"` ends there, since a quote ends the value in a message: its
 * part after the quote is printed. Every repeat is bounded or starts once (a scheme only after a character that
 * cannot be in one, a user without `:`, a password up to 256 characters): whole messages are redacted and a value
 * is printed whole, so a long one (`https://` and 100 000 colons) took 24 s, stalling synth.
 */
const URL_PARTS = new RegExp(String.raw`(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*:\/\/)((?:[^\s/?#'"@:]*:(?!\d{1,5}[/?#])[^\s'"@]{0,256}@`
  + String.raw`|[^\s/?#'"@:.]*:\d{1,5}[/?#][^\s'"@]{0,250}@${HOST_AFTER_AT})?[^\s/?#'"]*)([/?#][^\s'"]*)?`, 'gi');
/**
 * A `user:password@host` without a scheme, as SSH and SFTP write a login (`u123-sub2:<password>@u123-sub2.your-storagebox.de`):
 * the password read to its last `@` within 256 characters (it may hold `@`, or start with `/`). Not after a scheme's
 * `//` or within a path (a URL's own user part is read above), nor an e-mail address (no `:` before its `@`, or
 * `mailto:`), Git's `git@host:path@ref` (its `:` comes after an `@` within the word), or a port and a path
 * (`registry:5000/app@sha256:…`). A login after an `@` that starts the word (`@u123:<password>@host`) is
 * one; a password of 1 to 5 digits and a `/` is read as URL_PARTS reads it.
 */
const BARE_CREDENTIALS = new RegExp(String.raw`(?:(?<![A-Za-z0-9._~%+\-/:@])|(?<=(?<![^\s'"])@))(?!mailto:)`
  + String.raw`(?:[A-Za-z0-9._~%+-]+:(?!\/\/|:|\d{1,5}[/?#])[^\s'"]{1,256}@(?=[A-Za-z0-9[])|[A-Za-z0-9_~%+-]+:\d{1,5}[/?#][^\s'"]{0,250}@${HOST_AFTER_AT})`, 'g');
/**
 * A random token: 20+ letters and digits with upper case, lower case and a digit (not a word, not a lowercase hex digest), or a UUID.
 * Looked for only where a run of them starts: from every character of a long path, each look ahead read the rest of
 * it (30 000 characters took 4 s).
 */
const TOKEN = /(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*[A-Z])(?=[A-Za-z0-9_-]*[a-z])(?=[A-Za-z0-9_-]*[0-9])[A-Za-z0-9_-]{20,}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
/** Query parameters that carry a secret by name. */
const SECRET_PARAMETER = /[?&](?:token|key|secret|password|sig|signature|auth|access_token|api_key)=/i;
/** A Hetzner-style API token on its own: 64 letters and digits, mixed case with digits. */
const BARE_TOKEN = /(?<![A-Za-z0-9])(?=[A-Za-z0-9]*[A-Z])(?=[A-Za-z0-9]*[a-z])(?=[A-Za-z0-9]*[0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])/g;

/**
 * A private key (OpenSSH, PEM, PKCS#8) from its BEGIN line through its END line; without one (a value cut short ends
 * mid-body), through the run of base64, PEM headers (`Proc-Type: 4,ENCRYPTED`) and line breaks that follow. Line
 * breaks may be raw, escaped as in JSON, or spaces (a key put through an unquoted `echo $KEY`). Pasted where a public
 * or host key belongs, it is the one value a refusal must never print: whoever reads the CI log could log in with it.
 * Its END is looked for up to the next BEGIN only: each BEGIN read the rest of the text for one.
 */
const PRIVATE_KEY = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----(?! <redacted>)(?:(?:(?!-----BEGIN )[\s\S])*?-----END [A-Z0-9 ]*PRIVATE KEY-----[\r\n]*|(?:[A-Za-z0-9+/=:,\- \t\r\n]|\\.)*)/g;

/** A word long enough to hold a login whose password is longer than the patterns above read (256 characters). */
const LONG_WORD = /[^\s'"]{258,}/g;
/** An `@` a host follows, in a word. */
const AT_HOST = new RegExp(`@${HOST_AFTER_AT}`, 'g');
/**
 * A login (`scheme://user:` or `user:`) whose password runs past the patterns' bound, to the last `@` of the word that a
 * host follows: the patterns read at most 256 characters, so that a long value cannot make them backtrack for minutes,
 * and such a password (with a `/`, read as the path) was printed. One pass over the word: no pattern here repeats
 * unbounded from more than one place. A port and a path (a host name with a `.` before the `:`) is left alone.
 */
function redactLongLogins(text: string): string {
  return text.replace(LONG_WORD, (word) => {
    let at = -1;
    for (const m of word.matchAll(AT_HOST)) at = m.index!;
    const scheme = word.indexOf('://');
    // The user: after the scheme, or the run of login characters before the word's first `:`.
    let userStart: number;
    let colon: number;
    if (scheme >= 0) {
      userStart = scheme + 3;
      colon = userStart + (/^[^\s/?#'"@:]*/.exec(word.slice(userStart, at < 0 ? userStart : at))?.[0].length ?? 0);
    } else {
      colon = word.indexOf(':');
      userStart = colon;
      while (userStart > 0 && /[A-Za-z0-9._~%+-]/.test(word[userStart - 1])) userStart--;
    }
    if (at < 0 || word[colon] !== ':' || colon >= at || at - colon - 1 <= 256 || (scheme < 0 && userStart === colon)) return word;
    const user = word.slice(userStart, colon);
    if (user.includes('.') && /^\d{1,5}[/?#]/.test(word.slice(colon + 1))) return word;
    return `${word.slice(0, userStart)}<redacted>${word.slice(at)}`;
  });
}

/**
 * The text with the secret parts of URLs and tokens replaced by `<redacted>`: the user and password
 * (or DSN key) before `@`, and the whole path and query of a URL whose path holds a token (webhook
 * URLs, ping URLs) or whose query names one. The scheme and host stay, so the reader still sees
 * what was passed. A private key keeps its BEGIN line alone, so the reader sees which key it was. Redacting
 * redacted text changes nothing.
 */
export function redactSecrets(text: string): string {
  return redactLongLogins(text.replace(PRIVATE_KEY, '-----BEGIN $1PRIVATE KEY----- <redacted>')).replace(URL_PARTS, (_m, scheme: string, authority: string, rest: string | undefined) => {
    const host = authority.includes('@') ? `<redacted>@${authority.slice(authority.lastIndexOf('@') + 1)}` : authority;
    const tail = rest !== undefined && (TOKEN.test(rest) || SECRET_PARAMETER.test(rest)) ? '/<redacted>' : rest ?? '';
    return `${scheme}${host}${tail}`;
  }).replace(BARE_CREDENTIALS, '<redacted>@').replace(BARE_TOKEN, '<redacted>');
}

/**
 * An error in a construct's props, thrown while the app is built.
 * Its message already names the construct path, the value and the fix.
 */
export class ValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValidationError';
  }
}
