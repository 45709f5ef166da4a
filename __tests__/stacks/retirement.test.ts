import { TerraformStack, Testing } from 'cdktf';
import {
  AlertReceiver, DeadMansSwitch, Environment, Machine, MonitoringPlan, Phase, Product, ProductProps, RestoreCheck, Retirement, ServerType, UptimeCheck,
} from '../../lib';
import { HetznerStandIn } from '../../testing';
import { ProductStacks } from '../../stacks';
import { policy } from '../boundary/fixtures';
import { warningsOf } from '../setup/stack';

// Retiring a protected environment, in two deliberate steps: a deploy that turns the protections off
// (and deletes nothing), then `destroy`. Without the first step, destroy is refused.

const admin = { sshPublicKeys: { ops: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu' }, cidrs: ['198.51.100.0/24'] };
const backup = { restoreChecks: [RestoreCheck.sql('users-present', { database: 'app', query: 'SELECT count(*) > 0 FROM users' })] };
const monitoring = new MonitoringPlan({
  uptimeChecks: [UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health')],
  receivers: [AlertReceiver.webhook('ops', { hostname: 'chat.acme.eu' })],
  deadMansSwitch: DeadMansSwitch.healthchecksIo(),
});
const product = (overrides: Partial<ProductProps> = {}) => new Product({ name: 'acme', phase: Phase.ONE, admin, stateBucket: 'acme-state', boundary: policy, backup, monitoring, ...overrides });
const REASON = 'Product discontinued; customers moved to acme-v2 on 2026-12-01';
const resources = (json: any, type: string): any[] => Object.values(json.resource?.[type] ?? {});

function production(retire?: { includeBackups?: boolean }) {
  const stacks = new ProductStacks(Testing.app(), product(), retire ? { retire: { environment: Environment.PRODUCTION, reason: REASON, ...retire } } : {});
  return stacks.production;
}

describe('retiring an environment', () => {
  test('lifts delete protection and prevent_destroy on the server, its addresses and network; keeps ignore_changes and the backups\' protection', () => {
    const json = JSON.parse(Testing.synth(production({}), true));
    const [server] = resources(json, 'hcloud_server');
    expect(server).toMatchObject({ delete_protection: false, rebuild_protection: false, shutdown_before_deletion: true, backups: true });
    expect(server.lifecycle).toEqual({ prevent_destroy: false, ignore_changes: ['user_data', 'image', 'ssh_keys'], replace_triggered_by: [expect.stringMatching(/^terraform_data\.App_Architecture_/)] });
    for (const ip of resources(json, 'hcloud_primary_ip')) expect([ip.delete_protection, ip.lifecycle?.prevent_destroy]).toEqual([false, undefined]);
    expect(resources(json, 'hcloud_network')[0]).toMatchObject({ delete_protection: false });
    const [box] = resources(json, 'hcloud_storage_box');
    expect([box.delete_protection, box.lifecycle.prevent_destroy]).toEqual([true, true]);
    for (const account of resources(json, 'hcloud_storage_box_subaccount')) expect(account.lifecycle).toEqual({ prevent_destroy: true });
  });

  test('warns with the reason and the next step', () => {
    const stack = production({});
    Testing.synth(stack, true);
    expect(warningsOf(stack)).toContainEqual(expect.stringMatching(/^Environment-Retiring: acme-production is retiring \(Product discontinued.*\): .*the backups' Storage Box stays protected\. Hetzner's daily server backups are deleted with the servers: snapshot each server first \(cdktf-sovereign-hetzner snapshot --server <name>\) to keep an image\. Next: deploy this \(protections off\), then cdktf destroy/));
  });

  test('with includeBackups, the Storage Box loses its protection too', () => {
    const [box] = resources(JSON.parse(Testing.synth(production({ includeBackups: true }), true)), 'hcloud_storage_box');
    expect([box.delete_protection, box.lifecycle.prevent_destroy]).toEqual([false, undefined]);
    for (const account of resources(JSON.parse(Testing.synth(production({ includeBackups: true }), true)), 'hcloud_storage_box_subaccount')) {
      expect(account.lifecycle).toBeUndefined();
    }
  });

  test('fails when the reason is missing or says nothing', () => {
    expect(() => new ProductStacks(Testing.app(), product(), { retire: { environment: Environment.PRODUCTION, reason: 'done' } }))
      .toThrow(/acme-production\.retire\.reason: 'done' is not allowed: retiring lifts the protections .* Fix: say why in a sentence/);
    expect(() => new ProductStacks(Testing.app(), product(), { retire: { environment: Environment.PRODUCTION } as any }))
      .toThrow(/acme-production\.retire\.reason: undefined is not allowed/);
  });

  test('fails when declared on a stack that already has resources', () => {
    const stack = production();
    expect(() => Retirement.declare(stack, { reason: REASON })).toThrow(/acme-production\.retire: .* is not allowed: the stack already has resources, which were created protected\. Fix: declare the retirement first/);
  });

  test('fails when declared on the App or any scope above a stack: it would lift every production\'s protections', () => {
    const app = Testing.app();
    expect(() => Retirement.declare(app, { reason: REASON })).toThrow(/retire: .* is not allowed: a retirement is declared on one environment's stack, and this is not a stack/);
    // Nothing below it was declared retiring: a product built afterwards keeps its protections.
    const stacks = new ProductStacks(app, product());
    const server = Object.values<any>(JSON.parse(Testing.synth(stacks.production)).resource.hcloud_server)[0];
    expect([server.delete_protection, server.lifecycle.prevent_destroy]).toEqual([true, true]);
  });

  // Audit (plain JavaScript and JSON callers): the retirement lived in node context, which also comes from outside the
  // code. A value under its key in cdktf.json's "context" (or CDKTF_CONTEXT_JSON) turned production's delete protection
  // and prevent_destroy off in every stack of the app: no reason checked, no Environment-Retiring warning.
  test.each([
    ['the App\'s context (cdktf.json, CDKTF_CONTEXT_JSON)', () => new ProductStacks(Testing.app({ context: { 'cdktf-sovereign-hetzner:retiring': { reason: 'x', includeBackups: true } } }), product())],
    ['node.setContext on the stack', () => {
      const app = Testing.app();
      const stack = new TerraformStack(app, 'acme-production');
      stack.node.setContext('cdktf-sovereign-hetzner:retiring', { reason: REASON, includeBackups: false });
      return new Machine(stack, 'App', { environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33 });
    }],
  ])('a retirement set through %s, not declared, is refused: production keeps its protections', (_name, build) => {
    expect(() => build()).toThrow(/^acme-production(\/App)?\.retire: .* is not allowed: a retirement lifts production's delete protection and prevent_destroy, and this one was not declared: it came from the app's context .*Fix: remove the context key 'cdktf-sovereign-hetzner:retiring', and retire the environment with its stack's retire prop/);
  });

  test('the declared retirement still reads as its reason and backups flag', () => {
    expect(Retirement.of(production({}))).toEqual({ reason: REASON, includeBackups: false });
  });

  test('through Terraform: destroy is refused, the retiring deploy only turns protections off, then destroy goes through', () => {
    const standIn = new HetznerStandIn();
    try {
      const ws = standIn.workspace(production());
      expect(ws.apply().ok).toBe(true);
      const refused = ws.destroy();
      expect(refused.ok).toBe(false);
      expect(refused.stdout + refused.stderr).toMatch(/prevent_destroy/);

      ws.setConfiguration(JSON.parse(Testing.synth(production({ includeBackups: true }), true)));
      const step1 = ws.plan().changes!;
      expect(step1.deletes).toEqual([]);
      expect(step1.replacements).toEqual([]);
      expect(step1.updates.map((c) => c.type).sort()).toEqual(expect.arrayContaining(['hcloud_network', 'hcloud_primary_ip', 'hcloud_server', 'hcloud_storage_box']));
      for (const c of step1.updates.filter((u) => 'delete_protection' in u.after)) expect(c.after.delete_protection).toBe(false);
      expect(ws.apply().ok).toBe(true);

      const step2 = ws.destroy();
      expect(step2.stdout + step2.stderr).not.toMatch(/"@level":"error"/);
      expect(step2.ok).toBe(true);
      expect(Object.values(ws.cloud().objects).every((objects) => Object.keys(objects ?? {}).length === 0)).toBe(true);
    } finally {
      standIn.stop(true);
    }
  }, 240_000);
});
