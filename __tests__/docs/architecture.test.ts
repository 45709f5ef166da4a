import * as fs from 'fs';
import * as path from 'path';

// README.md's "Architecture" block is a newcomer's map of the repository: one line per top-level directory and
// per layer of lib/. A layer added without its line (lib/database/ had none) leaves the map without the code
// it looks for.

const ROOT = path.resolve(__dirname, '..', '..');

function architectureBlock(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Architecture'));
  return /^```\n([\s\S]*?)^```/m.exec(section)?.[1] ?? '';
}

test("README's architecture names every layer of lib/ and every top-level directory of the source", () => {
  const block = architectureBlock();
  const named = new Set([...block.matchAll(/^(\s*)([\w_]+)\/\s/gm)].map((m) => (m[1].length > 0 ? `lib/${m[2]}` : m[2])));
  const layers = fs.readdirSync(path.join(ROOT, 'lib'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `lib/${e.name}`);
  const topLevel = ['schema', 'generated', 'lib', 'stacks', 'cli', 'testing', 'examples', '__tests__', 'scripts'].filter((d) => fs.existsSync(path.join(ROOT, d)));
  expect(layers.length).toBeGreaterThan(5);
  expect([...layers, ...topLevel].filter((d) => !named.has(d))).toEqual([]);
  // And nothing it names is gone.
  expect([...named].filter((d) => !fs.existsSync(path.join(ROOT, d)))).toEqual([]);
});
