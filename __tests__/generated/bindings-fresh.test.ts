import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { generateBindings } = require('../../scripts/generate-bindings');

const ROOT = path.resolve(__dirname, '..', '..');

function listFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? listFiles(full).map((f) => path.join(entry.name, f)) : [entry.name];
  }).sort();
}

describe('generated bindings', () => {
  test('are exactly what the committed schema generates (regenerate with `npm run generate`)', async () => {
    const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'bindings-'));
    await generateBindings(fresh);
    const committed = path.join(ROOT, 'generated');
    expect(listFiles(committed)).toEqual(listFiles(fresh));
    const stale = listFiles(fresh).filter((f) =>
      fs.readFileSync(path.join(fresh, f), 'utf8') !== fs.readFileSync(path.join(committed, f), 'utf8'));
    expect(stale).toEqual([]);
  }, 60_000);
});
