const fs = require('fs');
const path = require('path');
const vm = require('vm');
const { createScriptTransformer } = require('@jest/transform');

const ROOT = path.resolve(__dirname, '..', '..');
// Every TypeScript source a suite can load: the library, its entry points, the harness and the tests.
const SOURCE_DIRS = ['lib', 'stacks', 'cli', 'testing', 'examples', 'generated', '__tests__'];

function typescriptFiles(dir, out) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) typescriptFiles(file, out);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(file);
  }
  return out;
}

/**
 * Transpiles every TypeScript source into jest's transform cache once, before the workers start. With a
 * cold cache (a fresh CI machine), each worker otherwise transpiles the library, its bindings and the
 * harness as it first meets them: the workers start together and meet the same files together, so a file
 * was transpiled up to once per worker. The options are those a test file's modules are loaded with
 * (jest-runtime's defaults, no coverage), so the workers find the results under the same keys; files
 * already cached cost a hash each.
 */
module.exports = async function warmTransformCache(projectConfig) {
  const transformer = await createScriptTransformer(projectConfig);
  const options = {
    isInternalModule: false,
    // As jest-runtime decides it: true only under node --experimental-vm-modules.
    supportsDynamicImport: typeof vm.SyntheticModule === 'function',
    supportsExportNamespaceFrom: false,
    supportsStaticESM: false,
    supportsTopLevelAwait: false,
    collectCoverage: false,
    coverageProvider: projectConfig.coverageProvider ?? 'babel',
  };
  const files = SOURCE_DIRS.flatMap((dir) => (fs.existsSync(path.join(ROOT, dir)) ? typescriptFiles(path.join(ROOT, dir), []) : []));
  for (const file of files) transformer.transform(file, options);
  return files.length;
};
