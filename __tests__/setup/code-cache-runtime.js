const vm = require('vm');
const Runtime = require('jest-runtime').default;

/**
 * jest's runtime, with V8's code cache kept across the test files of a worker.
 *
 * jest gives each test file a fresh module registry, so every file compiles cdktf, constructs, the library and its
 * generated bindings again (`vm.compileFunction` of each module's code): about 0.15 CPU-s a file that imports the
 * library, most of it V8 parsing the same text the file before it parsed (scripts/slowest-tests.results.md, 2026-12-06,
 * fourteenth session). Here the first compile of a module in a worker keeps V8's cached data, and later compiles of the
 * same code (same file, same text, same parameters) hand it back, so V8 deserializes instead of parsing. The modules
 * still run afresh in each file's own context: only the parse is shared, never a module's state. V8 checks the data
 * (its version, its flags, a checksum) and parses as usual when it rejects it.
 */
const compileFunction = vm.compileFunction;
/** By file and parameters: the code compiled and V8's data for it. */
const cache = new Map();

vm.compileFunction = function compileWithCodeCache(code, params, options) {
  // Only jest's module compiles (a file name, no code cache of the caller's own); anything else as it was.
  if (typeof code !== 'string' || !options || typeof options.filename !== 'string' || 'cachedData' in options || 'produceCachedData' in options) {
    return compileFunction.call(this, code, params, options);
  }
  // V8's data does not cover the parameters (its check is on the source's length), so they are part of the key.
  const key = `${options.filename}\0${(params ?? []).join(',')}`;
  const kept = cache.get(key);
  if (kept && kept.code === code) {
    const compiled = compileFunction.call(this, code, params, { ...options, cachedData: kept.data });
    if (compiled.cachedDataRejected) cache.delete(key);
    return compiled;
  }
  const compiled = compileFunction.call(this, code, params, { ...options, produceCachedData: true });
  if (compiled.cachedDataProduced) cache.set(key, { code, data: compiled.cachedData });
  return compiled;
};

module.exports = Runtime;
