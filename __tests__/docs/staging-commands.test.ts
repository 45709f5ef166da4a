import * as fs from 'fs';
import * as path from 'path';

// A staging stack exists only when the app is synthesized with an expiry (ProductStacks' stagingExpiresAt, which the
// examples and the scaffold read from STAGING_EXPIRES_AT). A shell recipe in the docs that deploys or destroys
// staging without setting it stops at cdktf's "Could not find stack for pattern '…-staging'".

const ROOT = path.resolve(__dirname, '..', '..');

function markdownFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? markdownFiles(full) : e.name.endsWith('.md') ? [full] : [];
  });
}

function shellBlocks(text: string): string[] {
  return [...text.matchAll(/^```(?:sh|bash|shell)\n([\s\S]*?)^```/gm)].map((m) => m[1]);
}

describe('shell recipes in the docs that touch a staging stack', () => {
  const files = [path.join(ROOT, 'README.md'), ...markdownFiles(path.join(ROOT, 'docs'))];

  test('set STAGING_EXPIRES_AT before the first cdktf/cdktn command on a staging stack', () => {
    const offending: string[] = [];
    let seen = 0;
    for (const file of files) {
      for (const block of shellBlocks(fs.readFileSync(file, 'utf8'))) {
        const lines = block.split('\n');
        const first = lines.findIndex((l) => /\bcdkt[fn] (deploy|destroy|plan|diff)\b[^#]*-staging\b/.test(l));
        if (first < 0) continue;
        seen++;
        if (!lines.slice(0, first + 1).some((l) => /\bSTAGING_EXPIRES_AT=/.test(l))) offending.push(`${path.relative(ROOT, file)}: ${lines[first].trim()}`);
      }
    }
    expect(seen).toBeGreaterThan(0);
    expect(offending).toEqual([]);
  });
});
