import * as fs from 'fs';
import * as path from 'path';
import { phase1Pilot } from '../../examples/phase1-pilot';
import { synthesizedBundle } from '../../testing/bundle';
import { allStrings, resources, synthExample } from './synth-examples';

const { outdir, stacks } = synthExample(phase1Pilot);
const test_ = stacks['phase1-pilot-test'];
const staging = stacks['phase1-pilot-staging'];
const production = stacks['phase1-pilot-production'];

describe('example phase1-pilot', () => {
  test('has test, on-demand staging and production stacks, each with its own state in EU Object Storage, locked', () => {
    expect(Object.keys(stacks)).toEqual(['phase1-pilot-production', 'phase1-pilot-staging', 'phase1-pilot-test']);
    const keys = new Set<string>();
    for (const stack of [test_, staging, production]) {
      const s3 = stack.terraform.backend.s3;
      expect(s3.endpoints.s3).toMatch(/^https:\/\/(fsn1|nbg1|hel1)\.your-objectstorage\.com$/);
      expect(s3.use_lockfile).toBe(true);
      expect(stack.terraform.required_version).toBe('>= 1.10');
      keys.add(s3.key);
    }
    expect(keys.size).toBe(3);
  });

  test('sizes machines by the Phase 1 preset: small test, modest production, staging like production', () => {
    expect(resources(test_, 'hcloud_server')[0].server_type).toBe('cx23');
    expect(resources(production, 'hcloud_server')[0].server_type).toBe('cx33');
    expect(resources(staging, 'hcloud_server')[0].server_type).toBe('cx33');
  });

  test('staging is on demand: labelled with its purpose and expiry, unprotected, built from the snapshot variable', () => {
    const [server] = resources(staging, 'hcloud_server');
    expect(server.labels).toMatchObject({ environment: 'staging', lifecycle: 'on-demand', purpose: 'release-rehearsal', 'expires-at': '2026-12-31' });
    expect(server.delete_protection).toBe(false);
    expect(server.image).toBe('${var.staging_image}');
  });

  // The provider reads HCLOUD_ENDPOINT and HCLOUD_HETZNER_ENDPOINT only when its block names no endpoint
  // (terraform-provider-hcloud's Configure), so a variable left in a shell or in CI would have received the token.
  test("pins the hcloud provider to ~> 1.68, names Hetzner's APIs as its endpoints and configures no token", () => {
    for (const stack of [test_, staging, production]) {
      expect(stack.terraform.required_providers.hcloud).toEqual({ source: 'hetznercloud/hcloud', version: '~> 1.68' });
      // No token: it comes from HCLOUD_TOKEN.
      expect(stack.provider.hcloud).toEqual([{ endpoint: 'https://api.hetzner.cloud/v1', endpoint_hetzner: 'https://api.hetzner.com/v1', poll_interval: '1000ms' }]);
    }
  });

  test('the production server is protected against loss', () => {
    const [server] = resources(production, 'hcloud_server');
    expect(server).toMatchObject({ delete_protection: true, rebuild_protection: true, backups: true, keep_disk: true });
    expect(server.lifecycle.prevent_destroy).toBe(true);
    expect(server.lifecycle.ignore_changes).toEqual(expect.arrayContaining(['user_data', 'image']));
    for (const ip of resources(production, 'hcloud_primary_ip')) expect(ip.delete_protection).toBe(true);
    expect(resources(production, 'hcloud_network')[0].delete_protection).toBe(true);
  });

  test('the test server stays cheap to rebuild, and a key or first-boot edit does not replace it (nor its test database)', () => {
    const [server] = resources(test_, 'hcloud_server');
    expect(server.delete_protection).toBe(false);
    expect(server.lifecycle).toEqual({ ignore_changes: ['user_data', 'ssh_keys'], replace_triggered_by: [expect.stringMatching(/^terraform_data\.App_Architecture_/)] });
  });

  test('every server and IP is in an EU location, every resource is labelled', () => {
    for (const stack of [test_, staging, production]) {
      for (const type of ['hcloud_server', 'hcloud_primary_ip']) {
        for (const r of resources(stack, type)) expect(['fsn1', 'nbg1', 'hel1']).toContain(r.location);
      }
      for (const type of ['hcloud_server', 'hcloud_firewall', 'hcloud_primary_ip', 'hcloud_network']) {
        for (const r of resources(stack, type)) expect(r.labels).toMatchObject({ 'managed-by': 'cdktf-sovereign-hetzner', environment: expect.any(String), role: expect.any(String) });
      }
    }
  });

  test('SSH is open only to the admin networks; the web ports are public', () => {
    for (const stack of [test_, staging, production]) {
      const [firewall] = resources(stack, 'hcloud_firewall');
      const ssh = firewall.rule.filter((r: any) => r.direction === 'in' && r.port === '22');
      expect(ssh).toHaveLength(1);
      expect(ssh[0].source_ips).toEqual(['203.0.113.0/24', '2001:db8::/32']);
      expect(firewall.rule.filter((r: any) => r.direction === 'in').map((r: any) => r.port).sort()).toEqual(['22', '443', '80']);
    }
  });

  test('the synthesized output contains no absolute paths of the machine that synthesized it', () => {
    // The one path under /root is on the server: where the rollout's steps run from (root's home there).
    const onTheServer = new Set(['/root/.sovereign-rollout-step.sh']);
    for (const stack of [test_, staging, production]) {
      const strings = allStrings(stack).filter((s) => !onTheServer.has(s));
      expect(strings.filter((s) => s.includes(outdir) || s.includes(process.cwd()) || /^\/(home|root|tmp|work|Users)\//.test(s))).toEqual([]);
    }
  });

  test('publishes the postponed list: everything Phase 1 requires is provided, the rest postponed with thresholds', () => {
    const postponed = JSON.parse(fs.readFileSync(path.join(outdir, 'products', 'phase1-pilot', 'postponed.json'), 'utf8'));
    expect(postponed.postponed.map((e: any) => e.component)).toEqual(expect.arrayContaining(['kubernetes', 'redis', 'permanent-staging', 'monitoring-machine', 'embeddings-server', 'gpu-box', 'split-app-db']));
    expect(postponed.required.map((r: any) => [r.component, r.provided])).toEqual([['remote-backup', true], ['external-uptime-checks', true], ['error-monitoring', true]]);
    expect(fs.readFileSync(path.join(outdir, 'products', 'phase1-pilot', 'postponed.md'), 'utf8')).toMatchSnapshot();
  });

  test('app machines hold tenant data, so their egress is locked down to what they need', () => {
    for (const stack of [test_, staging, production]) {
      const [firewall] = resources(stack, 'hcloud_firewall');
      const out = firewall.rule.filter((r: any) => r.direction === 'out').map((r: any) => `${r.protocol}/${r.port}`);
      expect(out).toEqual(['udp/53', 'tcp/53', 'udp/123', 'tcp/80', 'tcp/443', 'tcp/23']);
      const [server] = resources(stack, 'hcloud_server');
      const file = synthesizedBundle(stack, server.name).files.get('/etc/sovereign/egress-hostnames')!;
      const hosts = file.content ?? file.template;
      expect(hosts).toContain('api.mistral.ai');
      expect(hosts).toContain('api.jina.ai');
    }
  });

  test('publishes the data boundary, with the 90-day checklist evaluated', () => {
    const doc = fs.readFileSync(path.join(outdir, 'products', 'phase1-pilot', 'boundary.md'), 'utf8');
    expect(doc).toMatch(/Declared role: \*\*deployer\*\*/);
    expect(doc).toMatch(/\| sensitive \| nobody: never leaves the EU control plane \| never \|/);
    expect(doc).toMatch(/\| pseudonymized \| Mistral AI \(Paris, FR\), GlitchTip \(self-hosted\) \(Berlin, DE\) \| pseudonymized \|/);
    expect(doc).toMatch(/\| yes \| Your core app and tenant data stay inside a European control plane \|/);
    expect(doc).toMatchSnapshot();
  });

  test.each(['phase1-pilot-test', 'phase1-pilot-staging', 'phase1-pilot-production'])('%s matches its snapshot', (name) => {
    expect(stacks[name]).toMatchSnapshot();
  });
});

describe('example phase1-pilot backups', () => {
  test('production is backed up to a Storage Box in another location, protected, with its secrets as sensitive variables', () => {
    const [box] = resources(production, 'hcloud_storage_box');
    expect(box).toMatchObject({ location: 'hel1', delete_protection: true, access_settings: expect.objectContaining({ ssh_enabled: true, reachable_externally: false }) });
    expect(box.lifecycle.prevent_destroy).toBe(true);
    expect(box.password).toBe('${var.storage_box_password}');
    expect(resources(production, 'hcloud_server')[0].location).not.toBe(box.location);
    for (const name of ['storage_box_password', 'restic_password', 'backup_heartbeat_url']) {
      expect(production.variable[name]).toMatchObject({ sensitive: true });
      expect(production.variable[name].default).toBeUndefined();
    }
    expect(resources(production, 'hcloud_storage_box_subaccount').map((s: any) => s.access_settings?.readonly ?? false).sort()).toEqual([false, true]);
  });

  test('the production machine runs the dump, push, prune and check jobs; the test machine runs the weekly drill', () => {
    const units = (stack: any) => [...synthesizedBundle(stack, resources(stack, 'hcloud_server')[0].name).files.keys()]
      .filter((p) => p.startsWith('/etc/systemd/system/') && p.endsWith('.timer')).sort();
    expect(units(production)).toEqual(['/etc/systemd/system/backup-check.timer', '/etc/systemd/system/backup-prune.timer',
      '/etc/systemd/system/backup-push.timer', '/etc/systemd/system/sovereign-egress-check.timer', '/etc/systemd/system/sovereign-egress-refresh.timer',
      '/etc/systemd/system/sovereign-metadata-guard-check.timer', '/etc/systemd/system/sovereign-private-ingress-check.timer']);
    expect(units(test_)).toEqual(['/etc/systemd/system/restore-drill.timer', '/etc/systemd/system/sovereign-egress-check.timer',
      '/etc/systemd/system/sovereign-egress-refresh.timer', '/etc/systemd/system/sovereign-metadata-guard-check.timer',
      '/etc/systemd/system/sovereign-private-ingress-check.timer']);
    // The user data carries none of it: only the bootstrap.
    for (const stack of [production, test_]) expect(resources(stack, 'hcloud_server')[0].user_data).not.toMatch(/backup|restore-drill|sovereign-monitoring/);
  });

  test("the machines' files name the library's docs where the reader finds them, never a bare docs/ path", () => {
    // Audit: the refusals of the dump, the file backup and the PostgreSQL setup said "docs/backup.md" and "docs/database.md",
    // which names nothing on the server (no docs/ there) nor in the team's IaC repo (its docs/ is its own).
    const named: string[] = [];
    const bare: string[] = [];
    for (const stack of [production, test_]) {
      for (const file of synthesizedBundle(stack, resources(stack, 'hcloud_server')[0].name).files.values()) {
        for (const match of String(file.content ?? '').matchAll(/docs\/[a-z0-9-]+\.md/g)) {
          const after = String(file.content).slice(match.index! + match[0].length);
          const ok = String(file.content).slice(0, match.index).endsWith('node_modules/cdktf-sovereign-hetzner/')
            || after.startsWith(` of cdktf-sovereign-hetzner (node_modules/cdktf-sovereign-hetzner/${match[0]} in your IaC repo, or cdktn-sovereign-hetzner under CDK Terrain)`)
            || /^, section [A-Za-z ]+, of cdktf-sovereign-hetzner \(node_modules\/cdktf-sovereign-hetzner\//.test(after);
          (ok ? named : bare).push(`${file.path}: ${match[0]}${after.slice(0, 40)}`);
        }
      }
    }
    expect(bare).toEqual([]);
    expect(named.some((n) => n.includes('backup-dump') && n.includes('docs/backup.md, section Restoring by hand'))).toBe(true);
    expect(named.some((n) => n.includes('postgres-setup') && n.includes('docs/database.md, section Changing the PostgreSQL major'))).toBe(true);
  });

  test('the release path snapshots production first', () => {
    const environments = JSON.parse(fs.readFileSync(path.join(outdir, 'products', 'phase1-pilot', 'environments.json'), 'utf8'));
    expect(environments.environments.find((e: any) => e.environment === 'production').preReleaseSnapshot).toBe(true);
  });
});
