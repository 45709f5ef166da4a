import * as path from 'path';
import * as ts from 'typescript';

// StagingSuppressions.find was public while BoundarySuppressions' lookups are @internal: a query of the stacks'
// bookkeeping that users would come to rely on. What the published declarations hold (tsconfig strips @internal) is
// asserted here, from the declarations TypeScript emits for the two files.
describe('the suppression classes publish only add (and BoundarySuppressions its documented queries)', () => {
  const publicMembers = (file: string, className: string): string[] => {
    const root = path.resolve(__dirname, '..', '..');
    const config = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
    const emitted = new Map<string, string>();
    const program = ts.createProgram([path.join(root, file)], { ...config.options, declaration: true, emitDeclarationOnly: true, noEmit: false, outDir: '/nonexistent', declarationDir: undefined });
    program.emit(program.getSourceFile(path.join(root, file)), (name, text) => emitted.set(path.basename(name), text));
    const declarations = emitted.get(path.basename(file).replace(/\.ts$/, '.d.ts'))!;
    const source = ts.createSourceFile('d.ts', declarations, ts.ScriptTarget.Latest);
    const cls = source.statements.find((s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && s.name?.text === className)!;
    return cls.members.map((m) => (m.name as ts.Identifier | undefined)?.text ?? '').filter((n) => n !== '');
  };

  test('StagingSuppressions: add only', () => {
    expect(publicMembers('lib/environments/staging-suppressions.ts', 'StagingSuppressions')).toEqual(['add']);
  });

  test('BoundarySuppressions: add, find and placedIn', () => {
    expect(publicMembers('lib/boundary/suppressions.ts', 'BoundarySuppressions')).toEqual(['add', 'find', 'placedIn']);
  });
});

// `export *` of a module re-exports its @internal values at runtime too (stripInternal only trims the declarations):
// the registries' placed maps would let a caller place a suppression its reason was never checked for.
test('the suppression registries are no runtime export of any entry point', () => {
  const entries = [require('../../lib'), require('../../stacks'), require('../../testing')];
  for (const entry of entries) expect(Object.keys(entry).filter((name) => /suppressionregistry/i.test(name))).toEqual([]);
});
