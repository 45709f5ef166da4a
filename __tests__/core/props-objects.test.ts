import { TerraformVariable } from 'cdktf';
import {
  BackupPlan, BackupTarget, DataClass, DataVolume, Environment, Heartbeat, Location, Machine, Phase, Product, ServerType, Size, SshKey, StorageBox,
} from '../../lib';
import { policy } from '../boundary/fixtures';
import { expectRefused, refusal } from '../boundary/refusal';
import { admin, backup, monitoring } from '../setup/product-basics';
import { ADMIN_CIDRS, testStack } from '../setup/stack';

// Audit (plain JavaScript callers): props built by a class (`new AcmeProps()`) were not checked for misspelt
// fields at all, since a class instance may have members of its own: `this.locaton = Location.HEL1` put
// production in the default location, `this.hostKey` left every host key unpinned, `this.hetznerBackup = true`
// was ignored. A class instance's own fields are now checked for near misses of the known names; other
// members still pass, and constructs passed for an interface are not looked into.

class AcmeProduct {
  public readonly name = 'acme';
  public readonly phase = Phase.ONE;
  public readonly admin = admin;
  public readonly boundary = policy;
  public readonly stateBucket = 'acme-state';
  public readonly backup = backup;
  public readonly monitoring = monitoring;
  /** A member of the class's own, not a prop: it passes. */
  public readonly createdBy = 'platform team';
  constructor(extra: Record<string, unknown> = {}) {
    Object.assign(this, extra);
  }
}

/** A production app machine's props, as a JavaScript team might build them with a class; the tests add a field. */
class AppMachineProps {
  public readonly environment = Environment.PRODUCTION;
  public readonly role = 'app';
  public readonly serverType = ServerType.CX33;
  public readonly sshKeys = [SshKey.fromName('admin')];
  public readonly adminCidrs = ADMIN_CIDRS;
}

describe('props built by a class', () => {
  test.each([
    ['locaton', { locaton: Location.HEL1 }, /^Product\(acme\)\.locaton: 'locaton' is not allowed: there is no property of this name.*Fix: did you mean 'location'\?/],
    ['Location', { Location: Location.HEL1 }, /^Product\(acme\)\.Location: .*did you mean 'location'\?/],
    ['budjet', { budjet: 30 }, /^Product\(acme\)\.budjet: .*did you mean 'budget'\?/],
  ])('a misspelt field %s of a Product is refused by name, as in a plain object', (_name, extra, message) => {
    expect(refusal(() => new Product(new AcmeProduct(extra) as any))).toMatch(message);
  });

  test('a misspelt field of a nested options object built by a class is refused too', () => {
    class Admin {
      public readonly sshPublicKeys = admin.sshPublicKeys;
      public readonly cidrs = admin.cidrs;
      public readonly hostKey = { 'acme-production-app': 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr' };
    }
    expect(refusal(() => new Product(new AcmeProduct({ admin: new Admin() }) as any))).toMatch(/^Product\(acme\)\.admin\.hostKey: .*did you mean 'hostKeys'\?/);
  });

  test('a misspelt field of Machine and BackupPlan props built by a class is refused', () => {
    const { stack } = testStack();
    class MisspeltAppMachine extends AppMachineProps {
      public readonly hetznerBackup = true;
    }
    expect(refusal(() => new Machine(stack, 'App', new MisspeltAppMachine() as any))).toMatch(/^production\/App\.hetznerBackup: .*did you mean 'hetznerBackups'\?/);

    const secret = (name: string) => new TerraformVariable(stack, name, { type: 'string', sensitive: true });
    const account = new StorageBox(stack, 'Box', { environment: Environment.PRODUCTION, location: Location.HEL1, password: secret('box') })
      .addSubaccount('App', { homeDirectory: 'backups/app', password: secret('box_app') });
    class Plan {
      public readonly environment = Environment.PRODUCTION;
      public readonly resticPassword = secret('restic');
      public readonly heartbeat = Heartbeat.healthchecks(secret('hb'));
      // The construct, passed where an interface (IStorageBoxAccount) is expected, is not looked into.
      public readonly targets = [BackupTarget.storageBox(account)];
      public readonly localCopie = 30;
    }
    expect(refusal(() => new BackupPlan(stack, 'Backups', new Plan() as any))).toMatch(/^production\/Backups\.localCopie: .*did you mean 'localCopies'\?/);
  });

  test('a class with members of its own, and no misspelt field, builds as a plain object does', () => {
    const product = new Product(new AcmeProduct() as any);
    expect(product.location).toBe(Location.FSN1);
    const { stack } = testStack();
    class OwnedAppMachine extends AppMachineProps {
      public readonly dataClasses = [DataClass.PUBLIC];
      public readonly owner = 'platform team';
    }
    expect(new Machine(stack, 'App', new OwnedAppMachine() as any).dataClasses).toEqual([DataClass.PUBLIC]);
  });
});

describe('a props object reused and edited for the next construct', () => {
  // Audit (the same object passed twice): the synth-time checks read the props object again, so an edit made for the
  // next construct changed what the first one was judged by.
  test('a volume that must be backed up is still judged so when the object gets withoutBackup for the next volume', () => {
    const { stack } = testStack();
    const machine = new Machine(stack, 'App', {
      environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [SshKey.fromName('admin')], adminCidrs: ADMIN_CIDRS, dataClasses: [DataClass.SENSITIVE],
    });
    const props: any = { machine, size: Size.gibibytes(10), mountPath: '/srv/data' };
    new DataVolume(stack, 'Data', props);
    props.mountPath = '/srv/cache';
    props.withoutBackup = 'model cache, downloaded again at start';
    new DataVolume(stack, 'Cache', props);
    // Before: synth passed, and /srv/data was in no backup.
    expectRefused(() => stack, /^production\/Data\.mountPath: '\/srv\/data' is not allowed: Hetzner server backups and snapshots do not include attached volumes/);
  });

  test('a production machine built without SSH keys is still refused when the object gets keys for the next machine', () => {
    const { stack } = testStack();
    const props: any = { environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [], adminCidrs: ADMIN_CIDRS, dataClasses: [DataClass.PUBLIC] };
    new Machine(stack, 'App', props);
    props.sshKeys.push(SshKey.fromName('admin'));
    props.role = 'worker';
    new Machine(stack, 'Worker', props);
    expectRefused(() => stack, /^production\/App\.sshKeys: missing: a production machine without SSH keys/);
  });
});
