#!/usr/bin/env node
// Builds cdktn-sovereign-hetzner, the CDK Terrain (cdktn 0.24) package, from the same source as
// cdktf-sovereign-hetzner (cdktf 0.21): it takes the packed cdktf package and rewrites its module
// specifiers `cdktf` and `cdktf/...` to `cdktn`, its own name to cdktn-sovereign-hetzner, and its
// peer dependencies to cdktn's. Nothing else changes: cdktn keeps cdktf's API, `cdktf.json`,
// `cdktf.out` and the `Symbol.for("cdktf/...")` markers, which must stay as they are.
//
// One compiled build cannot serve both: the generated bindings extend one core's classes, and an
// app that mixes cdktf and cdktn objects fails (sometimes silently), so each CDK gets its own build.
//
//   node scripts/build-cdktn.js [--from cdktf-sovereign-hetzner-X.tgz] [--out DIR]
//
// Without --from, it runs `npm pack` (which builds) first. Prints the path of the cdktn tarball.
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const FROM_NAME = 'cdktf-sovereign-hetzner';
const TO_NAME = 'cdktn-sovereign-hetzner';
/** The cdktn line this build targets, and the constructs range it accepts (cdktn's own peer range). */
const CDKTN_RANGE = '~0.24.0';
const CONSTRUCTS_RANGE = '>=10.6.0 <10.8.0';
/** The exact versions the consumer test and the benchmark install next to the cdktn package. */
const CDKTN_TOOLCHAIN = { cdktn: '0.24.0', 'cdktn-cli': '0.24.0', constructs: '10.7.2' };

// `require("cdktf")`, `from 'cdktf/lib/...'`, `import("cdktf")`, `import 'cdktf/...'`: module
// specifiers only. A word such as `cdktf.out`, `cdktf synth` or `Symbol.for("cdktf/...")` stays.
const SPECIFIER = /(\brequire\(\s*|\bfrom\s+|\bimport\(\s*|\bimport\s+)(['"])cdktf(\/[^'"\n]*)?\2/g;

// `from 'cdktf-sovereign-hetzner/stacks'` and the like: the library's own name as a module specifier.
// (A label such as `managed-by: cdktf-sovereign-hetzner` is not one and stays.)
const SELF_SPECIFIER = new RegExp(`(\\brequire\\(\\s*|\\bfrom\\s+|\\bimport\\(\\s*|\\bimport\\s+)(['"])${FROM_NAME}(\\/[^'"\\n]*)?\\2`, 'g');
// lib/core/private/package-name.ts: the one place the name is written for code (synth errors name it, the testing
// helpers find the package's root by it).
const PACKAGE_NAME = new RegExp(`(\\bPACKAGE_NAME = )(['"])${FROM_NAME}\\2`);

/**
 * Rewrites one JavaScript or declaration file's text (or a team's TypeScript source): module
 * specifiers only, so that what the constructs render (files for machines, boundary.md, the
 * Terraform JSON) stays byte-identical and switching CDK does not roll anything out.
 * With `everywhere`, the library's name in prose changes too (the CLI's messages and templates).
 */
function rewriteSource(text, { everywhere = false } = {}) {
  const specifiers = text
    .replace(SPECIFIER, (_m, lead, quote, sub) => `${lead}${quote}cdktn${sub ?? ''}${quote}`)
    .replace(SELF_SPECIFIER, (_m, lead, quote, sub) => `${lead}${quote}${TO_NAME}${sub ?? ''}${quote}`)
    .replace(PACKAGE_NAME, (_m, lead, quote) => `${lead}${quote}${TO_NAME}${quote}`);
  return everywhere ? specifiers.split(FROM_NAME).join(TO_NAME) : specifiers;
}

/** The cdktn package.json from the cdktf one. */
function rewriteManifest(pkg) {
  const peers = { ...pkg.peerDependencies };
  delete peers.cdktf;
  const out = {
    ...pkg,
    name: TO_NAME,
    description: pkg.description.replace('CDK for Terraform', 'CDK Terrain (cdktn)'),
    keywords: [...new Set([...(pkg.keywords ?? []), 'cdktn', 'cdk-terrain'])],
    bin: Object.fromEntries(Object.entries(pkg.bin ?? {}).map(([name, file]) => [name.split(FROM_NAME).join(TO_NAME), file])),
    peerDependencies: { cdktn: CDKTN_RANGE, ...peers, constructs: CONSTRUCTS_RANGE },
  };
  // The scripts build the cdktf package from source; this one is built from that package.
  delete out.scripts;
  delete out.overrides;
  // Never installed with the package; `init` reads them for the versions a scaffolded repository pins,
  // so they name cdktn's toolchain instead of cdktf's.
  const dev = { ...pkg.devDependencies };
  for (const name of Object.keys(dev)) if (name === 'cdktf' || name === 'cdktf-cli' || name.startsWith('@cdktf/')) delete dev[name];
  out.devDependencies = { ...dev, ...CDKTN_TOOLCHAIN };
  return out;
}

const README_NOTE = `> **This is the CDK Terrain build**: \`${TO_NAME}\` is built from the same source as \`${FROM_NAME}\`
> with its imports pointed at \`cdktn\` (peer \`cdktn@${CDKTN_RANGE}\`, \`constructs@${CONSTRUCTS_RANGE}\`). Everything below applies;
> read \`${FROM_NAME}\` as \`${TO_NAME}\`, \`cdktf\` imports as \`cdktn\`, and the \`cdktf\` CLI as \`cdktn\` (Node >= 22.19).

`;

function walk(dir, visit) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(file, visit);
    else visit(file);
  }
}

function run(cmd, args, cwd) {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' } });
  } catch (e) {
    // tsc (run by npm pack's prepack) reports on stdout: show it with the failure.
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/** Builds the cdktn tarball from a cdktf tarball (packing one first when `from` is unset); returns its path. */
function buildCdktnPackage({ from, out } = {}) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdktn-build-'));
  try {
    let tarball = from;
    if (!tarball) {
      const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], ROOT));
      tarball = path.join(work, packed[0].filename);
    }
    run('tar', ['-xzf', path.resolve(tarball), '-C', work], work);
    const pkgDir = path.join(work, 'package');

    let rewritten = 0;
    walk(pkgDir, (file) => {
      if (!/\.(js|d\.ts)$/.test(file)) return;
      const before = fs.readFileSync(file, 'utf8');
      const after = rewriteSource(before, { everywhere: path.relative(pkgDir, file).startsWith(path.join('dist', 'cli') + path.sep) });
      if (after !== before) {
        fs.writeFileSync(file, after);
        rewritten++;
      }
      // A specifier the pattern missed would load a second CDK next to cdktn: refuse the build.
      const left = after.match(/(require\(|from |import\()\s*['"]cdktf(\/[^'"]*)?['"]/);
      if (left) throw new Error(`${path.relative(pkgDir, file)} still imports cdktf after the rewrite: ${left[0]}`);
    });

    const manifestFile = path.join(pkgDir, 'package.json');
    const manifest = rewriteManifest(JSON.parse(fs.readFileSync(manifestFile, 'utf8')));
    fs.writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
    const readme = path.join(pkgDir, 'README.md');
    if (fs.existsSync(readme)) fs.writeFileSync(readme, README_NOTE + fs.readFileSync(readme, 'utf8'));

    const outDir = path.resolve(out ?? path.join(ROOT, 'dist', 'packages'));
    fs.mkdirSync(outDir, { recursive: true });
    // --ignore-scripts: the package has no scripts left, and packing must not build anything.
    const packed = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', outDir], pkgDir));
    if (!rewritten) throw new Error('no file imported cdktf: is this the cdktf package?');
    return path.join(outDir, packed[0].filename);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

module.exports = { buildCdktnPackage, rewriteSource, rewriteManifest, CDKTN_RANGE, CONSTRUCTS_RANGE, CDKTN_TOOLCHAIN, FROM_NAME, TO_NAME };

if (require.main === module) {
  const arg = (name) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  process.stdout.write(`${buildCdktnPackage({ from: arg('from'), out: arg('out') })}\n`);
}
