import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { javascriptEntry } from '../../testing/harness/transpile-cache';
import { PACKAGE_NAME } from '../../lib/core/private/package-name';

/**
 * A package tree of its own (a package.json with the library's name, so the cache goes under its
 * node_modules/.cache), laid out as __tests__/backup/helpers/sftp-server.ts and the jest setup's
 * run-leftovers.js are: a TypeScript entry importing a plain `.js` (a `.d.ts` beside it) which itself
 * requires another plain `.js` and a TypeScript module.
 */
function packageTree(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'transpile-cache-'));
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  };
  write('package.json', JSON.stringify({ name: PACKAGE_NAME, private: true }));
  write('helpers/entry.ts', [
    "import { greeting } from '../setup/plain';",
    'const who: string = process.argv[2] ?? "nobody";',
    'process.stdout.write(greeting(who));',
    '',
  ].join('\n'));
  write('setup/plain.js', [
    "const { suffix } = require('./other');",
    "const { prefix } = require('../lib/typed');",
    'function greeting(who) { return `${prefix()} ${who}${suffix}`; }',
    'module.exports = { greeting };',
    '',
  ].join('\n'));
  write('setup/plain.d.ts', 'export function greeting(who: string): string;\n');
  write('setup/other.js', "module.exports = { suffix: '!' };\n");
  write('lib/typed.ts', "export function prefix(): string { return 'hello' as string; }\n");
  return root;
}

function run(entry: string, arg: string) {
  return spawnSync(process.execPath, [entry, arg], { encoding: 'utf8', env: { PATH: process.env.PATH } });
}

describe('javascriptEntry', () => {
  let root: string;
  beforeEach(() => { root = packageTree(); });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  test('a TypeScript entry importing a plain .js, which requires another .js and a .ts, runs with node from the cache', () => {
    const entry = javascriptEntry(path.join(root, 'helpers', 'entry'));
    const cacheDir = path.join(root, 'node_modules', '.cache', PACKAGE_NAME);
    expect(entry.startsWith(`${cacheDir}${path.sep}`)).toBe(true);
    const dir = path.dirname(path.dirname(entry));
    // The .js files are copied as they are, the .ts transpiled beside them, the .d.ts left out.
    expect(fs.readFileSync(path.join(dir, 'setup', 'plain.js'), 'utf8')).toBe(fs.readFileSync(path.join(root, 'setup', 'plain.js'), 'utf8'));
    expect(fs.existsSync(path.join(dir, 'setup', 'other.js'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'lib', 'typed.js'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'setup', 'plain.d.ts'))).toBe(false);

    const result = run(entry, 'world');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('hello world!');
  });

  test('an edit of a plain .js two imports away gives a new cache directory; an unchanged tree reuses the old one', () => {
    const first = javascriptEntry(path.join(root, 'helpers', 'entry'));
    expect(javascriptEntry(path.join(root, 'helpers', 'entry'))).toBe(first);

    fs.writeFileSync(path.join(root, 'setup', 'other.js'), "module.exports = { suffix: '?' };\n");
    const second = javascriptEntry(path.join(root, 'helpers', 'entry'));
    expect(path.dirname(path.dirname(second))).not.toBe(path.dirname(path.dirname(first)));
    expect(run(second, 'world').stdout).toBe('hello world?');
    // The earlier build is still whole for a process that was started from it.
    expect(run(first, 'world').stdout).toBe('hello world!');
  });
});
