// The rewrite that turns the packed cdktf package into the cdktn one (scripts/build-cdktn.js):
// module specifiers move, words that only look like them stay (they reach machines and Terraform).
import * as fs from 'fs';
import * as path from 'path';
import { libraryDoc, libraryDocAtSynth } from '../../lib/core/private/library-doc';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { rewriteSource, rewriteManifest } = require('../../scripts/build-cdktn.js') as {
  rewriteSource(text: string, options?: { everywhere?: boolean }): string;
  rewriteManifest(pkg: Record<string, unknown>): Record<string, any>;
};

describe('the cdktn build', () => {
  test.each([
    ['const cdktf = require("cdktf");', 'const cdktf = require("cdktn");'],
    ["import { App } from 'cdktf';", "import { App } from 'cdktn';"],
    ['import "cdktf/lib/testing/adapters/jest";', 'import "cdktn/lib/testing/adapters/jest";'],
    ['type T = import("cdktf").TerraformStack;', 'type T = import("cdktn").TerraformStack;'],
    ["import { ProductStacks } from 'cdktf-sovereign-hetzner/stacks';", "import { ProductStacks } from 'cdktn-sovereign-hetzner/stacks';"],
    ['exports.PACKAGE_NAME = "cdktf-sovereign-hetzner";', 'exports.PACKAGE_NAME = "cdktn-sovereign-hetzner";'],
  ])('rewrites the module specifier in %s', (before, after) => {
    expect(rewriteSource(before)).toBe(after);
  });

  test.each([
    ['labels: { "managed-by": "cdktf-sovereign-hetzner" }'],
    ['# rendered by cdktf-sovereign-hetzner at deploy'],
    ['Symbol.for("cdktf/TerraformStack")'],
    ["path.join(outdir, 'cdktf.out')"],
    ['run `cdktf synth` first'],
    ['require("cdktf-cli")'],
  ])('leaves %s as it is', (text) => {
    expect(rewriteSource(text)).toBe(text);
  });

  test("renames the library in the CLI's own messages only when asked", () => {
    expect(rewriteSource('usage: cdktf-sovereign-hetzner report', { everywhere: true })).toBe('usage: cdktn-sovereign-hetzner report');
  });

  test('gives the cdktn package its name, command and peers, and keeps the optional peers optional', () => {
    const pkg = rewriteManifest({
      name: 'cdktf-sovereign-hetzner', description: 'CDK for Terraform constructs', bin: { 'cdktf-sovereign-hetzner': 'dist/cli/main.js' },
      peerDependencies: { cdktf: '^0.21.0', constructs: '^10.4.2', '@grpc/grpc-js': '^1.14.7' },
      peerDependenciesMeta: { '@grpc/grpc-js': { optional: true } },
      scripts: { prepack: 'npm run build' }, devDependencies: { cdktf: '0.21.0', 'cdktf-cli': '0.21.0', '@cdktf/provider-generator': '0.21.0', constructs: '10.8.1', jest: '30.5.2' },
      overrides: {},
    });
    expect(pkg).toMatchObject({
      name: 'cdktn-sovereign-hetzner',
      description: 'CDK Terrain (cdktn) constructs',
      bin: { 'cdktn-sovereign-hetzner': 'dist/cli/main.js' },
      peerDependencies: { cdktn: '~0.24.0', constructs: '>=10.6.0 <10.8.0', '@grpc/grpc-js': '^1.14.7' },
      peerDependenciesMeta: { '@grpc/grpc-js': { optional: true } },
    });
    expect(pkg.peerDependencies.cdktf).toBeUndefined();
    expect(pkg).not.toHaveProperty('scripts');
    // What `init` pins in a scaffolded repository: cdktn's toolchain, nothing of cdktf's.
    expect(pkg.devDependencies).toEqual({ cdktn: '0.24.0', 'cdktn-cli': '0.24.0', constructs: '10.7.2', jest: '30.5.2' });
  });
});

describe("the library's doc references", () => {
  // Review: the text promised to hold nothing bash's double quotes or Python's % formats read, without checking it,
  // and the list left out the backtick (command substitution in bash).
  test.each(['`', '"', "'", '$', '%', '\\'])('a doc name or section holding %s is refused', (char) => {
    expect(() => libraryDoc(`back${char}up.md`)).toThrow(/holds a quote, backtick, \$, % or backslash/);
    expect(() => libraryDoc('backup.md', `Restoring ${char} by hand`)).toThrow(/holds a quote, backtick, \$, % or backslash/);
  });

  test('a synth message names the package it runs in: the cdktn build renames it there', () => {
    const source = fs.readFileSync(path.join(__dirname, '../../lib/core/private/library-doc.ts'), 'utf8');
    expect(rewriteSource(source)).toContain("const PACKAGE_NAME = 'cdktn-sovereign-hetzner';");
    expect(libraryDocAtSynth('database.md', 'Changing the PostgreSQL major'))
      .toBe('docs/database.md, section Changing the PostgreSQL major, of cdktf-sovereign-hetzner (node_modules/cdktf-sovereign-hetzner/docs/database.md in your IaC repo)');
  });
});
