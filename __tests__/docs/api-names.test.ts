import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import { codeSpans, markdownFiles } from './markdown';

// The prose of README.md and docs/ names the API by its members: `Roadmap.assess`, `plan.recoveryPointObjective`,
// "`retire: { reason }` on the `EnvironmentStack`". The snippets are compiled (snippets.test.ts), the prose is not, and
// a renamed or removed member lived on there (docs/day-2.md told teams to set `retiring` on the `EnvironmentStack`,
// whose prop is `retire`). Each such name is looked up here in the package's public entry points.

const ROOT = path.resolve(__dirname, '..', '..');
const ENTRY_POINTS = ['lib/index.ts', 'stacks/index.ts', 'testing/index.ts'].map((f) => path.join(ROOT, f));

/** What the prose calls an instance by: `plan.…` is a BackupPlan's member, `admin.…` a product's admin access. */
const INSTANCE_NAMES: Readonly<Record<string, string>> = {
  plan: 'BackupPlan', machine: 'Machine', admin: 'AdminAccess', backup: 'ProductBackupOptions', product: 'Product', ws: 'StandInWorkspace',
};

/** The names a prop's value in a span spells out: `rollout: { sshPrivateKey }` gives rollout, then sshPrivateKey. */
function propPath(code: string): string[] | undefined {
  const m = /^(\w+)(?::\s*\{\s*(\w+)\b[^}]*\})?(?::|$)/.exec(code.trim());
  return m ? [m[1], ...(m[2] ? [m[2]] : [])] : undefined;
}

describe('the API names the prose of README.md and docs/ gives', () => {
  const program = ts.createProgram(ENTRY_POINTS, { target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.CommonJS, strict: true, skipLibCheck: true, noEmit: true });
  const checker = program.getTypeChecker();
  const exported = new Map<string, ts.Symbol>();
  for (const file of ENTRY_POINTS) {
    const module = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
    for (const s of checker.getExportsOfModule(module)) exported.set(s.name, s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  }
  const declaration = (s: ts.Symbol) => s.valueDeclaration ?? s.declarations![0];

  /** The types a name can be read from: a class's static side and its instances, an interface, an enum. */
  function typesOf(name: string): ts.Type[] {
    const symbol = exported.get(name);
    if (!symbol) return [];
    const types = [checker.getDeclaredTypeOfSymbol(symbol)];
    if (symbol.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Enum | ts.SymbolFlags.Function)) types.push(checker.getTypeOfSymbolAtLocation(symbol, declaration(symbol)));
    return types;
  }

  /** Whether `members` can be read, one after the other, from one of `types`. */
  function resolves(types: ts.Type[], members: readonly string[]): boolean {
    if (members.length === 0) return true;
    return types.some((type) => {
      const property = checker.getNonNullableType(type).getProperty(members[0]);
      if (!property) return false;
      const next = checker.getNonNullableType(checker.getTypeOfSymbolAtLocation(property, declaration(property)));
      // A record (`admin.environmentSshPublicKeys.production`) has a member of every name.
      if (members.length > 1 && checker.getIndexInfosOfType(next).length > 0) return true;
      return resolves([next], members.slice(1));
    });
  }

  const files = [path.join(ROOT, 'README.md'), ...markdownFiles(path.join(ROOT, 'docs'))];
  const spans = files.flatMap((file) => codeSpans(fs.readFileSync(file, 'utf8')).map((s) => ({ ...s, where: `${path.relative(ROOT, file)}:${s.line}` })));

  test('every `Type.member` and `instance.member` of the public API that the prose names exists', () => {
    const checked: string[] = [];
    const unknown: string[] = [];
    for (const { code, where } of spans) {
      // The dotted path a span starts with, without a call's arguments: `Roadmap.assess(metrics)` is Roadmap.assess.
      const m = /^([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*)+)/.exec(code);
      // A file name (`backup.conf`, `main.ts`) is not a member.
      if (!m || /^\.(conf|json|md|ts|js|sh|py|yml|yaml|env|tf|tfrc|html|svg|png)$/.test(m[2])) continue;
      const type = exported.has(m[1]) ? m[1] : INSTANCE_NAMES[m[1]];
      if (!type) continue;
      const members = m[2].slice(1).split('.');
      const types = exported.has(m[1]) ? typesOf(type) : typesOf(type).slice(0, 1);
      checked.push(m[0]);
      if (!resolves(types, members)) unknown.push(`${where}: \`${m[0]}\` (${type} has no ${members.join('.')})`);
    }
    expect(checked.length).toBeGreaterThan(20);
    expect(unknown).toEqual([]);
  });

  test('every prop the prose sets "on the `Construct`", or calls "the `Construct`\'s `prop`", is one of its props', () => {
    const checked: string[] = [];
    const unknown: string[] = [];
    for (const { code, after, where } of spans) {
      const target = /^ (?:on|to) (?:the |a |an )?`([A-Z]\w+)`/.exec(after)?.[1];
      const props = target && exported.has(target) ? propPath(code) : undefined;
      if (!target || !props) continue;
      // A construct's props are its `…Props` interface; a plain type's are its own members.
      const types = [...typesOf(`${target}Props`), ...typesOf(target).slice(0, 1)];
      checked.push(`${code} on ${target}`);
      if (!resolves(types, props)) unknown.push(`${where}: \`${code}\` on ${target} (no ${props.join('.')})`);
    }
    // "`MonitoringPlan`'s `diskWarningShare`": a member (or prop) of the type just named.
    for (const { code, after, where } of spans) {
      const member = /^'s `(\w+)`/.exec(after)?.[1];
      if (!member || !exported.has(code)) continue;
      checked.push(`${code}'s ${member}`);
      if (!resolves([...typesOf(`${code}Props`), ...typesOf(code).slice(0, 1)], [member])) unknown.push(`${where}: \`${code}\`'s \`${member}\` (no ${member})`);
    }
    expect(checked.length).toBeGreaterThan(2);
    expect(unknown).toEqual([]);
  });
});
