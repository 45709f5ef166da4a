import { Aspects, TerraformStack, Testing } from 'cdktf';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import {
  BoundaryChecks, DataClass, Environment, Location, Machine, ObjectStorageBackend, Phase, Product, RestoreCheck, ServerType, SshKey,
} from '../../lib';
import { ninetyDayChecklist } from '../../lib/environments/ninety-day-checklist';
import { policy } from '../boundary/fixtures';

// The 90-day checklist answers from the same rules the stacks are checked against: nothing is "met" by
// construction. Each case breaks one rule and sees its item turn to no.

const admin = { sshPublicKeys: { ops: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu' }, cidrs: ['198.51.100.0/24'] };
const product = () => new Product({
  name: 'acme', phase: Phase.ONE, admin, stateBucket: 'acme-state', boundary: policy,
  backup: { restoreChecks: [RestoreCheck.sql('users', { database: 'app', query: 'SELECT true' })] },
});

function stack(env: Environment, options: { location?: Location; checked?: boolean; dataClasses?: DataClass[] } = {}): TerraformStack {
  const s = new TerraformStack(Testing.app(), `acme-${env.name}`);
  new HcloudProvider(s, 'hcloud', {});
  new ObjectStorageBackend(s, { bucket: 'acme-state' });
  new Machine(s, 'App', {
    environment: env, role: 'app', serverType: ServerType.CPX22, location: options.location ?? Location.FSN1, dataClasses: options.dataClasses ?? [DataClass.PUBLIC],
    sshKeys: [SshKey.fromName('ops')], adminCidrs: ['198.51.100.0/24'],
  });
  if (options.checked ?? true) Aspects.of(s).add(new BoundaryChecks({ policy }));
  return s;
}

const answer = (items: ReturnType<typeof ninetyDayChecklist>, start: string) => items.find((i) => i.item.startsWith(start))!;

describe('the 90-day checklist', () => {
  test('is met where the rules hold, with the rules as evidence', () => {
    const items = ninetyDayChecklist(product(), [{ stack: stack(Environment.TEST), environment: Environment.TEST }]);
    expect(answer(items, 'Your core app').met).toBe(true);
    expect(answer(items, 'Your core app').evidence).toMatch(/Boundary-EuPlacement and Boundary-EuStateBackend hold on all 1 stacks/);
    expect(answer(items, 'Your sovereignty rule').met).toBe(true);
    expect(answer(items, 'You know exactly').met).toBe(true);
    expect(answer(items, 'You can rehearse').met).toBe(true);
  });

  test('a machine outside the EU holding non-public data turns the control-plane item to no, naming it', () => {
    const items = ninetyDayChecklist(product(), [{ stack: stack(Environment.TEST, { location: Location.ASH, dataClasses: [DataClass.SENSITIVE] }), environment: Environment.TEST }]);
    expect(answer(items, 'Your core app').met).toBe(false);
    expect(answer(items, 'Your core app').evidence).toMatch(/^not met: Boundary-EuPlacement: acme-test\/App/);
  });

  test('a stack no pack checks makes the rule only written down, not enforced', () => {
    const items = ninetyDayChecklist(product(), [{ stack: stack(Environment.TEST, { checked: false }), environment: Environment.TEST }]);
    expect(answer(items, 'Your sovereignty rule').met).toBe(false);
    expect(answer(items, 'Your sovereignty rule').evidence).toBe('written down, but not enforced on acme-test: no BoundaryChecks pack reaches it');
  });

  test('a sensitive machine without the egress allowlist means the data that leaves is not known', () => {
    const items = ninetyDayChecklist(product(), [{ stack: stack(Environment.TEST, { dataClasses: [DataClass.SENSITIVE] }), environment: Environment.TEST }]);
    expect(answer(items, 'You know exactly').met).toBe(false);
    expect(answer(items, 'You know exactly').evidence).toMatch(/^not met: Boundary-RestrictedEgress: acme-test\/App/);
  });

  test('without a test environment there is nothing to rehearse staging on', () => {
    const items = ninetyDayChecklist(product(), [{ stack: stack(Environment.PRODUCTION), environment: Environment.PRODUCTION }]);
    expect(answer(items, 'You can rehearse').met).toBe(false);
  });
});
