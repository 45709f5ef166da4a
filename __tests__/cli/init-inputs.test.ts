import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';
import { cli } from './cli';

// Audit (cli): init wrote each key between single quotes as given. A key read from a file with Windows line endings
// (`--admin-key "$(cat admin.pub)"` keeps the \r) or with a quote in its comment (o'brien@team.eu) passed the
// library's checks, and gave a product.ts that does not compile: "Unterminated string literal", at the team's first npm test.

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr o\'brien@acme.eu';
const PRODUCTION_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM8xqk9KKFzjyUm7zn9jN8qK6gUimLQcZv8WO+NIigxr ops\\prod@acme-production';

/** The string literals of a TypeScript source, as the compiler reads them, and its syntax errors. */
function parsed(source: string): { literals: string[]; errors: string[] } {
  const file = ts.createSourceFile('product.ts', source, ts.ScriptTarget.ES2020, true);
  const literals: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteral(node)) literals.push(node.text);
    ts.forEachChild(node, visit);
  };
  visit(file);
  const errors = ((file as unknown as { parseDiagnostics: ts.Diagnostic[] }).parseDiagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  return { literals, errors };
}

describe('cdktf-sovereign-hetzner init with keys as files and terminals give them', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'init-inputs-'));
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  test('Windows line endings and quotes in the keys give a product.ts that compiles, holding each key as given without the line ending', async () => {
    // A directory with a space, as a team's home or project folder may have.
    const dir = path.join(work, 'my projects', 'acme-iac');
    const { code, err } = await cli(['init', dir, '--name', 'acme', '--admin-key', `${KEY}\r`, '--production-admin-key', `${PRODUCTION_KEY}\r`, '--admin-cidrs', '198.51.100.0/24\r']);
    expect({ code, err }).toEqual({ code: 0, err: '' });
    const { literals, errors } = parsed(fs.readFileSync(path.join(dir, 'product.ts'), 'utf8'));
    expect(errors).toEqual([]);
    expect(literals).toEqual(expect.arrayContaining([KEY, PRODUCTION_KEY, '198.51.100.0/24']));
    expect(literals.join('\n')).not.toMatch(/\r/);
  });
});
