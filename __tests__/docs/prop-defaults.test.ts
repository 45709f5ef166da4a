import * as path from 'path';
import * as ts from 'typescript';

// Every optional field a caller may write says what leaving it out means, with `@default <value>` or
// `@default - <behaviour>` (the style guide's rule for props). The API reference shows the tag; without it a
// reader of `retention?: Duration` cannot tell whether leaving it out keeps a week, a month or nothing.
//
// "A field a caller may write" is found, not listed: the types of the parameters of every public function,
// constructor and method of the package's entry points, and the types of their fields, all the way down. A
// type the library returns (`Roadmap.assess`'s assessment, passed back to `DatabaseStorage.fromAssessment`) is
// an answer, whose optional fields say when they are absent, and a construct's interface (`IMachine`) states
// what the construct knows; neither has defaults.

const ROOT = path.resolve(__dirname, '..', '..');
const ENTRY_POINTS = ['lib/index.ts', 'stacks/index.ts', 'testing/index.ts'].map((f) => path.join(ROOT, f));

const isOwnSource = (node: ts.Node): boolean => {
  const file = node.getSourceFile().fileName;
  return !file.includes('/node_modules/') && !file.includes('/generated/');
};
const isInternal = (node: ts.Node): boolean => ts.getJSDocTags(node).some((t) => t.tagName.text === 'internal');
const isPublicMember = (member: ts.ClassElement | ts.TypeElement): boolean =>
  !(ts.getCombinedModifierFlags(member as ts.Declaration) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected))
  && !isInternal(member) && !(member.name !== undefined && ts.isPrivateIdentifier(member.name));

type Signature = ts.FunctionDeclaration | ts.ConstructorDeclaration | ts.MethodDeclaration | ts.MethodSignature;

/** Each optional field without `@default` of each type a caller writes, as `Type.field (file) <- where it is passed`. */
function fieldsWithoutDefault(): { fields: string[]; optionalFields: number } {
  const program = ts.createProgram(ENTRY_POINTS, { target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.CommonJS, strict: true, skipLibCheck: true, noEmit: true, resolveJsonModule: true, esModuleInterop: true });
  const checker = program.getTypeChecker();
  const signatures: Signature[] = [];
  for (const file of ENTRY_POINTS) {
    for (let symbol of checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(file)!)!)) {
      if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
      for (const declaration of symbol.declarations ?? []) {
        if (ts.isFunctionDeclaration(declaration)) signatures.push(declaration);
        if (ts.isClassDeclaration(declaration) || ts.isInterfaceDeclaration(declaration)) {
          for (const member of (declaration.members as ts.NodeArray<ts.ClassElement | ts.TypeElement>)) {
            if ((ts.isConstructorDeclaration(member) || ts.isMethodDeclaration(member) || ts.isMethodSignature(member)) && isPublicMember(member)) signatures.push(member);
          }
        }
      }
    }
  }

  /** The interfaces and object literal types a type is made of (through unions, lists and type arguments). */
  const partsOf = (type: ts.Type, each: (part: ts.Type, declaration: ts.InterfaceDeclaration | ts.TypeLiteralNode) => void, seen = new Set<ts.Type>()): void => {
    if (seen.has(type)) return;
    seen.add(type);
    if (type.isUnionOrIntersection()) return type.types.forEach((t) => partsOf(t, each, seen));
    const declarations = (type.getSymbol()?.declarations ?? []).filter((d): d is ts.InterfaceDeclaration | ts.TypeLiteralNode => ts.isInterfaceDeclaration(d) || ts.isTypeLiteralNode(d));
    if (declarations.length === 0) {
      if ((type as ts.ObjectType).objectFlags & ts.ObjectFlags.Reference) checker.getTypeArguments(type as ts.TypeReference).forEach((t) => partsOf(t, each, seen));
      return;
    }
    for (const declaration of declarations) if (isOwnSource(declaration)) each(type, declaration);
  };

  const answers = new Set<ts.Node>();
  for (const signature of signatures) {
    const returned = checker.getSignatureFromDeclaration(signature)?.getReturnType();
    if (returned) partsOf(returned, (_t, declaration) => answers.add(declaration));
  }

  const written = new Map<ts.InterfaceDeclaration | ts.TypeLiteralNode, string>();
  const visited = new Set<ts.Type>();
  const visit = (type: ts.Type, where: string): void => partsOf(type, (part, declaration) => {
    if (visited.has(part) || answers.has(declaration)) return;
    if (ts.isInterfaceDeclaration(declaration) && /^I[A-Z]/.test(declaration.name.text)) return;
    visited.add(part);
    if (!written.has(declaration)) written.set(declaration, where);
    for (const property of checker.getPropertiesOfType(part)) {
      if (property.valueDeclaration && isOwnSource(property.valueDeclaration)) visit(checker.getTypeOfSymbolAtLocation(property, property.valueDeclaration), where);
    }
  });
  for (const signature of signatures) {
    const owner = signature.parent && (ts.isClassDeclaration(signature.parent) || ts.isInterfaceDeclaration(signature.parent)) ? `${signature.parent.name?.text}.` : '';
    const name = ts.isConstructorDeclaration(signature) ? 'constructor' : signature.name!.getText();
    for (const parameter of signature.parameters) visit(checker.getTypeAtLocation(parameter), `${owner}${name}(${parameter.name.getText()})`);
  }

  const fields: string[] = [];
  const judged = new Set<ts.Node>();
  for (const [declaration, where] of written) {
    const type = checker.getTypeAtLocation(declaration);
    for (const property of checker.getPropertiesOfType(type)) {
      const member = property.valueDeclaration;
      if (!member || !ts.isPropertySignature(member) || !member.questionToken || judged.has(member) || !isOwnSource(member) || isInternal(member)) continue;
      judged.add(member);
      if (ts.getJSDocTags(member).some((t) => t.tagName.text === 'default')) continue;
      const file = path.relative(ROOT, member.getSourceFile().fileName);
      const owner = ts.isInterfaceDeclaration(member.parent) ? member.parent.name.text : `{…} at ${file}:${member.getSourceFile().getLineAndCharacterOfPosition(member.parent.getStart()).line + 1}`;
      fields.push(`${owner}.${member.name.getText()} (${file}) <- ${where}`);
    }
  }
  return { fields, optionalFields: judged.size };
}

describe('the public API', () => {
  test('documents the @default of every optional field a caller writes', () => {
    const { fields, optionalFields } = fieldsWithoutDefault();
    // The walk reaches the props it should: Machine's, the product's, the stacks'; a walk that found nothing passes nothing.
    expect(optionalFields).toBeGreaterThan(150);
    // One line per field, so that the failure is the to-do list.
    expect(fields.join('\n')).toBe('');
  }, 120_000);
});
