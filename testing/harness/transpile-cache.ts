import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { packageRoot } from '../provider/package-root';

/**
 * Plain JavaScript for a TypeScript entry point, for processes that node runs directly
 * (the provider plugin that Terraform starts, the cdktf app that `cdktf deploy` runs).
 *
 * From the compiled package the `.js` file sits beside the `.d.ts` and is used as is. From source
 * (ts-jest), the entry and every file it imports relatively are transpiled with TypeScript's
 * `transpileModule` (no type-check: `tsc -p tsconfig.test.json` does that once), and the plain
 * `.js` and `.json` files among them copied as they are, into
 * `node_modules/.cache/cdktf-sovereign-hetzner/<content hash>/`, mirroring the source tree, so
 * relative imports, the package-root lookup and node_modules resolution work unchanged.
 * The hash covers every file's content: an edit gives a new directory, an unchanged tree is
 * reused without loading TypeScript at all. Concurrent test workers build into temporary
 * directories and rename; the first rename wins.
 */
export function javascriptEntry(entryWithoutExtension: string): string {
  const js = `${entryWithoutExtension}.js`;
  if (fs.existsSync(js)) return js;
  const ts = `${entryWithoutExtension}.ts`;
  if (fs.existsSync(ts)) return transpileToCache(ts);
  // Code already running from the cache asks for another entry: take it from the source tree.
  const cached = /^(.*)[\\/]node_modules[\\/]\.cache[\\/]cdktf-sovereign-hetzner[\\/][0-9a-f]+[\\/](.*)$/.exec(entryWithoutExtension);
  if (cached && fs.existsSync(path.join(cached[1], `${cached[2]}.ts`))) return transpileToCache(path.join(cached[1], `${cached[2]}.ts`));
  throw new Error(`Neither ${js} nor ${ts} exists`);
}

const IMPORT = /(?:\bfrom\s+|\brequire\(\s*|\bimport\(\s*|^\s*import\s+)['"](\.{1,2}(?:\/[^'"]*)?)['"]/gm;

/**
 * The file a relative import names, as node would find it: TypeScript first (the source tree's own
 * modules), then plain JavaScript (a `.js` with a `.d.ts` beside it, such as the jest setup's helpers),
 * then a file named exactly (`.js`, `.json`).
 */
function resolveRelative(from: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(from), spec);
  const candidates = [`${base}.ts`, path.join(base, 'index.ts'), `${base}.js`, path.join(base, 'index.js'), base];
  return candidates.find((c) => /\.(ts|js|json)$/.test(c) && !c.endsWith('.d.ts') && fs.existsSync(c) && fs.statSync(c).isFile());
}

/** The entry and every file reachable from it through relative imports. */
function sourceClosure(entry: string): string[] {
  const seen = new Set<string>([entry]);
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    // A plain .js file's own relative requires are followed too: it is copied, and what it requires must be there.
    if (file.endsWith('.json')) continue;
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const target = resolveRelative(file, m[1]);
      if (target && !seen.has(target)) {
        seen.add(target);
        queue.push(target);
      }
    }
  }
  return [...seen].sort();
}

function transpileToCache(entry: string): string {
  const root = packageRoot(path.dirname(entry));
  const files = sourceClosure(entry);
  const hash = crypto.createHash('sha256');
  for (const f of files) hash.update(path.relative(root, f)).update('\0').update(fs.readFileSync(f)).update('\0');
  const cacheBase = path.join(root, 'node_modules', '.cache', 'cdktf-sovereign-hetzner');
  const dir = path.join(cacheBase, hash.digest('hex').slice(0, 16));
  const target = path.join(dir, path.relative(root, entry).replace(/\.ts$/, '.js'));
  if (fs.existsSync(path.join(dir, '.complete'))) return target;

  // Loaded only here: running from compiled code never needs TypeScript.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const typescript = require('typescript') as typeof import('typescript');
  const tmp = `${dir}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  for (const f of files) {
    const rel = path.relative(root, f);
    const out = path.join(tmp, rel.replace(/\.ts$/, '.js'));
    fs.mkdirSync(path.dirname(out), { recursive: true });
    if (!f.endsWith('.ts')) {
      fs.copyFileSync(f, path.join(tmp, rel));
      continue;
    }
    const result = typescript.transpileModule(fs.readFileSync(f, 'utf8'), {
      fileName: f,
      compilerOptions: {
        module: typescript.ModuleKind.CommonJS,
        target: typescript.ScriptTarget.ES2020,
        esModuleInterop: true,
        resolveJsonModule: true,
        inlineSourceMap: false,
      },
    });
    fs.writeFileSync(out, result.outputText);
  }
  fs.writeFileSync(path.join(tmp, '.complete'), `${files.length} files\n`);
  fs.mkdirSync(cacheBase, { recursive: true });
  try {
    fs.renameSync(tmp, dir);
  } catch {
    // Another worker finished first; its copy is identical.
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  pruneOldBuilds(cacheBase, dir);
  return target;
}

/** Removes builds of earlier source trees, a day after they were made (running processes may still use them). */
function pruneOldBuilds(cacheBase: string, keep: string): void {
  const dayAgo = Date.now() - 24 * 3600_000;
  for (const name of fs.readdirSync(cacheBase)) {
    const dir = path.join(cacheBase, name);
    try {
      if (dir !== keep && fs.statSync(dir).mtimeMs < dayAgo) fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // removed by another worker meanwhile
    }
  }
}
