/**
 * `idna.ToASCII` of golang.org/x/net (v0.57.0, the version hcloud v1.68.0 builds with), which
 * `provider::hcloud::idna` calls (terraform-provider-hcloud v1.68.0 internal/zone/function_idna.go:47).
 *
 * Written for the stand-in from the algorithm in x/net idna/idna.go (`Profile.process`, `labelIter`)
 * and idna/punycode.go (`encode`, `decode`, `adapt`, `madd`). `ToASCII` is `Punycode.process(s, true)`
 * with `Punycode = &Profile{}` (idna/idna.go:47-49, :294): no UTS #46 mapping, no lower-casing, no
 * NFC, no hyphen/joiner/bidi/STD3 checks and no DNS length limits. All it does, label by label
 * (labels split at ASCII "." only):
 * - a label starting with "xn--" is Punycode-decoded (a decoding failure is the error; the label is
 *   then kept) and replaced by its decoding;
 * - every label that is then not ASCII is Punycode-encoded with the "xn--" prefix.
 *
 * Why not Node's own: `url.domainToASCII` applies UTS #46 processing (maps "Bücher" to lower case, folds
 * full-width dots, rejects forbidden code points) and answers '' instead of an error, and the
 * deprecated `punycode` module splits e-mail addresses at "@" and folds U+3002/U+FF0E/U+FF61 to ".".
 * Go's Punycode profile does none of that: `idna("Bücher.example")` is "xn--Bcher-kva.example", with
 * the capital B. Node's `domainToASCII` agrees with this port only on lower-case, already mapped input.
 *
 * Known differences from the Go code, none reachable through Terraform:
 * - `unicode16` (idna/idna.go:29) is false: the provider is built with Go 1.26, whose `unicode.Version`
 *   is 15.0.0, so an "xn--" label that decodes to plain ASCII is accepted (x/net rejects it only when
 *   built with Unicode >= 16, i.e. Go >= 1.27).
 * - Go ranges over invalid UTF-8 as U+FFFD; Terraform strings are valid UTF-8, and a JavaScript string
 *   decoded from msgpack already carries U+FFFD where the bytes were invalid.
 * - Error texts quote the label like Go's `%q`; printability follows Node's Unicode tables, which may be
 *   a newer Unicode version than Go 1.26's for code points assigned since 15.0.
 */

const ACE_PREFIX = 'xn--';
const BASE = 36;
const DAMP = 700;
const INITIAL_BIAS = 72;
const INITIAL_N = 128;
const SKEW = 38;
const TMAX = 26;
const TMIN = 1;
const MAX_INT32 = 0x7fffffff;
const MAX_RUNE = 0x10ffff;

/** A failure of `idna.ToASCII`, with the text Go's error prints (`idna: invalid label "..."`). */
export class IdnaError extends Error {
  constructor(
    /** The label as Go's labelError holds it: for Punycode failures the part after "xn--", or the whole label being encoded. */
    public readonly label: string,
    /** The UTS #46 error code Go attaches ("A3" for Punycode failures). */
    public readonly code: string,
  ) {
    super(`idna: invalid label ${goQuote(label)}`);
    this.name = 'IdnaError';
  }
}

/** Go's `punyError` (idna/punycode.go): a labelError with code A3. */
function punyError(s: string): IdnaError {
  return new IdnaError(s, 'A3');
}

/** Go's `madd`: a + b*c, or overflow when the result would not fit an int32. */
function madd(a: number, b: number, c: number): { value: number; overflow: boolean } {
  const p = b * c;
  if (p > MAX_INT32 - a) return { value: 0, overflow: true };
  return { value: a + p, overflow: false };
}

/** Go's `adapt` (RFC 3492 section 6.1); all operands are small non-negative int32s. */
function adapt(delta: number, numPoints: number, firstTime: boolean): number {
  delta = firstTime ? Math.trunc(delta / DAMP) : Math.trunc(delta / 2);
  delta += Math.trunc(delta / numPoints);
  let k = 0;
  while (delta > Math.trunc(((BASE - TMIN) * TMAX) / 2)) {
    delta = Math.trunc(delta / (BASE - TMIN));
    k += BASE;
  }
  return k + Math.trunc(((BASE - TMIN + 1) * delta) / (delta + SKEW));
}

function threshold(k: number, bias: number): number {
  if (k <= bias) return TMIN;
  if (k >= bias + TMAX) return TMAX;
  return k - bias;
}

function encodeDigit(digit: number): string {
  // Go's encodeDigit: 0..25 are 'a'..'z', 26..35 are '0'..'9'.
  return String.fromCharCode(digit < 26 ? digit + 0x61 : digit - 26 + 0x30);
}

/** Go's `decodeDigit`: digits and letters of either case, or undefined. */
function decodeDigit(c: number): number | undefined {
  if (c >= 0x30 && c <= 0x39) return c - (0x30 - 26);
  if (c >= 0x41 && c <= 0x5a) return c - 0x41;
  if (c >= 0x61 && c <= 0x7a) return c - 0x61;
  return undefined;
}

/** Code points of a string, as Go's `for _, r := range s` yields them. */
function runes(s: string): number[] {
  return Array.from(s, (ch) => ch.codePointAt(0)!);
}

/** Go's `string([]rune)`: a surrogate code point becomes U+FFFD. */
function runesToString(rs: number[]): string {
  return rs.map((r) => String.fromCodePoint(r >= 0xd800 && r <= 0xdfff ? 0xfffd : r)).join('');
}

/** Go's `encode(prefix, s)` (idna/punycode.go): RFC 3492 encoding with int32 overflow checks. */
export function punycodeEncode(prefix: string, s: string): string {
  const input = runes(s);
  let output = prefix;
  let delta = 0;
  let n = INITIAL_N;
  let bias = INITIAL_BIAS;
  let b = 0;
  let remaining = 0;
  for (const r of input) {
    if (r < 0x80) {
      b++;
      output += String.fromCharCode(r);
    } else {
      remaining++;
    }
  }
  let h = b;
  if (b > 0) output += '-';
  while (remaining !== 0) {
    let m = MAX_INT32;
    for (const r of input) if (m > r && r >= n) m = r;
    const step = madd(delta, m - n, h + 1);
    if (step.overflow) throw punyError(s);
    delta = step.value;
    n = m;
    for (const r of input) {
      if (r < n) {
        delta++;
        if (delta > MAX_INT32) throw punyError(s); // Go: int32 wraps negative, `if delta < 0`
        continue;
      }
      if (r > n) continue;
      let q = delta;
      for (let k = BASE; ; k += BASE) {
        const t = threshold(k, bias);
        if (q < t) break;
        output += encodeDigit(t + ((q - t) % (BASE - t)));
        q = Math.trunc((q - t) / (BASE - t));
      }
      output += encodeDigit(q);
      bias = adapt(delta, h + 1, h === b);
      delta = 0;
      h++;
      remaining--;
    }
    delta = (delta + 1) | 0; // int32 arithmetic, unchecked in Go
    n++;
  }
  return output;
}

/** Go's `decode(encoded)` (idna/punycode.go), `encoded` being the label without "xn--". */
export function punycodeDecode(encoded: string): string {
  if (encoded === '') return '';
  const bytes = Buffer.from(encoded, 'utf8');
  let pos = 1 + bytes.lastIndexOf(0x2d); // '-'
  if (pos === 1) throw punyError(encoded);
  if (pos === bytes.length) return bytes.subarray(0, bytes.length - 1).toString('utf8');
  const output: number[] = [];
  if (pos !== 0) output.push(...runes(bytes.subarray(0, pos - 1).toString('utf8')));
  let i = 0;
  let n = INITIAL_N;
  let bias = INITIAL_BIAS;
  while (pos < bytes.length) {
    const oldI = i;
    let w = 1;
    for (let k = BASE; ; k += BASE) {
      if (pos === bytes.length) throw punyError(encoded);
      const digit = decodeDigit(bytes[pos]);
      if (digit === undefined) throw punyError(encoded);
      pos++;
      const next = madd(i, digit, w);
      if (next.overflow) throw punyError(encoded);
      i = next.value;
      const t = threshold(k, bias);
      if (digit < t) break;
      const weight = madd(0, w, BASE - t);
      if (weight.overflow) throw punyError(encoded);
      w = weight.value;
    }
    if (output.length >= 1024) throw punyError(encoded);
    const x = output.length + 1;
    bias = adapt(i - oldI, x, oldI === 0);
    n += Math.trunc(i / x); // Go: may wrap negative, caught by the same check
    i %= x;
    if (n < 0 || n > MAX_RUNE) throw punyError(encoded);
    output.splice(i, 0, n);
    i++;
  }
  return runesToString(output);
}

function isAscii(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(s);
}

/**
 * `idna.ToASCII(s)`: Go's `Punycode.process(s, true)`. Throws an {@link IdnaError} where Go returns an
 * error (the first one found; Go keeps processing but the provider only reports the error).
 */
export function goIdnaToASCII(s: string): string {
  const labels = s.split('.');
  let first: IdnaError | undefined;
  const note = (e: unknown): void => {
    if (!(e instanceof IdnaError)) throw e;
    first ??= e;
  };
  // First pass (process, "for ; !labels.done(); labels.next()"): decode "xn--" labels. Go's iterator
  // skips a trailing empty label; empty labels are ASCII and unchanged in both passes, so visiting
  // them does not change the result.
  for (let index = 0; index < labels.length; index++) {
    const label = labels[index];
    if (!label.startsWith(ACE_PREFIX)) continue;
    try {
      labels[index] = punycodeDecode(label.slice(ACE_PREFIX.length));
    } catch (e) {
      note(e); // "Spec says keep the old label."
    }
  }
  // Second pass (toASCII): encode every label that is not ASCII.
  for (let index = 0; index < labels.length; index++) {
    if (isAscii(labels[index])) continue;
    try {
      labels[index] = punycodeEncode(ACE_PREFIX, labels[index]);
    } catch (e) {
      note(e);
    }
  }
  if (first) throw first;
  return labels.join('.');
}

/** Go's `strconv.Quote`, which `%q` uses: printable runes as they are, the rest escaped. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const r = ch.codePointAt(0)!;
    switch (ch) {
      case '"': out += '\\"'; continue;
      case '\\': out += '\\\\'; continue;
      case '\x07': out += '\\a'; continue;
      case '\b': out += '\\b'; continue;
      case '\f': out += '\\f'; continue;
      case '\n': out += '\\n'; continue;
      case '\r': out += '\\r'; continue;
      case '\t': out += '\\t'; continue;
      case '\v': out += '\\v'; continue;
      default:
    }
    if (isGoPrintable(r)) out += ch;
    else if (r < 0x20 || r === 0x7f) out += `\\x${r.toString(16).padStart(2, '0')}`;
    else if (r >= 0xd800 && r <= 0xdfff) out += '\\ufffd'; // a lone surrogate: Go sees invalid UTF-8
    else if (r < 0x10000) out += `\\u${r.toString(16).padStart(4, '0')}`;
    else out += `\\U${r.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

/** Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space. */
function isGoPrintable(r: number): boolean {
  if (r === 0x20) return true;
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(String.fromCodePoint(r));
}
