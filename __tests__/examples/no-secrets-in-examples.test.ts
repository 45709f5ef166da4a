import * as fs from 'fs';
import * as path from 'path';
import { EXAMPLES } from '../../examples';
import { secretKindIn, stringsWithPaths } from '../../lib/boundary/secret-patterns';
import { synthExample } from './synth-examples';
import { sensitiveAttributePaths } from '../../lib/boundary/private/provider-schema';

/** Whether `text` (an output's value) reads a sensitive variable of `json`, or a sensitive attribute or the whole of a resource that has one. */
function readsASecret(json: any, text: string): boolean {
  const sensitiveVariables = Object.entries(json.variable ?? {}).filter(([, v]: [string, any]) => v?.sensitive).map(([name]) => name);
  if ([...text.matchAll(/var\.([\w-]+)/g)].some((m) => sensitiveVariables.includes(m[1]))) return true;
  return [...text.matchAll(/(hcloud_[a-z_]+)\.[\w-]+(?:\[[^\]]*\])*(?:\.([a-z_]+))?/g)].some(([, type, attribute]) => {
    const paths = sensitiveAttributePaths(type);
    return paths.length > 0 && (attribute === undefined || paths.some((p) => p[0] === attribute));
  });
}

// Every example, every string of every synthesized stack and generated document.
describe.each(Object.entries(EXAMPLES))('example %s', (_name, define) => {
  const { outdir, stacks } = synthExample(define);

  test('no synthesized stack contains a secret-looking value', () => {
    const hits = Object.entries(stacks).flatMap(([stack, json]) =>
      stringsWithPaths(json).filter(({ value }) => secretKindIn(value)).map(({ path: p, value }) => `${stack}: ${p} (${secretKindIn(value)})`));
    expect(hits).toEqual([]);
  });

  test('no generated document contains a secret-looking value', () => {
    const docs = fs.readdirSync(path.join(outdir, 'products'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile()).map((e) => path.join(e.parentPath ?? (e as any).path, e.name));
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs) expect([doc, secretKindIn(fs.readFileSync(doc, 'utf8'))]).toEqual([doc, undefined]);
  });

  // Audit (mutation): this test checked only outputs that read a variable, and no example has one, so it asserted
  // nothing. Every output is now judged: marked sensitive, or reading no sensitive variable and no sensitive
  // provider attribute (whole resources included); and the examples' outputs are there to be judged.
  test('every output that reads a sensitive variable or sensitive attribute is itself marked sensitive', () => {
    const outputs = Object.values(stacks).flatMap((json) => Object.entries(json.output ?? {}).map(([name, output]: [string, any]) => ({ json, name, output })));
    expect(outputs.map((o) => o.name)).toEqual(expect.arrayContaining(['app_ipv4', 'app_ipv6']));
    const unmarked = outputs.filter(({ json, output }) => output.sensitive !== true && readsASecret(json, JSON.stringify(output.value ?? ''))).map((o) => o.name);
    expect(unmarked).toEqual([]);
  });
});

test('the secret detector finds what it must, so the scans above can fail', () => {
  expect(secretKindIn('-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn')).toBe('private key');
  expect(secretKindIn('https://backup:hunter2hunter2@s3.example.eu/bucket')).toBe('credentials in a URL');
  expect(secretKindIn('RESTIC_PASSWORD=correct-horse-battery')).toBe('password or token assignment');
  expect(secretKindIn('"token": "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5hJ7kL9mN1pQ3sT5vW7yZ9bC1dE3fG"')).toBeDefined();
  expect(secretKindIn('https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/1')).toBe('Sentry-style DSN key');
  expect(secretKindIn('https://hc-ping.com/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b')).toBe('heartbeat ping URL with its key');
  // Not secrets: references, environment variables, hashes, file paths.
  expect(secretKindIn('RESTIC_PASSWORD_FILE=/etc/restic/password')).toBeUndefined();
  expect(secretKindIn('export RESTIC_PASSWORD="$RESTIC_PASSWORD"')).toBeUndefined();
  expect(secretKindIn('password: ${var.storage_box_password}')).toBeUndefined();
  expect(secretKindIn('sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')).toBeUndefined();
  expect(secretKindIn(`sovereign-storagebox ssh-ed25519 AAAA${'aB3dE5gH7jK9mN1p'.repeat(5)}`)).toBeUndefined();
});
