#!/usr/bin/env node
// Generates the TypeScript bindings in generated/ from the committed provider schema.
// The bindings are output of this script only: edit schema/hcloud-provider-schema.json, then run `npm run generate`.
'use strict';
process.env.CHECKPOINT_DISABLE = '1';
// The generator asks terraform for its version; without a CLI config file it prints a harmless warning.
process.env.TF_CLI_CONFIG_FILE = '/dev/null';

const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const SCHEMA_FILE = path.join(ROOT, 'schema', 'hcloud-provider-schema.json');
const PROVIDER_CONSTRAINT = 'hetznercloud/hcloud@~> 1.68';

async function generateBindings(outdir) {
  // @cdktf/commons must be the copy the generator itself resolves, or the target classes do not match.
  const generatorDir = path.dirname(require.resolve('@cdktf/provider-generator/package.json'));
  const { TerraformProviderGenerator, CodeMaker, TerraformProviderConstraint } = require('@cdktf/provider-generator');
  const { ConstructsMakerProviderTarget, Language } = require(require.resolve('@cdktf/commons', { paths: [generatorDir] }));

  const schema = JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8'));
  const constraint = new TerraformProviderConstraint(PROVIDER_CONSTRAINT);
  const target = ConstructsMakerProviderTarget.from(constraint, Language.TYPESCRIPT);
  const code = new CodeMaker();
  code.indentation = 2;
  // The schema's `functions` (provider::hcloud::idna, ::txt_record) are read by the stand-in only:
  // @cdktf/provider-generator 0.21 emits bindings for the provider, resources and data sources and skips them.
  new TerraformProviderGenerator(code, schema).generate(target);

  // Start from an empty folder so that a type removed from the schema leaves no stale file behind.
  fs.rmSync(path.join(outdir, 'providers'), { recursive: true, force: true });
  await code.save(outdir);
  fs.writeFileSync(path.join(outdir, 'README.md'), [
    '# Generated code: do not edit',
    '',
    'Everything below this folder is written by `npm run generate` (scripts/generate-bindings.js)',
    'from `schema/hcloud-provider-schema.json`. A test fails when it is stale: change the schema and regenerate.',
    '',
  ].join('\n'));
}

module.exports = { generateBindings, SCHEMA_FILE, PROVIDER_CONSTRAINT };

if (require.main === module) {
  const outdir = process.argv[2] ? path.resolve(process.argv[2]) : path.join(ROOT, 'generated');
  generateBindings(outdir).then(
    () => console.log(`Generated hcloud bindings in ${path.relative(process.cwd(), outdir) || '.'}`),
    (err) => { console.error(err); process.exit(1); },
  );
}
