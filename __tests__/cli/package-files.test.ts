import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { docPath, packageRoot } from '../../cli/package-files';

// A doc the CLI names must open from where the team runs it: in their repo the package sits under node_modules.
describe('docPath: the path of one of the package docs, as the reader opens it', () => {
  test('from the package itself (a clone): docs/<name>', () => {
    expect(docPath('testing.md', packageRoot())).toBe(path.join('docs', 'testing.md'));
  });

  test('from the directory holding the package (a team repo holding node_modules/cdktf-sovereign-hetzner): through it, and the file is there', () => {
    const holder = path.dirname(packageRoot());
    const named = docPath('testing.md', holder);
    expect(named).toBe(path.join(path.basename(packageRoot()), 'docs', 'testing.md'));
    expect(fs.existsSync(path.resolve(holder, named))).toBe(true);
  });

  test('from anywhere else: the absolute path, never a ../ chain', () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-path-'));
    try {
      const named = docPath('testing.md', elsewhere);
      expect(named).toBe(path.join(packageRoot(), 'docs', 'testing.md'));
      expect(fs.existsSync(named)).toBe(true);
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
