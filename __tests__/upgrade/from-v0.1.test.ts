import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { EXAMPLES } from '../../examples';
import { HetznerStandIn } from '../../testing';
import { ResourceChange } from '../../testing/harness/planned-changes';

// A team that deployed with 0.1 (df843b2, the commit the CHANGELOG's 0.2.0 section builds on) upgrades
// and runs `cdktf deploy` again. The fixtures are the 0.1 examples' synthesized stacks; only each server's
// user data is cut short (the state keeps its hash alone, and 0.2 ignores it on every server), so they stay
// small. Terraform applies them through the stand-in, then plans today's synth over the same state.
//
// phase3-traction-test is left out: the Phase 3 example itself moved its test machine to Falkenstein since
// 0.1 (a change of the team's code, which replaces a test machine as it should), and the other two test
// stacks and phase1's staging cover the library's side of non-production machines.

const FIXTURES = path.join(__dirname, 'fixtures-v0.1');

/** Hold data or addresses: the upgrade may change them in place, never destroy them. */
const PROTECTED = new Set([
  'hcloud_server', 'hcloud_volume', 'hcloud_volume_attachment', 'hcloud_primary_ip', 'hcloud_network', 'hcloud_network_subnet',
  'hcloud_storage_box', 'hcloud_storage_box_subaccount', 'hcloud_ssh_key', 'hcloud_firewall',
]);

/**
 * What goes by design. Staging built from production's snapshot lives in production's Hetzner project and
 * refers to production's admin keys by name (registering them again failed with uniqueness_error), so its own
 * key goes; staging holds no data. The examples' test has a deploy key of its own in place of the admin's (a
 * change of the examples' code, not the library's): the key goes, and the server ignores changes to its keys.
 */
const GOES_BY_DESIGN = new Set(['phase1-pilot-staging hcloud_ssh_key.AdminKey-admin_431408C2', 'phase1-pilot-test hcloud_ssh_key.AdminKey-admin_431408C2']);

function synthesizeToday(): Map<string, unknown> {
  const byStack = new Map<string, unknown>();
  for (const define of Object.values(EXAMPLES)) {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'upgrade-from-v01-'));
    const app = new App({ outdir });
    define(app);
    app.synth();
    for (const stack of fs.readdirSync(path.join(outdir, 'stacks'))) {
      byStack.set(stack, JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', stack, 'cdk.tf.json'), 'utf8')));
    }
    fs.rmSync(outdir, { recursive: true, force: true });
  }
  return byStack;
}

const today = synthesizeToday();
const fixtures = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.tf.json')).sort().map((f) => f.replace(/\.tf\.json$/, ''));
const standIn = new HetznerStandIn({ reattach: true });
afterAll(() => standIn.stop(true));

const describeChange = (c: ResourceChange) => `${c.actions.join('/')} ${c.address}${c.replacePaths.length ? ` (forced by ${JSON.stringify(c.replacePaths)})` : ''}`;

describe('upgrading stacks deployed with 0.1', () => {
  test('fixtures for every production stack of the examples', () => {
    expect(fixtures.filter((s) => s.endsWith('-production'))).toEqual(
      [...today.keys()].filter((s) => s.endsWith('-production')).sort());
  });

  test.each(fixtures)('%s: logical IDs of everything that holds data or addresses are unchanged', (stack) => {
    const old = JSON.parse(fs.readFileSync(path.join(FIXTURES, `${stack}.tf.json`), 'utf8'));
    const now = today.get(stack) as { resource: Record<string, Record<string, unknown>> };
    const missing = Object.entries(old.resource as Record<string, Record<string, unknown>>)
      .filter(([type]) => PROTECTED.has(type))
      .flatMap(([type, byName]) => Object.keys(byName).filter((name) => !(name in (now.resource[type] ?? {}))).map((name) => `${type}.${name}`))
      .filter((address) => !GOES_BY_DESIGN.has(`${stack} ${address}`));
    // A renamed construct would need a `moved` block, or Terraform destroys the old address.
    expect(missing).toEqual([]);
  });

  test.each(fixtures)('%s: the same state backend and provider (the stand-in replaces the backend, so it is compared here)', (stack) => {
    const old = JSON.parse(fs.readFileSync(path.join(FIXTURES, `${stack}.tf.json`), 'utf8'));
    const now = today.get(stack) as { terraform: Record<string, unknown> };
    // Another bucket, key or endpoint would start from an empty state and create every resource a second time.
    expect(now.terraform.backend).toEqual(old.terraform.backend);
    expect(now.terraform.required_providers).toEqual(old.terraform.required_providers);
  });

  test.each(fixtures)('%s: the next deploy destroys and replaces nothing', (stack) => {
    const ws = standIn.workspace(JSON.parse(fs.readFileSync(path.join(FIXTURES, `${stack}.tf.json`), 'utf8')), { name: stack });
    const applied = ws.apply();
    expect(applied.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);

    ws.setConfiguration(today.get(stack));
    const { run, changes } = ws.plan();
    expect(run.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const destructive = changes!.resourceChanges.filter((c) => c.actions.includes('delete') && !GOES_BY_DESIGN.has(`${stack} ${c.address}`)).map(describeChange);
    expect(destructive).toEqual([]);
    // What may change: new resources, and protected ones in place only (no server is recreated for its user data).
    const protectedChanges = changes!.resourceChanges
      .filter((c) => PROTECTED.has(c.type) && !c.actions.every((a) => a === 'no-op' || a === 'read'))
      .filter((c) => !(c.actions.length === 1 && c.actions[0] === 'create') && !GOES_BY_DESIGN.has(`${stack} ${c.address}`));
    for (const c of protectedChanges) expect(describeChange(c)).toMatch(/^update /);
  });
});

describe('production refuses to replace what holds data or addresses', () => {
  // A replacement (-/+) of anything that holds data or addresses must fail the plan in production. prevent_destroy
  // does that while the resource's block is in the configuration; a construct whose ID changed leaves no block at
  // its old address, which only Hetzner's delete protection stops at apply (the tests above keep our own IDs stable).
  const HOLDS_DATA = ['hcloud_server', 'hcloud_volume', 'hcloud_primary_ip', 'hcloud_network', 'hcloud_storage_box', 'hcloud_storage_box_subaccount'];

  test.each([...today.keys()].filter((s) => s.endsWith('-production')).sort())('%s: everything that holds data or addresses has prevent_destroy', (stack) => {
    const json = today.get(stack) as { resource: Record<string, Record<string, { lifecycle?: { prevent_destroy?: boolean } }>> };
    const unprotected = HOLDS_DATA.flatMap((type) => Object.entries(json.resource[type] ?? {})
      .filter(([, r]) => r.lifecycle?.prevent_destroy !== true).map(([name]) => `${type}.${name}`));
    expect(unprotected).toEqual([]);
  });
});
