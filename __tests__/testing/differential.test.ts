import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { EXAMPLES } from '../../examples';
import { HetznerStandIn, StandInWorkspace } from '../../testing';

// The differential suite: mutations of an example stack, each with the stage at which the real
// hcloud v1.68.0 provider and the Hetzner API refuse it (or 'accepted'), and the source of that
// expectation. Each runs through Terraform with the stand-in: validate, then plan, then apply.
// Goal: 0 missed (accepted by the stand-in past the expected stage) and 0 wrongly rejected.

type Stage = 'validate' | 'plan' | 'apply' | 'accepted';
type Json = Record<string, any>;

interface Mutation {
  readonly name: string;
  readonly expected: Stage;
  /** Where the expectation comes from: provider source at v1.68.0 (file:line) or the API reference. */
  readonly source: string;
  readonly edit: (stack: Json) => void;
  /** A phrase the refusal must contain (the right reason, not just any failure). */
  readonly says?: RegExp;
  /** Terraform's environment, changed: a variable set, or unset (undefined). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const PROVIDER = 'hetznercloud/terraform-provider-hcloud v1.68.0';
const API = 'Hetzner Cloud API reference (docs.hetzner.cloud)';

/** The first example stack with a machine (server, primary IPs, firewall): phase1-pilot's, or the next example's. */
function synthesizeStack(): Json {
  const problems: string[] = [];
  for (const [example, define] of Object.entries(EXAMPLES)) {
    try {
      const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'differential-'));
      const app = new App({ outdir });
      define(app);
      app.synth();
      const stacksDir = path.join(outdir, 'stacks');
      for (const stack of fs.readdirSync(stacksDir).sort()) {
        const json = JSON.parse(fs.readFileSync(path.join(stacksDir, stack, 'cdk.tf.json'), 'utf8'));
        if (json.resource?.hcloud_server && json.resource?.hcloud_primary_ip && json.resource?.hcloud_firewall) return json;
      }
      problems.push(`${example}: no stack with a server, its primary IPs and its firewall`);
    } catch (e) {
      problems.push(`${example}: ${(e as Error).message}`);
    }
  }
  throw new Error(`no example yields a machine stack:\n${problems.join('\n')}`);
}

const base = synthesizeStack();

/** The first resource of a type in the stack. */
function first(stack: Json, type: string): Json {
  const all = stack.resource?.[type];
  if (!all) throw new Error(`the stack has no ${type}`);
  return all[Object.keys(all).sort()[0]];
}

function add(stack: Json, type: string, name: string, body: Json): void {
  stack.resource[type] ??= {};
  stack.resource[type][name] = body;
}

function providerBlock(stack: Json): Json {
  stack.provider ??= {};
  const blocks = stack.provider.hcloud;
  if (Array.isArray(blocks)) return blocks[0];
  stack.provider.hcloud = blocks ?? {};
  return stack.provider.hcloud;
}

function firstRule(stack: Json): Json {
  return first(stack, 'hcloud_firewall').rule[0];
}

const network = (ipRange: string) => ({ name: 'diff-net', ip_range: ipRange });
const subnet = (type: string, extra: Json = {}) => ({ network_id: '${hcloud_network.diff.id}', type, network_zone: 'eu-central', ip_range: '10.9.1.0/24', ...extra });
const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl diff@example';

const MUTATIONS: Mutation[] = [
  // ---- refused at validate: attribute validators, ConfigValidators, ValidateConfig, read-only attributes
  { name: 'server with the removed datacenter argument', expected: 'validate', source: `${PROVIDER} internal/server/resource.go:78`, says: /Removed Attribute/, edit: (s) => { first(s, 'hcloud_server').datacenter = 'fsn1-dc14'; } },
  { name: 'primary IP with the removed datacenter argument', expected: 'validate', source: `${PROVIDER} internal/primaryip/resource.go:106`, says: /Removed Attribute/, edit: (s) => { first(s, 'hcloud_primary_ip').datacenter = 'fsn1-dc14'; } },
  { name: 'firewall rule direction "inbound"', expected: 'validate', source: `${PROVIDER} internal/firewall/resource.go:79`, says: /inbound is not a valid direction/, edit: (s) => { firstRule(s).direction = 'inbound'; } },
  { name: 'firewall rule protocol "sctp"', expected: 'validate', source: `${PROVIDER} internal/firewall/resource.go:93`, says: /sctp is not a valid protocol/, edit: (s) => { firstRule(s).protocol = 'sctp'; } },
  { name: 'firewall CIDR with host bits set', expected: 'validate', source: `${PROVIDER} internal/firewall/validation.go:26`, says: /is not the start of the cidr block 10\.0\.0\.0\/8/, edit: (s) => { firstRule(s).source_ips = ['10.0.0.1/8']; firstRule(s).destination_ips = undefined; firstRule(s).direction = 'in'; } },
  { name: 'firewall address that is no address', expected: 'validate', source: `${PROVIDER} internal/firewall/validation.go:22`, says: /invalid CIDR address: not-an-ip/, edit: (s) => { firstRule(s).source_ips = ['not-an-ip']; firstRule(s).direction = 'in'; } },
  { name: 'server label key with a space', expected: 'validate', source: `${PROVIDER} internal/server/resource.go:159 (hcloud-go ValidateResourceLabels)`, says: /label key 'bad key' is not correctly formatted/, edit: (s) => { first(s, 'hcloud_server').labels = { 'bad key': 'x' }; } },
  { name: 'firewall label value ending in a hyphen', expected: 'validate', source: `${PROVIDER} internal/firewall/resource.go:38`, says: /label value 'x-' \(key: team\) is not correctly formatted/, edit: (s) => { first(s, 'hcloud_firewall').labels = { team: 'x-' }; } },
  { name: 'SSH key label value of 65 characters', expected: 'validate', source: `${PROVIDER} internal/util/resourceutil/labels.go:28`, says: /Invalid label/, edit: (s) => { add(s, 'hcloud_ssh_key', 'diff', { name: 'diff', public_key: ED25519, labels: { k: 'a'.repeat(65) } }); } },
  { name: 'network label key starting with a dot', expected: 'validate', source: `${PROVIDER} internal/network/resource.go:43`, says: /label key '\.x' is not correctly formatted/, edit: (s) => { add(s, 'hcloud_network', 'diff', { ...network('10.9.0.0/16'), labels: { '.x': 'y' } }); } },
  { name: 'storage box label key with a colon', expected: 'validate', source: `${PROVIDER} internal/storagebox/resource.go:113`, says: /Invalid label/, edit: (s) => { add(s, 'hcloud_storage_box', 'diff', { name: 'diff-box', storage_box_type: 'bx11', location: 'fsn1', password: 'Diff-Password-123456!', labels: { 'a:b': 'c' } }); } },
  { name: 'server with the computed ipv4_address set', expected: 'validate', source: 'terraform-plugin-sdk v2 helper/schema/schema.go schemaMap.validate ("Computed attributes cannot be set")', says: /Computed attributes cannot be set/, edit: (s) => { first(s, 'hcloud_server').ipv4_address = '203.0.113.9'; } },
  { name: 'primary IP with the read-only ip_address set', expected: 'validate', source: 'terraform-plugin-framework internal/fwschemadata (read-only attribute)', says: /Read-Only Attribute/, edit: (s) => { first(s, 'hcloud_primary_ip').ip_address = '203.0.113.9'; } },
  { name: 'network ip_range "not-a-cidr"', expected: 'validate', source: `${PROVIDER} internal/network/resource.go:41 (validation.IsCIDR)`, says: /invalid CIDR address: not-a-cidr/, edit: (s) => { add(s, 'hcloud_network', 'diff', network('not-a-cidr')); } },
  { name: 'server image ""', expected: 'validate', source: `${PROVIDER} internal/server/resource.go:59`, says: /must have more than 0 characters/, edit: (s) => { first(s, 'hcloud_server').image = ''; } },
  { name: 'server ssh_keys [""]', expected: 'validate', source: `${PROVIDER} internal/server/resource.go:105`, says: /Invalid ssh key passed/, edit: (s) => { first(s, 'hcloud_server').ssh_keys = ['']; } },
  { name: 'primary IP assignee_id without assignee_type', expected: 'validate', source: `${PROVIDER} internal/primaryip/resource.go:169`, says: /must be configured together: \[assignee_id,assignee_type\]/, edit: (s) => { const ip = first(s, 'hcloud_primary_ip'); delete ip.location; delete ip.assignee_type; ip.assignee_id = 5; } },
  { name: 'primary IP with both location and assignee_id', expected: 'validate', source: `${PROVIDER} internal/primaryip/resource.go:150 (ExactlyOneOf)`, says: /one \(and only one\) of \[location,assignee_id\]/, edit: (s) => { const ip = first(s, 'hcloud_primary_ip'); ip.assignee_id = 5; ip.assignee_type = 'server'; } },
  { name: 'primary IP with neither location nor assignee_id', expected: 'validate', source: `${PROVIDER} internal/primaryip/resource.go:150 (ExactlyOneOf)`, says: /No attribute specified/, edit: (s) => { delete first(s, 'hcloud_primary_ip').location; } },
  { name: 'subnet of type "public"', expected: 'validate', source: `${PROVIDER} internal/network/resource_subnet.go:44`, says: /expected type to be one of \["cloud" "server" "vswitch"\], got public/, edit: (s) => { add(s, 'hcloud_network', 'diff', network('10.9.0.0/16')); add(s, 'hcloud_network_subnet', 'diff', subnet('public')); } },
  { name: 'placement group of type "pack"', expected: 'validate', source: `${PROVIDER} internal/placementgroup/resource.go:53`, says: /pack is not a valid placement group type/, edit: (s) => { add(s, 'hcloud_placement_group', 'diff', { name: 'diff', type: 'pack' }); } },
  { name: 'provider poll_function "linear"', expected: 'validate', source: `${PROVIDER} hcloud/provider.go:69, hcloud/plugin_provider.go:89`, says: /poll_function/, edit: (s) => { providerBlock(s).poll_function = 'linear'; } },
  { name: 'HCLOUD_TOKEN of 10 characters, a provider block with poll_function only', expected: 'validate', source: `${PROVIDER} hcloud/provider.go:40-45 (EnvDefaultFunc's value validated as if configured)`, says: /must be exactly 64 characters long/, env: { HCLOUD_TOKEN: '0123456789' }, edit: (s) => { providerBlock(s).poll_function = 'constant'; } },
  { name: 'provider token ""', expected: 'validate', source: `${PROVIDER} hcloud/provider.go:42`, says: /must be exactly 64 characters long/, edit: (s) => { providerBlock(s).token = ''; } },
  { name: 'provider token of 10 characters', expected: 'validate', source: `${PROVIDER} hcloud/provider.go:42`, says: /must be exactly 64 characters long/, edit: (s) => { providerBlock(s).token = '0123456789'; } },
  { name: 'HCLOUD_TOKEN of 10 characters, the example\'s provider block (naming Hetzner\'s endpoints)', expected: 'validate', source: `${PROVIDER} hcloud/provider.go:40-45 (EnvDefaultFunc's value validated as if configured)`, says: /must be exactly 64 characters long/, env: { HCLOUD_TOKEN: '0123456789' }, edit: () => undefined },
  // ---- refused at plan
  // Terraform's validate skips a provider block without arguments (internal/terraform/node_provider.go, ValidateProvider);
  // plan calls ValidateProviderConfig before ConfigureProvider.
  { name: 'HCLOUD_TOKEN of 10 characters, an empty provider block', expected: 'plan', source: `terraform v1.11 node_provider.go; ${PROVIDER} hcloud/provider.go:40-45`, says: /must be exactly 64 characters long/, env: { HCLOUD_TOKEN: '0123456789' }, edit: (s) => { s.provider.hcloud = [{}]; } },
  { name: 'no token: none in the block, HCLOUD_TOKEN unset', expected: 'plan', source: `${PROVIDER} hcloud/plugin_provider.go:144-156 (Configure)`, says: /Missing Hetzner Cloud API token: While configuring the provider, the Hetzner Cloud API token was not found in the HCLOUD_TOKEN environment variable/, env: { HCLOUD_TOKEN: undefined }, edit: () => undefined },
  { name: 'no token: HCLOUD_TOKEN empty, none in the block', expected: 'plan', source: `${PROVIDER} hcloud/plugin_provider.go:144 (an empty variable is none); hcloud/provider.go:40 (EnvDefaultFunc: an empty variable is no default)`, says: /Missing Hetzner Cloud API token/, env: { HCLOUD_TOKEN: '' }, edit: () => undefined },
  { name: 'provider poll_interval "soon"', expected: 'plan', source: `${PROVIDER} hcloud/plugin_provider.go (Configure: time.ParseDuration)`, says: /Unparsable poll interval value/, edit: (s) => { providerBlock(s).poll_interval = 'soon'; } },
  { name: 'server network block with neither network_id nor subnet_id', expected: 'plan', source: `${PROVIDER} internal/server/resource.go:1483 (CustomizeDiff)`, says: /must specify either network_id or subnet_id/, edit: (s) => { first(s, 'hcloud_server').network = [{ ip: '10.9.1.5' }]; } },
  // ---- refused by the API at apply
  { name: 'user_data over 32 KiB', expected: 'apply', source: `${API}: POST /servers user_data (max 32 KiB)`, says: /user_data/, edit: (s) => { first(s, 'hcloud_server').user_data = `#cloud-config\n#${'x'.repeat(33 * 1024)}\n`; } },
  { name: 'server name that is not a hostname', expected: 'apply', source: `${API}: POST /servers name (valid hostname, RFC 1123)`, says: /name must be a valid hostname/, edit: (s) => { first(s, 'hcloud_server').name = 'web_1'; } },
  { name: 'network outside RFC 1918', expected: 'apply', source: `${API}: POST /networks ip_range (RFC 1918)`, says: /RFC 1918/, edit: (s) => { add(s, 'hcloud_network', 'diff', network('8.8.8.0/24')); } },
  { name: 'storage box type "bx99"', expected: 'apply', source: `${API}: storage_box_types`, says: /storage box type bx99 not found/, edit: (s) => { add(s, 'hcloud_storage_box', 'diff', { name: 'diff-box', storage_box_type: 'bx99', location: 'fsn1', password: 'Diff-Password-123456!' }); } },
  { name: 'malformed SSH public key', expected: 'apply', source: `${API}: POST /ssh_keys public_key`, says: /invalid public key/, edit: (s) => { add(s, 'hcloud_ssh_key', 'diff', { name: 'diff', public_key: 'ssh-ed25519 AAAA diff@example' }); } },
  { name: 'icmp firewall rule with a port', expected: 'apply', source: `${API}: POST /firewalls rules[].port (TCP and UDP only)`, says: /port is not allowed for protocol icmp/, edit: (s) => { first(s, 'hcloud_firewall').rule.push({ direction: 'in', protocol: 'icmp', port: '22', source_ips: ['0.0.0.0/0'] }); } },
  { name: 'tcp firewall rule without a port', expected: 'apply', source: `${API}: POST /firewalls rules[].port (required for TCP and UDP)`, says: /port is required for protocol tcp/, edit: (s) => { first(s, 'hcloud_firewall').rule.push({ direction: 'in', protocol: 'tcp', source_ips: ['0.0.0.0/0'] }); } },
  { name: 'delete protection without rebuild protection', expected: 'apply', source: `${API}: POST /servers/{id}/actions/change_protection (delete and rebuild must match)`, says: /same value/, edit: (s) => { const srv = first(s, 'hcloud_server'); srv.delete_protection = true; srv.rebuild_protection = false; } },
  { name: 'vswitch subnet without vswitch_id', expected: 'apply', source: `${API}: POST /networks/{id}/actions/add_subnet vswitch_id`, says: /vswitch_id is required/, edit: (s) => { add(s, 'hcloud_network', 'diff', network('10.9.0.0/16')); add(s, 'hcloud_network_subnet', 'diff', subnet('vswitch')); } },
  // ---- accepted by the provider and the API
  { name: 'the unchanged stack', expected: 'accepted', source: 'the example as synthesized', edit: () => undefined },
  { name: 'firewall with a bare address (normalized to /32)', expected: 'accepted', source: `${PROVIDER} internal/firewall/validation.go:33 (normalizeIP)`, edit: (s) => { first(s, 'hcloud_firewall').rule.push({ direction: 'in', protocol: 'tcp', port: '443', source_ips: ['203.0.113.7', '2001:db8::/32'] }); } },
  { name: 'labels with a prefixed key and an empty value', expected: 'accepted', source: 'hcloud-go ValidateResourceLabels', edit: (s) => { first(s, 'hcloud_server').labels = { 'example.com/team': 'ml', empty: '' }; } },
  { name: 'a private network with a cloud subnet', expected: 'accepted', source: `${API}: POST /networks`, edit: (s) => { add(s, 'hcloud_network', 'diff', network('10.9.0.0/16')); add(s, 'hcloud_network_subnet', 'diff', subnet('cloud')); } },
  { name: 'an icmp rule without a port', expected: 'accepted', source: `${API}: POST /firewalls`, edit: (s) => { first(s, 'hcloud_firewall').rule.push({ direction: 'in', protocol: 'icmp', source_ips: ['0.0.0.0/0', '::/0'] }); } },
  { name: 'token in the provider block, HCLOUD_TOKEN unset', expected: 'accepted', source: `${PROVIDER} hcloud/plugin_provider.go:145`, env: { HCLOUD_TOKEN: undefined }, edit: (s) => { providerBlock(s).token = 'a'.repeat(64); } },
  { name: 'provider poll_function "constant" and poll_interval "2s"', expected: 'accepted', source: `${PROVIDER} hcloud/provider.go:69`, edit: (s) => { Object.assign(providerBlock(s), { poll_function: 'constant', poll_interval: '2s' }); } },
  { name: 'a valid SSH key and a storage box bx11 in hel1', expected: 'accepted', source: `${API}: POST /ssh_keys, POST /storage_boxes`, edit: (s) => { add(s, 'hcloud_ssh_key', 'diff', { name: 'diff', public_key: ED25519 }); add(s, 'hcloud_storage_box', 'diff', { name: 'diff-box', storage_box_type: 'bx11', location: 'hel1', password: 'Diff-Password-123456!' }); } },
  { name: 'both protections on', expected: 'accepted', source: `${API}: change_protection`, edit: (s) => { const srv = first(s, 'hcloud_server'); srv.delete_protection = true; srv.rebuild_protection = true; delete srv.lifecycle; } },
];

const standIn = new HetznerStandIn({ reattach: true });
const results: Array<{ name: string; expected: Stage; got: Stage }> = [];

afterAll(() => {
  const missed = results.filter((r) => order(r.got) > order(r.expected)).length;
  const wrong = results.filter((r) => order(r.got) < order(r.expected)).length;
  process.stdout.write(`differential suite: ${results.length} configurations, ${missed} missed, ${wrong} wrongly rejected\n`);
  standIn.stop(true);
});

function order(s: Stage): number {
  return ['validate', 'plan', 'apply', 'accepted'].indexOf(s);
}

/** A workspace whose Terraform runs with `changes` made to the stand-in's environment. */
function workspaceWithEnvironment(stack: Json, changes: NonNullable<Mutation['env']>): StandInWorkspace {
  const dir = fs.mkdtempSync(path.join(standIn.dir, 'env-'));
  const terraform = {
    initTemplatesDir: standIn.initTemplatesDir,
    env: (cloudFile: string) => {
      const env = standIn.env(cloudFile);
      for (const [name, value] of Object.entries(changes)) {
        if (value === undefined) delete env[name];
        else env[name] = value;
      }
      return env;
    },
  };
  return new StandInWorkspace(terraform, dir, path.join(dir, 'hcloud-standin.cloud.json')).setConfiguration(stack);
}

/** Runs validate, plan and apply, and says where Terraform stopped, with the errors there. */
function stageOf(stack: Json, env: Mutation['env']): { stage: Stage; errors: string } {
  const ws = env ? workspaceWithEnvironment(stack, env) : standIn.workspace(stack);
  const text = (ds: ReadonlyArray<{ severity: string; summary: string; detail: string }>) => ds.filter((d) => d.severity === 'error').map((d) => `${d.summary}: ${d.detail}`).join('\n');
  const validate = ws.validate();
  if (!validate.ok) return { stage: 'validate', errors: text(validate.diagnostics) || validate.stderr };
  // The plan is saved and applied as it is (what CI does), rather than planned a second time by apply.
  const plan = ws.terraformRun(['plan', '-input=false', '-no-color', '-json', '-out=tfplan']);
  if (!plan.ok) return { stage: 'plan', errors: text(plan.diagnostics) || plan.stderr };
  const apply = ws.terraformRun(['apply', '-input=false', '-no-color', '-json', 'tfplan']);
  if (!apply.ok) return { stage: 'apply', errors: text(apply.diagnostics) || apply.stderr };
  return { stage: 'accepted', errors: '' };
}

describe('differential suite: example mutations against hcloud v1.68.0 and the Hetzner API', () => {
  test.each(MUTATIONS.map((m) => [`${m.name} -> ${m.expected}`, m] as const))('%s', (_title, m) => {
    const stack = JSON.parse(JSON.stringify(base));
    m.edit(stack);
    const { stage, errors } = stageOf(stack, m.env);
    results.push({ name: m.name, expected: m.expected, got: stage });
    expect({ stage, source: m.source }).toEqual({ stage: m.expected, source: m.source });
    if (m.says) expect(errors).toMatch(m.says);
  }, 180_000);
});

describe('warnings through protocol diagnostics', () => {
  test('the library\'s primary IPs draw no "Unused Attribute" warning; assignee_type alone does', () => {
    const clean = standIn.workspace(JSON.parse(JSON.stringify(base))).validate();
    expect(clean.ok).toBe(true);
    expect(clean.diagnostics.filter((d) => d.severity === 'warning').map((d) => d.summary)).not.toContain('Unused Attribute');

    const stack = JSON.parse(JSON.stringify(base));
    first(stack, 'hcloud_primary_ip').assignee_type = 'server';
    const run = standIn.workspace(stack).validate();
    expect(run.ok).toBe(true);
    expect(run.diagnostics.filter((d) => d.severity === 'warning').map((d) => d.summary)).toContain('Unused Attribute');
  }, 120_000);

  test('a deprecated argument draws the provider\'s deprecation warning', () => {
    const stack = JSON.parse(JSON.stringify(base));
    first(stack, 'hcloud_server').allow_deprecated_images = true;
    const run = standIn.workspace(stack).validate();
    expect(run.ok).toBe(true);
    expect(run.diagnostics.filter((d) => d.severity === 'warning').map((d) => `${d.summary}: ${d.detail}`))
      .toContain('Argument is deprecated: Unused attribute, consider removing it from your configuration.');
  }, 120_000);
});
