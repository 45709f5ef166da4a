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
    // NAME=value / "name": "value" with a literal (not $VAR, ${...}, or a file path) of 8+ characters.
    pattern: /\b[A-Za-z_]*(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY)["']?\s*[:=]\s*["']?(?![$<{/])(?=[^\s"']*[A-Za-z0-9])[^\s"'$]{8,}/i,
  },
];

// Public keys are meant to be shared, and their base64 can hold a run that looks like a token.
const PUBLIC_KEY = /\b(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp\d+|sk-ssh-ed25519@openssh\.com)\s+[A-Za-z0-9+/=]+/g;

/** The kind of secret a string looks like it contains, or `undefined`. Never returns the secret itself. */
export function secretKindIn(value: string): string | undefined {
  const withoutPublicKeys = value.replace(PUBLIC_KEY, '$1 <public key>');
  return PATTERNS.find((p) => p.pattern.test(withoutPublicKeys))?.kind;
}

/**
 * The readable text of a string: itself, plus, for a `#cloud-config` document, the decoded content
 * of every compressed (`gz+b64`) or base64 file in it, so that compression never hides a secret.
 */
export function readableTexts(value: string): string[] {
  if (!value.startsWith('#cloud-config')) return [value];
  const texts = [value];
  try {
    const doc = parseYaml(value) as { write_files?: Array<{ content?: string; encoding?: string }> };
    for (const file of doc?.write_files ?? []) {
      const encoding = (file.encoding ?? '').toLowerCase();
      if (typeof file.content !== 'string' || !encoding) continue;
      const bytes = Buffer.from(file.content.replace(/\s+/g, ''), 'base64');
      texts.push(/gz|gzip/.test(encoding) ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8'));
    }
  } catch {
    // Unresolved references or invalid YAML: the raw text is still scanned.
  }
  return texts;
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
