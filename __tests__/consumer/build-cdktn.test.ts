// The rewrite that turns the packed cdktf package into the cdktn one (scripts/build-cdktn.js):
// module specifiers move, words that only look like them stay (they reach machines and Terraform).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vm from 'vm';
import * as ts from 'typescript';
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

  // Review: the test rewrote the .ts source, but the build rewrites the packed .js files: it held only while tsc kept
  // the single quotes. The rewrite now runs on what tsc emits with the build's settings, and the result is run.
  test('a synth message names the package it runs in: the cdktn build renames it there', () => {
    const built = loadBuilt('lib/core/private/library-doc.ts') as typeof import('../../lib/core/private/library-doc');
    expect(built.libraryDocAtSynth('database.md', 'Changing the PostgreSQL major'))
      .toBe('docs/database.md, section Changing the PostgreSQL major, of cdktn-sovereign-hetzner (node_modules/cdktn-sovereign-hetzner/docs/database.md in your IaC repo)');
    expect(libraryDocAtSynth('database.md', 'Changing the PostgreSQL major'))
      .toBe('docs/database.md, section Changing the PostgreSQL major, of cdktf-sovereign-hetzner (node_modules/cdktf-sovereign-hetzner/docs/database.md in your IaC repo)');
  });

  test('the testing helpers find the cdktn package by its own name', () => {
    const built = loadBuilt('testing/provider/package-root.ts') as typeof import('../../testing/provider/package-root');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'package-root-'));
    try {
      fs.mkdirSync(path.join(dir, 'dist', 'testing'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'cdktn-sovereign-hetzner' }));
      expect(built.packageRoot(path.join(dir, 'dist', 'testing'))).toBe(dir);
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'cdktf-sovereign-hetzner' }));
      expect(() => built.packageRoot(path.join(dir, 'dist', 'testing'))).toThrow(/not inside the cdktn-sovereign-hetzner package/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

const ROOT = path.join(__dirname, '../..');
const CONFIG = ts.parseJsonConfigFileContent(ts.readConfigFile(path.join(ROOT, 'tsconfig.json'), ts.sys.readFile).config, ts.sys, ROOT);

/**
 * A source file as the cdktn package ships it: compiled with tsconfig.json's options, rewritten, then loaded. Its
 * relative imports are loaded the same way (the name is written in one file that the others import).
 */
function loadBuilt(file: string): unknown {
  const js = ts.transpileModule(fs.readFileSync(path.join(ROOT, file), 'utf8'), { compilerOptions: CONFIG.options, fileName: file }).outputText;
  const module = { exports: {} as Record<string, unknown> };
  const requireBuilt = (spec: string): unknown => (spec.startsWith('.') ? loadBuilt(`${path.join(path.dirname(file), spec)}.ts`) : require(spec));
  vm.runInThisContext(`(function (exports, require, module) {${rewriteSource(js)}\n})`)(module.exports, requireBuilt, module);
  return module.exports;
}
