import { gunzipSync } from 'zlib';
import { parse as parseYaml } from 'yaml';

/** A kind of secret-looking value, and how to recognise it. */
interface SecretPattern {
  readonly kind: string;
  readonly pattern: RegExp;
}

const PATTERNS: readonly SecretPattern[] = [
  { kind: 'private key', pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
  { kind: 'AWS-style access key', pattern: /\b(AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { kind: 'credentials in a URL', pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@${}]+:[^\s/@${}]+@/i },
  { kind: 'Sentry-style DSN key', pattern: /\bhttps?:\/\/[0-9a-f]{32}@/i },
  { kind: 'heartbeat ping URL with its key', pattern: /\bhc-ping\.com\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i },
  // Hetzner API tokens are 64 letters and digits; hex digests (lowercase hex only) are not tokens.
  { kind: 'API token', pattern: /(?<![A-Za-z0-9])(?=[A-Za-z0-9]*[A-Z])(?=[A-Za-z0-9]*[a-z])(?=[A-Za-z0-9]*[0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])/ },
  {
    kind: 'password or token assignment',
    // NAME=value / "name": "value" with a literal (not $VAR, ${...}, a file path, or a call such as
    // `f.read()` in a script the bundle ships) of 8+ characters.
    pattern: /\b[A-Za-z_]*(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY)["']?\s*[:=]\s*["']?(?![$<{/])(?![A-Za-z_][\w.]*\()(?=[^\s"']*[A-Za-z0-9])[^\s"'$]{8,}/i,
  },
];

// Public keys are meant to be shared, and their base64 can hold a run that looks like a token.
const PUBLIC_KEY = /\b(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp\d+|sk-ssh-ed25519@openssh\.com)\s+[A-Za-z0-9+/=]+/g;

/** The kind of secret a string looks like it contains, or `undefined`. Never returns the secret itself. */
export function secretKindIn(value: string): string | undefined {
  const withoutPublicKeys = value.replace(PUBLIC_KEY, '$1 <public key>');
  return PATTERNS.find((p) => p.pattern.test(withoutPublicKeys))?.kind;
}

/** A text a secret may hide in, and where it sits inside the configuration string, for the message. */
export interface ReadableText {
  /** The text to scan. */
  readonly text: string;
  /** Where it sits inside the string, such as `bundle file /etc/app.env of part app-env`; absent for the string itself. */
  readonly within?: string;
}

/**
 * The readable texts of a string: itself, plus, for a `#cloud-config` document, the decoded content
 * of every compressed (`gz+b64`) or base64 file in it, and, for a gzip+base64 string (a machine
 * bundle's payload), the decoded document and every file it carries, so that compression never
 * hides a secret.
 */
export function readableTexts(value: string): ReadableText[] {
  if (value.startsWith('#cloud-config')) return [{ text: value }, ...cloudConfigFiles(value)];
  const decoded = gunzippedBase64(value);
  if (decoded === undefined) return [{ text: value }];
  // A bundle's files first, so that the message names the file rather than the whole document.
  return [{ text: value }, ...bundleFiles(decoded), { text: documentText(decoded), within: 'its gzip+base64 content' }];
}

/**
 * The text of a decoded document as the machine reads it: a JSON document's strings unescaped, one a line. Its raw
 * text writes a line break inside a string as the two characters `\n`, so a key line after one ("\nssh-ed25519 AAAA…")
 * escaped the public-key mask, and a token after one escaped the token pattern, both anchored where a word begins.
 */
function documentText(decoded: string): string {
  try {
    return stringsWithPaths(JSON.parse(decoded)).map((s) => s.value).join('\n');
  } catch {
    return decoded;
  }
}

function cloudConfigFiles(value: string): ReadableText[] {
  const texts: ReadableText[] = [];
  try {
    const doc = parseYaml(value) as { write_files?: Array<{ path?: string; content?: string; encoding?: string }> };
    for (const file of doc?.write_files ?? []) {
      const encoding = (file.encoding ?? '').toLowerCase();
      if (typeof file.content !== 'string' || !encoding) continue;
      const bytes = Buffer.from(file.content.replace(/\s+/g, ''), 'base64');
      const text = /gz|gzip/.test(encoding) ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
      texts.push({ text, within: `cloud-init file ${String(file.path)}` });
    }
  } catch {
    // Unresolved references or invalid YAML: the raw text is still scanned.
  }
  return texts;
}

/** The text of a string that is gzip bytes in base64 (line breaks allowed), or `undefined`. */
function gunzippedBase64(value: string): string | undefined {
  const compact = value.replace(/\s+/g, '');
  // The smallest gzip member is 18 bytes: 24 base64 characters.
  if (compact.length < 24 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return undefined;
  const bytes = Buffer.from(compact, 'base64');
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return undefined;
  try {
    return gunzipSync(bytes).toString('utf8');
  } catch {
    return undefined;
  }
}

/**
 * The literal files and templates of a machine bundle document (see MachineBundle.render), each
 * on its own: scanned unescaped, as the machine will write them, and named in the message.
 */
function bundleFiles(document: string): ReadableText[] {
  let doc: { parts?: Array<{ name?: unknown; files?: Array<{ path?: unknown; content?: unknown; template?: unknown }> }> };
  try {
    doc = JSON.parse(document);
  } catch {
    return [];
  }
  if (!doc || !Array.isArray(doc.parts)) return [];
  return doc.parts.flatMap((part) => (Array.isArray(part?.files) ? part.files : []).flatMap((file) =>
    [file?.content, file?.template].filter((t): t is string => typeof t === 'string')
      .map((text) => ({ text, within: `bundle file ${String(file.path)} of part ${String(part.name)}` }))));
}

/** Every string in a JSON value with its JSON path, keys skipped where they are metadata (`//`). */
export function stringsWithPaths(value: unknown, path = ''): Array<{ path: string; value: string }> {
  if (typeof value === 'string') return [{ path, value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringsWithPaths(v, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).filter(([k]) => k !== '//').flatMap(([k, v]) => stringsWithPaths(v, path ? `${path}.${k}` : k));
  }
  return [];
}
