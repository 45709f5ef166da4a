import * as vm from 'vm';

// The suites' jest runtime (jest.config.js) keeps V8's parse of a module for the worker's next test files.
// A module runs afresh in each file: only the parse may be shared, and only for the same code.

type Compiled = ((...args: unknown[]) => unknown) & { cachedDataRejected?: boolean; cachedDataProduced?: boolean };
const compile = (code: string, filename: string, params = ['counter']): Compiled =>
  vm.compileFunction(code, params, { filename, parsingContext: vm.createContext({}) }) as Compiled;
let unique = 0;
const fileName = () => `/code-cache-runtime-test/${process.pid}-${unique++}.js`;

test('the workers compile modules through the code cache', () => {
  expect(vm.compileFunction.name).toBe('compileWithCodeCache');
});

test('the same code from the same file is compiled from the kept data, and runs afresh each time', () => {
  const file = fileName();
  const code = 'let count = 0; return () => { count += 1; return `${counter}:${count}`; };';
  const first = compile(code, file);
  const second = compile(code, file);
  expect({ produced: first.cachedDataProduced, rejected: second.cachedDataRejected }).toEqual({ produced: true, rejected: false });
  const [a, b] = [first('a') as () => string, second('b') as () => string];
  expect([a(), a(), b()]).toEqual(['a:1', 'a:2', 'b:1']);
});

test('other code under the same name, or the same code with other parameters, is parsed anew', () => {
  const file = fileName();
  compile('return 1 + counter;', file);
  const changed = compile('return 2 + counter;', file);
  expect('cachedDataRejected' in changed).toBe(false);
  expect(changed(1)).toBe(3);
  const otherParameters = compile('return 1 + counter;', file, ['other', 'counter']);
  expect('cachedDataRejected' in otherParameters).toBe(false);
  expect(otherParameters(10, 1)).toBe(2);
});
