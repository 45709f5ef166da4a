import { randomBytes } from 'crypto';
import { gunzipSync } from 'zlib';
import { Fn } from 'cdktf';
import { parse } from 'yaml';
import { CloudInit } from '../../lib';
import { refusal } from '../boundary/refusal';
import { secretKindIn } from '../../lib/boundary/secret-patterns';

// CloudInitFile.compress (lib/hetzner/cloud-init.ts), added for the monitoring's larger files.
describe('CloudInit: compressed files', () => {
  const render = (content: string) => parse(new CloudInit().addPart({ name: 'x', files: [{ path: '/etc/x.yml', content, compress: true }] }).render()).write_files[0];

  test("renders gzip as base64 with cloud-init's gz+b64 encoding, and decodes to the same text", () => {
    const text = `# a configuration\n${'scrape_configs:\n  - job_name: node\n'.repeat(50)}`;
    const file = render(text);
    expect(file.encoding).toBe('gz+b64');
    expect(gunzipSync(Buffer.from(file.content, 'base64')).toString('utf8')).toBe(text);
    expect(file.content.length).toBeLessThan(text.length / 4);
  });

  test('the same text always renders to the same bytes', () => {
    expect(render('same\n').content).toBe(render('same\n').content);
  });

  test('no line is long enough to look like an API token to the boundary\'s secret scan', () => {
    // Random bytes do not compress: the base64 is as long and as random as it gets.
    const file = render(randomBytes(24_000).toString('latin1'));
    const lines = file.content.trim().split('\n');
    expect(Math.max(...lines.map((l: string) => l.length))).toBe(60);
    expect(lines.map(secretKindIn).filter(Boolean)).toEqual([]);
    expect(secretKindIn(file.content)).toBeUndefined();
  });

  test('refuses content that holds a Terraform reference, which cannot be resolved inside compressed bytes: when added, or when produced at render', () => {
    expect(refusal(() => new CloudInit().addPart({ name: 'x', files: [{ path: '/etc/secret', content: Fn.base64encode('x'), compress: true }] })))
      .toMatch(/^CloudInit\.part\(x\)\.files\[0\]\.content: '<content with a Terraform reference>' is not allowed: the file is compressed \(compress: true\).*Fix: keep references in a small uncompressed file/);
    const produced = new CloudInit().addPart({ name: 'y', files: [{ path: '/etc/secret', content: () => Fn.base64encode('x'), compress: true }] });
    expect(produced.compressedReferenceProblems()).toEqual([expect.stringMatching(/^CloudInit\.part\(y\)\.files\[0\]\.content: /)]);
    expect(refusal(() => produced.render())).toMatch(/^CloudInit\.part\(y\)\.files\[0\]\.content: /);
  });
});
