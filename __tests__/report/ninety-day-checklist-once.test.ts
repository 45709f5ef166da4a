import { Aspects, TerraformStack, Testing } from 'cdktf';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import { BoundaryChecks } from '../../lib/boundary/boundary-checks';
import { DataClass } from '../../lib/core/data-class';
import { Environment } from '../../lib/core/environment';
import { ninetyDayChecklist } from '../../lib/environments/ninety-day-checklist';
import { Product } from '../../lib/environments/product';
import { Location } from '../../lib/hetzner/location';
import { Machine } from '../../lib/hetzner/machine';
import { ObjectStorageBackend } from '../../lib/hetzner/object-storage-backend';
import { ServerType } from '../../lib/hetzner/server-type';
import { SshKey } from '../../lib/hetzner/ssh-key';
import { Phase } from '../../lib/roadmap/phase';
import { RestoreCheck } from '../../lib/backup/restore-check';
import { policy } from '../boundary/fixtures';

// The report and the product documents compute the 90-day checklist from the boundary rules. Each
// stack is synthesized once and checked once for it, whatever the number of items that ask.

const admin = { sshPublicKeys: { ops: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu' }, cidrs: ['198.51.100.0/24'] };

function stack(env: Environment, location: Location): TerraformStack {
  const s = new TerraformStack(Testing.app(), `acme-${env.name}`);
  new HcloudProvider(s, 'hcloud', {});
  new ObjectStorageBackend(s, { bucket: 'acme-state' });
  new Machine(s, 'App', {
    environment: env, role: 'app', serverType: ServerType.CPX22, location, dataClasses: [DataClass.SENSITIVE],
    sshKeys: [SshKey.fromName('ops')], adminCidrs: ['198.51.100.0/24'],
  });
  Aspects.of(s).add(new BoundaryChecks({ policy }));
  return s;
}

afterEach(() => jest.restoreAllMocks());

test('synthesizes and checks each stack once, and still tells the items apart', () => {
  const product = new Product({
    name: 'acme', phase: Phase.ONE, admin, stateBucket: 'acme-state', boundary: policy,
    backup: { restoreChecks: [RestoreCheck.sql('users', { database: 'app', query: 'SELECT true' })] },
  });
  const environments = [
    { stack: stack(Environment.TEST, Location.FSN1), environment: Environment.TEST },
    // Outside the EU with sensitive data: the EU item fails.
    { stack: stack(Environment.PRODUCTION, Location.ASH), environment: Environment.PRODUCTION },
  ];
  // Spied on the prototype: this passes only because the fixture takes no secret. A stack that took one binds the
  // prototype's toTerraform into its own at that first secret (secrets-at-synth), before this spy, which would then
  // count nothing; and the last check below would find that own toTerraform.
  const synths = jest.spyOn(TerraformStack.prototype, 'toTerraform');
  const checks = jest.spyOn(BoundaryChecks.prototype, 'checkStack');

  const items = ninetyDayChecklist(product, environments);

  expect(synths).toHaveBeenCalledTimes(2);
  expect(checks).toHaveBeenCalledTimes(2);
  const eu = items.find((i) => i.item.startsWith('Your core app'))!;
  expect(eu.met).toBe(false);
  expect(eu.evidence).toMatch(/Boundary-EuPlacement: .*acme-production\/App/);
  expect(eu.evidence).not.toMatch(/Boundary-RestrictedEgress/);
  // Sensitive data with allow-all egress: only the "what leaves" item names that rule.
  const leaving = items.find((i) => i.item.startsWith('You know exactly'))!;
  expect(leaving.met).toBe(false);
  expect(leaving.evidence).toMatch(/Boundary-RestrictedEgress: acme-test\/App/);
  expect(leaving.evidence).not.toMatch(/Boundary-EuPlacement/);
  // The stacks are left as they were: a later synth reads the stack again.
  expect(Object.getOwnPropertyNames(environments[1].stack)).not.toContain('toTerraform');
});
