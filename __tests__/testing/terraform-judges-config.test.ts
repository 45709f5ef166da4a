import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, TerraformStack, Testing } from 'cdktf';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import { Server } from '../../generated/providers/hcloud/server';
import { HetznerStandIn, setupStandInMatchers, stackJson } from '../../testing';

setupStandInMatchers();

// Terraform itself, not our reading of the JSON, rejects a wrong argument name, a missing
// required argument and a wrong type: the stand-in only serves the schema.

function validStack(): TerraformStack {
  const app: App = Testing.app();
  const s = new TerraformStack(app, 'judged');
  new HcloudProvider(s, 'hcloud', {});
  new Server(s, 'web', { name: 'web', serverType: 'cx23', image: 'debian-12', location: 'fsn1' });
  return s;
}

/** The valid stack's JSON with the server's arguments edited. */
function withServer(edit: (server: Record<string, unknown>) => void): Record<string, unknown> {
  const json = stackJson(validStack()) as any;
  edit(json.resource.hcloud_server.web);
  return json;
}

const standIn = new HetznerStandIn({ reattach: true });
afterAll(() => standIn.stop(true));

describe('Terraform rejects what the hcloud schema does not allow', () => {
  test('the unchanged stack is valid', () => {
    expect(validStack()).toBeValidWithStandIn();
    expect(validStack()).toPlanWithStandIn();
  });

  test.each([
    ['a wrong argument name', (s: Record<string, unknown>) => { s.locaton = s.location; delete s.location; },
      /Extraneous JSON object property[\s\S]*No argument or block type is named "locaton"\. Did you mean "location"\?/],
    ['a missing required argument', (s: Record<string, unknown>) => { delete s.name; },
      /Missing required argument[\s\S]*The argument "name" is required/],
    ['a wrong type', (s: Record<string, unknown>) => { s.keep_disk = ['yes']; },
      /Incorrect attribute value type[\s\S]*Inappropriate value for attribute "keep_disk": bool required/],
  ])('%s', (_what, edit, message) => {
    const ws = standIn.workspace(withServer(edit));
    const run = ws.validate();
    expect(run.ok).toBe(false);
    const errors = run.diagnostics.filter((d) => d.severity === 'error');
    expect(errors).toHaveLength(1);
    expect(`${errors[0].summary}\n${errors[0].detail}`).toMatch(message);
    // The jest matcher reports the same, with Terraform's words.
    expect(() => expect(withServer(edit)).toBeValidWithStandIn()).toThrow(message);
  });
});

describe('the stand-in launched by Terraform itself (no reattach)', () => {
  const launched = new HetznerStandIn({ reattach: false });
  afterAll(() => launched.stop(true));

  test('installs from the filesystem mirror, validates and plans', () => {
    const ws = launched.workspace(validStack());
    const init = ws.init();
    expect(init.ok).toBe(true);
    expect(init.stdout).toMatch(/Installed hetznercloud\/hcloud v1\.68\.0/);
    expect(fs.readFileSync(path.join(ws.dir, '.terraform.lock.hcl'), 'utf8')).toMatch(/provider "registry\.terraform\.io\/hetznercloud\/hcloud"[\s\S]*version\s+= "1\.68\.0"[\s\S]*h1:/);
    expect(ws.validate().ok).toBe(true);
    const { changes } = ws.plan();
    expect(changes!.creates.map((c) => c.address)).toEqual(['hcloud_server.web']);
  }, 60_000);

  test('a schema it cannot serve gets a diagnostic naming the resource and attribute', () => {
    const broken = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'schema', 'hcloud-provider-schema.json'), 'utf8'));
    broken.provider_schemas['registry.terraform.io/hetznercloud/hcloud'].resource_schemas.hcloud_server.block.attributes.server_type.type = 'strng';
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'broken-schema-')), 'schema.json');
    fs.writeFileSync(file, JSON.stringify(broken));
    const ws = launched.workspace(validStack());
    const previous = process.env.HCLOUD_STANDIN_SCHEMA;
    process.env.HCLOUD_STANDIN_SCHEMA = file; // passed on by Terraform to the plugin it launches
    try {
      const run = ws.validate();
      expect(run.ok).toBe(false);
      expect(run.diagnostics.map((d) => `${d.summary}: ${d.detail}`).join('\n'))
        .toMatch(/The Hetzner stand-in cannot serve the schema of hcloud_server\.server_type: hcloud_server\.server_type: type "strng" is not a Terraform type/);
    } finally {
      if (previous === undefined) delete process.env.HCLOUD_STANDIN_SCHEMA;
      else process.env.HCLOUD_STANDIN_SCHEMA = previous;
    }
  }, 60_000);
});
