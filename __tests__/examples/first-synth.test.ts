import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_STAGING_DAYS, expiryAfterDays } from '../../lib/environments/staging';
import { manifestWarnings, resources, synthesizeExamplesUnpinned } from './synth-examples';

// The examples are what a newcomer synthesizes first and what a team copies. Their first `npm run synth` printed
// 23 warnings, some the README never named: test's CI key opened production (Environment-SharedAdminKey, three
// times), Phase 1's bill was near its own budget (Cost-NearBudget), and staging's fixed expiry warned as it neared
// (Environment-StagingLongLived) and would have labelled staging expired, for the reaper to delete, after it.
// The suites pin STAGING_EXPIRES_AT (global-setup.js) so that the examples' output is stable; a newcomer has no
// such variable, so this synth has none either.
const earliest = expiryAfterDays(DEFAULT_STAGING_DAYS, new Date());
const { manifest, stacks } = synthesizeExamplesUnpinned();
// The day may turn during the synth.
const latest = expiryAfterDays(DEFAULT_STAGING_DAYS, new Date());
const warnings = manifestWarnings(manifest);

describe("the examples' first synth", () => {
  test("gives staging the release path's default life from today, and warns nothing about its expiry", () => {
    const stagingStacks = Object.keys(stacks).filter((name) => name.endsWith('-staging'));
    expect(stagingStacks.sort()).toEqual(['phase1-pilot-staging', 'phase3-traction-staging']);
    for (const name of stagingStacks) {
      for (const server of resources(stacks[name], 'hcloud_server')) expect([earliest, latest]).toContain(server.labels['expires-at']);
    }
    expect(warnings.filter((message) => /Environment-Staging(LongLived|Expired)/.test(message))).toEqual([]);
  });

  // No key in both: test's CI key opens no production machine, and the two deploy into one Hetzner project too
  // (Hetzner registers a key once per project: a key in both failed the second deploy with uniqueness_error).
  test.each(['phase1-pilot', 'phase2-paying', 'phase3-traction'])('%s: test and production register keys of their own', (product) => {
    const keyMaterial = (stack: any) => new Set(resources(stack, 'hcloud_ssh_key').map((key) => key.public_key.split(/\s+/).slice(0, 2).join(' ')));
    const production = keyMaterial(stacks[`${product}-production`]);
    const test_ = keyMaterial(stacks[`${product}-test`]);
    expect(production.size).toBeGreaterThan(0);
    expect(test_.size).toBeGreaterThan(0);
    expect([...test_].filter((key) => production.has(key))).toEqual([]);
  });

  test("warns only of what the README's 'Deploying an example' names", () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Deploying an example'));
    const named = section.slice(0, section.indexOf('\n## ', 3));
    const codes = [...new Set(warnings.map((warning) => warning.split(':')[0]))];
    expect(codes.length).toBeGreaterThan(0);
    expect(codes.filter((code) => !named.includes(`\`${code}\``))).toEqual([]);
    expect(codes).not.toContain('Environment-SharedAdminKey');
    expect(codes).not.toContain('Cost-NearBudget');
  });
});
