import { EgressAllowlist } from '../../lib';
import { invalidValue, quote } from '../../lib/core/validation-message';
import { checkedStack, machine } from './fixtures';

// Audit 15: natural paste mistakes (a webhook URL for a host name, a DSN, a URL with user:password) put
// the secret itself into the refusal message, and so into CI logs. The quoting helper every message
// goes through redacts the secret parts and keeps the scheme and host, so the reader sees the mistake.

const SLACK = 'https://hooks.slack.com/services/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';
const DSN = 'https://0123456789abcdef0123456789abcdef@o123456.ingest.de.sentry.io/4507';
const CREDENTIALS = 'https://admin:Sup3rSecret@acme.eu/health';
const PING = 'https://hc-ping.com/3f1c2a9e-8b7d-4c6e-9f0a-1b2c3d4e5f60';
const TOKEN = 'q8Zr4TnW2vYk7LmP9sXc3BfH6jDa1GeK5uVw0NxRyQtAzCbEoIpMhJlSgUdFi7Ok';

describe('refusal messages never print a pasted secret', () => {
  test.each<[string, string, string, RegExp]>([
    ['a webhook URL', SLACK, 'Xq9wZr3TnV8kLmP2sDc4BfHj', /^'https:\/\/hooks\.slack\.com\/<redacted>'$/],
    ['a DSN', DSN, '0123456789abcdef0123456789abcdef', /^'https:\/\/<redacted>@o123456\.ingest\.de\.sentry\.io\/4507'$/],
    ['a URL with user:password', CREDENTIALS, 'Sup3rSecret', /^'https:\/\/<redacted>@acme\.eu\/health'$/],
    ['a ping URL with its key', PING, '3f1c2a9e-8b7d', /^'https:\/\/hc-ping\.com\/<redacted>'$/],
    ['a query token', 'https://api.example.eu/hook?token=abc', 'abc', /^'https:\/\/api\.example\.eu\/<redacted>'$/],
    ['an API token', TOKEN, TOKEN, /^'<redacted>'$/],
    // Audit (secrets11): a password holding '/', '?' or '#' (an S3 secret key is base64) ended the host there, and the
    // rest, the password and '@' included, was read as the path and printed.
    ['a password with / and +', 'https://AKIAEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCY@s3.example.eu/bucket', 'K7MDENG', /^'https:\/\/<redacted>@s3\.example\.eu\/bucket'$/],
    // Audit (secrets11): a login written as SSH and SFTP write one, without a scheme, was printed whole.
    ['a login with its password, without a scheme', 'u12345-sub2:Sup3r/Secret@u12345-sub2.your-storagebox.de', 'Sup3r/Secret', /^'<redacted>@u12345-sub2\.your-storagebox\.de'$/],
    ['a password with ? and #', 'git::https://deploy:p?a#s/s@git.acme.eu/infra.git', 'p?a#s', /^'git::https:\/\/<redacted>@git\.acme\.eu\/infra\.git'$/],
  ])('%s is redacted, the host kept', (_name, value, secret, shown) => {
    expect(quote(value)).not.toContain(secret);
    expect(quote(value)).toMatch(shown);
    expect(quote([value])).not.toContain(secret);
  });

  test('ordinary values are quoted as before', () => {
    for (const value of ['https://acme.eu/health', 'chat.acme.eu', 'u123.your-storagebox.de', 'sha256:' + 'ab12'.repeat(16), 'fsn1',
      'ops@acme.eu', 'git@github.com:acme/infra.git', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 ops@acme.eu', 'https://acme.eu/a:b@c', '2001:db8::1', 'smtp.acme.eu:587']) {
      expect(quote(value)).toBe(`'${value}'`);
    }
    expect(invalidValue('X', 'url', 'https://acme.eu/v1/status?verbose=1', 'why', 'fix')).toBe("X.url: 'https://acme.eu/v1/status?verbose=1' is not allowed: why. Fix: fix");
  });

  test('a webhook URL passed as an allowlist host name is refused without its token', () => {
    const m = machine(checkedStack());
    let message = '';
    try {
      EgressAllowlist.requireHostnames(m, [SLACK], 'alert receiver Alertmanager posts alerts to');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/is not allowed: .*Fix:/);
    expect(message).toContain('hooks.slack.com');
    expect(message).not.toContain('Xq9wZr3TnV8kLmP2sDc4BfHj');
  });
});
