import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Aspects, TerraformStack, Testing } from 'cdktf';
import { IConstruct } from 'constructs';
import { FloatingIp } from '../../generated/providers/hcloud/floating-ip';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import { Server } from '../../generated/providers/hcloud/server';
import { SshKey as SshKeyResource } from '../../generated/providers/hcloud/ssh-key';
import { Volume } from '../../generated/providers/hcloud/volume';
import { Environment, Phase, Product, SshKey, StagingMode } from '../../lib';
import { PACKAGE_NAME } from '../../lib/core/private/package-name';
import { REAPED_COLLECTIONS } from '../../lib/environments/staging-reaper';
import { EnvironmentStack, ProductStacks } from '../../stacks';
import { OnDemandLabels } from '../../stacks/on-demand-labels';
import { policy } from '../boundary/fixtures';
import { admin, backup, monitoring } from '../setup/product-basics';
import { thrownMessage, withHcl } from '../setup/stack';

// Pre-existing: the stack's on-demand labels were checked when its Aspect visited each resource, and never again.
// What came after (a stack override of the labels, a team's Aspect added after the stack's, skipValidation past the
// Aspect's refusal) wrote a server or volume the staging reaper never finds: running and billed after a rehearsal that
// died before its destroy. The written Terraform is now checked for them.

const REAPER_LABELS = { environment: 'staging', lifecycle: 'on-demand', purpose: 'release-rehearsal', stack: 'acme-staging', 'expires-at': '2026-12-31' };

const product = () => new Product({ name: 'acme', phase: Phase.ONE, admin, stateBucket: 'acme-state', boundary: policy, backup, monitoring, staging: StagingMode.fromProductionSnapshot() });
const appIn = (skipValidation = false) => (skipValidation ? new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'on-demand-labels-')), skipValidation }) : Testing.app());
const environmentStack = (app: App, environment = Environment.STAGING) => new EnvironmentStack(app, `acme-${environment.name}`, {
  product: product(), environment, ...(environment === Environment.STAGING ? { expiresAt: '2026-12-31' } : {}),
});
const writtenFile = (app: App, stack: string, hcl = false) => path.join(app.outdir, 'stacks', stack, hcl ? 'cdk.tf' : 'cdk.tf.json');
/** A team's Aspect, added after the stack's: runs after it on every construct. */
const later = (stack: TerraformStack, visit: (node: IConstruct) => void) => Aspects.of(stack).add({ visit });

describe("a staging stack's written Terraform carries the staging reaper's labels on every resource the reaper removes", () => {
  // (a) A stack override is merged into the written JSON after every resource wrote itself: the Aspect never sees it.
  test.each<[string, (stack: EnvironmentStack) => { key: string; address: string; said: RegExp }]>([
    ['deletes the labels', (stack) => {
      const key = `resource.hcloud_server.${stack.getLogicalId(stack.app.server)}.labels`;
      stack.addOverride(key, undefined);
      return { key, address: `hcloud_server.${stack.getLogicalId(stack.app.server)} (acme-staging/App/`, said: /\.labels: missing: as acme-staging writes it, they lack \{"environment":"staging","lifecycle":"on-demand",/ };
    }],
    ['sets a label to another value', (stack) => {
      const key = `resource.hcloud_server.${stack.getLogicalId(stack.app.server)}.labels.lifecycle`;
      stack.addOverride(key, 'permanent');
      return { key, address: `hcloud_server.${stack.getLogicalId(stack.app.server)} (acme-staging/App/`, said: /\.labels: \{.*"lifecycle":"permanent".* is not allowed: as acme-staging writes it, they set lifecycle to 'permanent', not 'on-demand': / };
    }],
    ['adds a volume of its own', (stack) => {
      stack.addOverride('resource.hcloud_volume.scratch', { name: 'acme-staging-scratch', size: 10, location: 'fsn1' });
      return { key: 'resource.hcloud_volume.scratch', address: 'hcloud_volume.scratch.labels', said: /hcloud_volume\.scratch\.labels: missing: as acme-staging writes it, they lack \{"environment":"staging"/ };
    }],
  ])('(a) a stack override that %s is refused, naming the stack, the resource, the labels and the override; nothing is written', (_name, override) => {
    const app = appIn();
    const stack = environmentStack(app);
    const { key, address, said } = override(stack);
    const message = thrownMessage(() => app.synth());
    expect(message).toContain(`[acme-staging] ${address}`);
    expect(message).toMatch(said);
    expect(message).toMatch(/the staging reaper finds what a rehearsal that died before its destroy left by these labels, so it would leave this hcloud_(server|volume) running and billed\. /);
    expect(message).toContain(`Fix: remove stack.addOverride('${key}', …), or give the resource the staging reaper's labels in it: {`);
    expect(message).toMatch(/\. A hcloud_(server|volume) that must outlive a rehearsal belongs in another stack, not a staging one, whose resources the reaper removes/);
    expect(message.match(/is not allowed|: missing:/g)).toHaveLength(1);
    expect(fs.existsSync(writtenFile(app, 'acme-staging'))).toBe(false);
  });

  // (b) The team's Aspect visits each construct after the stack's: it replaces the server's labels, and adds a volume
  // the stack's Aspect never visits (the stack's children were listed before it was added). With --hcl too.
  test.each([false, true])('(b) an Aspect run after the stack\'s that replaces labels or adds a resource is refused, and nothing is written (hcl: %s)', (hcl) => {
    withHcl(hcl, () => {
      const app = appIn();
      const stack = environmentStack(app);
      later(stack, (node) => {
        if (node !== stack.app.server) return;
        (node as Server).labels = { team: 'data' };
        new Volume(stack, 'Late', { name: 'acme-staging-late', size: 10, location: 'fsn1' });
      });
      const message = thrownMessage(() => app.synth());
      const server = stack.getLogicalId(stack.app.server);
      expect(message).toContain(`[acme-staging] hcloud_server.${server} (acme-staging/App/`);
      expect(message).toMatch(new RegExp(`hcloud_server\\.${server} \\([^)]*\\)\\.labels: \\{"team":"data"\\} is not allowed: as acme-staging writes it, they lack \\{"environment":"staging","lifecycle":"on-demand"`));
      expect(message).toMatch(/\[acme-staging\] hcloud_volume\.\w+ \(acme-staging\/Late\)\.labels: missing: as acme-staging writes it, they lack \{"environment":"staging"/);
      expect(message).toContain("Fix: let the library's labels through: whatever sets this resource's labels after the stack labelled it (an Aspect added after the stack's, an onSynthesize hook) "
        + `must add to them ({ ...labels, team: 'data' }), not replace them; or add them: ${JSON.stringify({ environment: 'staging', lifecycle: 'on-demand', purpose: 'release-rehearsal', stack: 'acme-staging', 'expires-at': '2026-12-31' })}`);
      expect(fs.existsSync(writtenFile(app, 'acme-staging', hcl))).toBe(false);
    });
  });

  // (c) skipValidation skips the Aspect's refusal (a validation): the label set to another value was written.
  test('(c) with skipValidation, labels the Aspect refused are still refused, with its fix; nothing is written', () => {
    const app = appIn(true);
    const stack = environmentStack(app);
    new Volume(stack, 'Scratch', { name: 'acme-staging-scratch', size: 10, location: 'fsn1', labels: { lifecycle: 'permanent' } });
    const message = thrownMessage(() => app.synth());
    // Refused, the Aspect added none of the others either.
    expect(message).toContain('[acme-staging] hcloud_volume.Scratch (acme-staging/Scratch).labels: {"lifecycle":"permanent"} is not allowed: as acme-staging writes it, '
      + `they lack {"environment":"staging","purpose":"release-rehearsal","stack":"acme-staging","expires-at":"2026-12-31"}; they set lifecycle to 'permanent', not 'on-demand': `);
    expect(message).toContain('Fix: leave these labels out (the stack sets them), or give them the stack\'s values: {"lifecycle":"on-demand"} '
      + '(the stack refused them at validation, which skipValidation skips; it does not skip this check of what the stack writes). '
      + 'A hcloud_volume that must outlive a rehearsal belongs in another stack, not a staging one, whose resources the reaper removes');
    expect(message).toContain("(skipValidation skips the CDK's validations, not ");
    expect(fs.existsSync(writtenFile(app, 'acme-staging'))).toBe(false);
  });

  // (d) Without a valid expiresAt the stack's labels lack expires-at, which the reaper selects by: only validation
  // refused it, and with skipValidation every resource was written unreaped. Refused with validation's own message.
  test.each<[string, { expiresAt?: string }, string]>([
    ['missing', {}, "[acme-staging] acme-staging.expiresAt: missing: staging exists on demand and must say when it may be torn down. Fix: pass expiresAt: '2026-12-31'"],
    ['invalid', { expiresAt: '31.12.2026' }, "[acme-staging] acme-staging.expiresAt: '31.12.2026' is not allowed: an expiry is a UTC date written YYYY-MM-DD. Fix: write the date as YYYY-MM-DD"],
  ])('(d) with skipValidation, a staging stack whose expiresAt is %s is refused as validation refuses it; nothing is written', (_name, expiry, said) => {
    const app = appIn(true);
    new EnvironmentStack(app, 'acme-staging', { product: product(), environment: Environment.STAGING, ...expiry });
    const message = thrownMessage(() => app.synth());
    expect(message).toContain(said);
    expect(message.match(/is not allowed|: missing:/g)).toHaveLength(1);
    expect(message).toContain("(skipValidation skips the CDK's validations, not ");
    expect(fs.existsSync(writtenFile(app, 'acme-staging'))).toBe(false);
  });

  test("(d) validation and the written-stack check refuse a staging stack's expiresAt with the same message", () => {
    const validated = thrownMessage(() => Testing.synth(new EnvironmentStack(Testing.app(), 'acme-staging', { product: product(), environment: Environment.STAGING, expiresAt: '2026-02-30' }), true));
    const app = appIn(true);
    new EnvironmentStack(app, 'acme-staging', { product: product(), environment: Environment.STAGING, expiresAt: '2026-02-30' });
    const written = thrownMessage(() => app.synth());
    const refusal = "acme-staging.expiresAt: '2026-02-30' is not allowed: 2026-02-30 is not a calendar date. Fix: write the date as YYYY-MM-DD, such as '2026-12-31'";
    expect(validated).toContain(refusal);
    expect(written).toContain(refusal);
  });

  // The labels, the refusal and the valid expiry the stack's warnings read all come from the expiry: a valid date is the
  // expires-at label and no refusal; no date, or no calendar date, leaves the label out and is the refusal validation
  // and the written-stack check give.
  test.each<[string, string | undefined, string | undefined]>([
    ['valid', '2026-12-31', undefined],
    ['missing', undefined, "acme-staging.expiresAt: missing: staging exists on demand and must say when it may be torn down. Fix: pass expiresAt: '2026-12-31' (the day after the planned rehearsal)"],
    ['not a calendar date', '2026-02-30', "acme-staging.expiresAt: '2026-02-30' is not allowed: 2026-02-30 is not a calendar date. Fix: write the date as YYYY-MM-DD, such as '2026-12-31'"],
  ])('(d) an expiry that is %s gives the labels and the refusal', (_name, expiresAt, refusal) => {
    const labelling = new OnDemandLabels(new TerraformStack(appIn(), 'acme-staging'), expiresAt);
    const { 'expires-at': _expiry, ...withoutExpiry } = REAPER_LABELS;
    expect(labelling.labels).toEqual(refusal === undefined ? REAPER_LABELS : withoutExpiry);
    expect(labelling.expiryRefusal).toBe(refusal);
    expect(labelling.expiresAt).toBe(refusal === undefined ? expiresAt : undefined);
  });

  // (e) BoundarySuppressions accepts a rule pack's finding only: the message offered it for the reaper's labels too,
  // whenever the App's checks (a stack no pack reaches) were listed with them.
  test("(e) with skipValidation, BoundarySuppressions is offered only when a rule pack's finding is listed", () => {
    const refusedLabels = (app: App) => {
      const stack = environmentStack(app);
      new Volume(stack, 'Scratch', { name: 'acme-staging-scratch', size: 10, location: 'fsn1', labels: { lifecycle: 'permanent' } });
      return stack;
    };
    const withUnchecked = appIn(true);
    refusedLabels(withUnchecked);
    // A product's stacks check the App for a stack no rule pack reaches (analytics): run by the first stack written.
    new ProductStacks(withUnchecked, product());
    new HcloudProvider(new TerraformStack(withUnchecked, 'analytics'), 'hcloud', {});
    const labelsAndApp = thrownMessage(() => withUnchecked.synth());
    expect(labelsAndApp).toContain('[acme-staging] hcloud_volume.Scratch (acme-staging/Scratch).labels: {"lifecycle":"permanent"} is not allowed: ');
    expect(labelsAndApp).toMatch(/\[acme-staging\] analytics\.aspects: 'no boundary rule pack' is not allowed/);
    expect(labelsAndApp).toContain(`(skipValidation skips the CDK's validations, not ${PACKAGE_NAME}'s checks of what a stack writes, `
      + "nor the App's check that a rule pack reaches every stack).");
    expect(labelsAndApp).not.toContain('BoundarySuppressions');

    // The App's check alone failing was called a check of what a stack writes: it checks that a rule pack reaches every stack.
    const appOnly = appIn(true);
    new ProductStacks(appOnly, product());
    new HcloudProvider(new TerraformStack(appOnly, 'analytics'), 'hcloud', {});
    const unreached = thrownMessage(() => appOnly.synth());
    expect(unreached).toMatch(/\] analytics\.aspects: 'no boundary rule pack' is not allowed/);
    expect(unreached).toContain("(skipValidation skips the CDK's validations, not the App's check that a rule pack reaches every stack).");
    expect(unreached).not.toContain('checks of what a stack writes');

    const withFinding = appIn(true);
    const stack = refusedLabels(withFinding);
    stack.addOverride(`resource.hcloud_firewall.${stack.getLogicalId(stack.app.firewall)}.rule`, [{ direction: 'out', protocol: 'tcp', port: 'any', destination_ips: ['0.0.0.0/0', '::/0'] }]);
    const labelsAndFinding = thrownMessage(() => withFinding.synth());
    expect(labelsAndFinding).toMatch(/\[acme-staging\] Boundary-\w+: /);
    expect(labelsAndFinding).toContain('[acme-staging] hcloud_volume.Scratch (acme-staging/Scratch).labels: ');
    expect(labelsAndFinding).toContain("Fix the findings, or accept a rule pack's finding with BoundarySuppressions.add(construct, [{ id, reason }]), which boundary.md lists.");
  });

  // The check is the Aspect's: a stack that holds nothing of the library's but one SSH key is checked all the same.
  test('a stack whose only construct of the library is an SSH key is checked', () => {
    const app = appIn();
    const stack = new TerraformStack(app, 'keys');
    new HcloudProvider(stack, 'hcloud', {});
    Aspects.of(stack).add(new OnDemandLabels(stack, '2026-12-31'));
    const key = new SshKey(stack, 'Key', { name: 'acme-staging-ops', publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops' });
    const resource = key.node.findAll().find((c): c is SshKeyResource => c instanceof SshKeyResource)!;
    later(stack, (node) => { if (node === resource) resource.addOverride('labels', undefined); });
    expect(thrownMessage(() => app.synth())).toMatch(/\[keys\] hcloud_ssh_key\.\w+ \(keys\/Key\/\w+\)\.labels: missing: as keys writes it, they lack \{"environment":"staging"/);
    expect(fs.existsSync(writtenFile(app, 'keys'))).toBe(false);
  });

  test('a correct staging stack is written with the labels on every resource the reaper removes; another environment is not checked', () => {
    const app = appIn();
    const staging = environmentStack(app);
    new FloatingIp(staging, 'Spare', { type: 'ipv4', homeLocation: 'fsn1', name: 'acme-staging-spare', labels: { team: 'data' } });
    // The same team Aspect that staging refuses, on test: test's resources are no reaper's.
    const test = environmentStack(app, Environment.TEST);
    later(test, (node) => { if (node === test.app.server) (node as Server).labels = { team: 'data' }; });
    expect(thrownMessage(() => app.synth())).toBe('');
    const written = JSON.parse(fs.readFileSync(writtenFile(app, 'acme-staging'), 'utf8'));
    const reaped = Object.keys(REAPED_COLLECTIONS).flatMap((type) => Object.values<any>(written.resource[type] ?? {}));
    expect(reaped.length).toBeGreaterThan(4);
    for (const resource of reaped) expect(resource.labels).toMatchObject(REAPER_LABELS);
    expect(Object.values<any>(written.resource.hcloud_floating_ip)[0].labels).toMatchObject({ ...REAPER_LABELS, team: 'data' });
    const testServer = JSON.parse(fs.readFileSync(writtenFile(app, 'acme-test'), 'utf8')).resource.hcloud_server[test.getLogicalId(test.app.server)];
    expect(testServer.labels).toEqual({ team: 'data' });
  });
});
