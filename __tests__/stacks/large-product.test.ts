import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { Machine } from '../../lib';
import { firstLabelProblem } from '../../lib/core/labels';
import { USER_DATA_LIMIT_BYTES } from '../../lib/hetzner/cloud-init';
import { LARGE_PRODUCT, LARGE_PRODUCT_NAME, largeProductProcessors, largeProductStacks, TOKEN_LIKE_RUN } from '../setup/large-product';

// Audit (scale): a successful team's product, near the top of what the operating model allows (Phase 3, the longest
// product name, twenty admins per environment, 150 admin networks, twenty EU processors and forty flows, fifteen alert
// receivers, twenty uptime checks; __tests__/setup/large-product.ts), synthesizes with every check on and stays inside
// Hetzner's documented limits, and its published boundary names everything it declares, in a stable order. Before this
// audit it failed synth twice over: an admin key whose base64 reads like an API token (Boundary-NoPlaintextSecret), and
// 150 admin networks in one SSH rule (Hetzner takes 100 blocks a rule; that one failed only at apply).

const synthesized = (() => {
  let cached: { outdir: string; stacks: ReturnType<typeof largeProductStacks> } | undefined;
  return () => {
    if (!cached) {
      const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'large-product-')) });
      const stacks = largeProductStacks(app);
      app.synth();
      cached = { outdir: app.outdir, stacks };
    }
    return cached;
  };
})();

function stackJson(name: string): any {
  return JSON.parse(fs.readFileSync(path.join(synthesized().outdir, 'stacks', name, 'cdk.tf.json'), 'utf8'));
}

const boundaryDocument = (outdir: string) => fs.readFileSync(path.join(outdir, 'products', LARGE_PRODUCT_NAME, 'boundary.md'), 'utf8');

describe('a product near the top of the operating model', () => {
  test('synthesizes test, staging and production with every validation on', () => {
    expect(synthesized().stacks.all.map((s) => s.node.id)).toEqual(['test', 'staging', 'production'].map((e) => `${LARGE_PRODUCT_NAME}-${e}`));
  });

  test('every machine boots with user data far inside 32 KiB; its tooling, larger than the limit, travels in the bundle', () => {
    const machines = synthesized().stacks.all.flatMap((s) => s.node.findAll().filter(Machine.isMachine));
    expect(machines.map((m) => m.serverName)).toEqual(['test-app', 'staging-app', 'production-app', 'production-monitoring'].map((m) => `${LARGE_PRODUCT_NAME}-${m}`));
    for (const machine of machines) {
      expect([machine.serverName, machine.userDataSize()!.bytes < USER_DATA_LIMIT_BYTES / 8]).toEqual([machine.serverName, true]);
      expect([machine.serverName, machine.rollout!.bundle.bytes > USER_DATA_LIMIT_BYTES]).toEqual([machine.serverName, true]);
    }
  });

  test('stays inside Hetzner\'s limits: server names, labels, rules per firewall, blocks per rule, firewalls per server', () => {
    for (const stack of synthesized().stacks.all) {
      const json = stackJson(stack.node.id);
      for (const server of Object.values<any>(json.resource.hcloud_server)) {
        expect(server.name).toMatch(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/);
        expect(server.firewall_ids.length).toBeLessThanOrEqual(5);
      }
      for (const [type, resources] of Object.entries<Record<string, any>>(json.resource)) {
        for (const resource of Object.values<any>(resources)) {
          if (resource.labels) expect([type, resource.name, firstLabelProblem(resource.labels)]).toEqual([type, resource.name, undefined]);
        }
      }
      for (const firewall of Object.values<any>(json.resource.hcloud_firewall)) {
        expect(firewall.rule.length).toBeLessThanOrEqual(500);
        for (const rule of firewall.rule) expect((rule.source_ips ?? rule.destination_ips).length).toBeLessThanOrEqual(100);
        const ssh = firewall.rule.filter((r: any) => r.direction === 'in' && r.port === '22');
        expect(ssh.flatMap((r: any) => r.source_ips)).toHaveLength(LARGE_PRODUCT.adminNetworks);
      }
    }
  });

  test('root\'s authorized_keys on each machine holds exactly its environment\'s keys, the token-like ones included', () => {
    const { stacks } = synthesized();
    for (const [stack, prefix] of [[stacks.test, 'test'], [stacks.staging!, 'production'], [stacks.production, 'production']] as const) {
      const keys = stack.app.bundle.files().get('/root/.ssh/authorized_keys')!.content.split('\n').filter((l) => l.startsWith('ssh-'));
      expect(keys).toHaveLength(LARGE_PRODUCT.keysPerEnvironment);
      expect(keys.filter((k) => TOKEN_LIKE_RUN.test(k.split(' ')[1]))).toHaveLength(1);
      expect(keys.every((k) => k.endsWith(`@sovereign-analytics.example.eu`) && k.includes(` ${prefix}-admin-`))).toBe(true);
    }
  });

  test('the published boundary names every processor and flow, in the order declared, and a second synth writes the same bytes', () => {
    const document = boundaryDocument(synthesized().outdir);
    const processors = largeProductProcessors();
    const table = document.slice(document.indexOf('## Processors'), document.indexOf('## Declared data flows'));
    const listed = table.split('\n').filter((l) => l.startsWith('| European Model Provider')).map((l) => l.split(' | ')[0].slice(2));
    expect(listed).toEqual(processors.map((p) => p.name));
    for (const p of processors) for (const host of p.hostnames) expect(table).toContain(host);
    const flows = document.slice(document.indexOf('## Declared data flows'), document.indexOf('## Where machines'));
    // Each environment's app machine declares the product's flows: forty a stack, three stacks.
    expect(flows.split('\n').filter((l) => / \| European Model Provider /.test(l))).toHaveLength(2 * LARGE_PRODUCT.processors * 3);
    expect(document).not.toMatch(/…|\.\.\.|and \d+ more/);

    const again = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'large-product-')) });
    largeProductStacks(again);
    again.synth();
    expect(boundaryDocument(again.outdir)).toBe(document);
  });
});
