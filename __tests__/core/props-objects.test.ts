import { TerraformVariable } from 'cdktf';
import {
  BackupPlan, BackupTarget, DataClass, Environment, Heartbeat, Location, Machine, Phase, Product, ServerType, SshKey, StorageBox,
} from '../../lib';
import { policy } from '../boundary/fixtures';
import { refusal } from '../boundary/refusal';
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
    class AppMachine {
      public readonly environment = Environment.PRODUCTION;
      public readonly role = 'app';
      public readonly serverType = ServerType.CX33;
      public readonly sshKeys = [SshKey.fromName('admin')];
      public readonly adminCidrs = ADMIN_CIDRS;
      public readonly hetznerBackup = true;
    }
    expect(refusal(() => new Machine(stack, 'App', new AppMachine() as any))).toMatch(/^production\/App\.hetznerBackup: .*did you mean 'hetznerBackups'\?/);

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
    class AppMachine {
      public readonly environment = Environment.PRODUCTION;
      public readonly role = 'app';
      public readonly serverType = ServerType.CX33;
      public readonly sshKeys = [SshKey.fromName('admin')];
      public readonly adminCidrs = ADMIN_CIDRS;
      public readonly dataClasses = [DataClass.PUBLIC];
      public readonly owner = 'platform team';
    }
    expect(new Machine(stack, 'App', new AppMachine() as any).dataClasses).toEqual([DataClass.PUBLIC]);
  });
});
