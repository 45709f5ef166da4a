import * as fs from 'fs';
import { TerraformStack, TerraformVariable } from 'cdktf';
import { Environment, Location } from '../../lib';
import { StorageBox, StorageBoxAccount, StorageBoxType, STORAGE_BOX_LOCATIONS, STORAGE_BOX_SSH_PORT } from '../../lib/hetzner/storage-box';
import { resourcesOf, synthJson, testStack } from '../setup/stack';
import { FACTS_FILE } from './hetzner-facts';

const facts = (): any => JSON.parse(fs.readFileSync(FACTS_FILE, 'utf8'));

const secret = (stack: TerraformStack, name: string) => new TerraformVariable(stack, name, { type: 'string', sensitive: true });

describe('StorageBox', () => {
  test('with only its required props: hel1, bx11, SSH on and everything else off, not reachable from outside Hetzner', () => {
    const { stack } = testStack('test');
    new StorageBox(stack, 'Backups', { environment: Environment.TEST, password: secret(stack, 'box_password') });
    const [box] = resourcesOf(synthJson(stack), 'hcloud_storage_box');
    expect(box).toEqual({
      name: 'test-backups', location: 'hel1', storage_box_type: 'bx11', password: '${var.box_password}',
      access_settings: { ssh_enabled: true, reachable_externally: false, samba_enabled: false, webdav_enabled: false, zfs_enabled: false },
      delete_protection: false,
      labels: expect.objectContaining({ role: 'backups', environment: 'test', 'data-class': 'secret' }),
      lifecycle: { ignore_changes: ['ssh_keys'] },
    });
  });

  test('in production: delete protection, prevent_destroy, ssh_keys changes ignored, daily snapshots at 05:30 UTC', () => {
    const { stack } = testStack('production');
    new StorageBox(stack, 'Backups', { environment: Environment.PRODUCTION, password: secret(stack, 'box_password') });
    const [box] = resourcesOf(synthJson(stack), 'hcloud_storage_box');
    expect(box.delete_protection).toBe(true);
    expect(box.lifecycle).toEqual({ prevent_destroy: true, ignore_changes: ['ssh_keys'] });
    expect(box.snapshot_plan).toEqual({ hour: 5, minute: 30, max_snapshots: 7 });
    expect(box).not.toHaveProperty('ssh_keys');
  });

  test('gives each machine a sub-account: SSH only, its own home, not reachable from outside, read-only on request', () => {
    const { stack } = testStack('production');
    const box = new StorageBox(stack, 'Backups', { environment: Environment.PRODUCTION, password: secret(stack, 'box_password') });
    const writer = box.addSubaccount('App', { homeDirectory: 'backups/production/app', password: secret(stack, 'app_password') });
    const reader = box.addSubaccount('Drill', { homeDirectory: 'backups/production/app', password: secret(stack, 'drill_password'), readonly: true });
    const subaccounts = resourcesOf(synthJson(stack), 'hcloud_storage_box_subaccount');
    expect(subaccounts.map((s) => s.access_settings)).toEqual([
      { ssh_enabled: true, reachable_externally: false, samba_enabled: false, webdav_enabled: false, readonly: false },
      { ssh_enabled: true, reachable_externally: false, samba_enabled: false, webdav_enabled: false, readonly: true },
    ]);
    expect(subaccounts[0]).toMatchObject({ home_directory: 'backups/production/app', password: '${var.app_password}', storage_box_id: expect.stringMatching(/^\$\{hcloud_storage_box\.\w+\.id\}$/) });
    expect(writer.host).toMatch(/TfToken/);
    expect(writer.location).toBe(Location.HEL1);
    expect(reader.readonly).toBe(true);
    expect(STORAGE_BOX_SSH_PORT).toBe(23);
  });

  test('in production its sub-accounts refuse destruction too (a renamed one would be a new login); in test they do not', () => {
    const lifecycles = (env: Environment) => {
      const { stack } = testStack(env.name);
      const box = new StorageBox(stack, 'Backups', { environment: env, password: secret(stack, 'box_password') });
      box.addSubaccount('App', { homeDirectory: `backups/${env.name}/app`, password: secret(stack, 'app_password') });
      box.addSubaccount('Drill', { homeDirectory: `backups/${env.name}/app`, password: secret(stack, 'drill_password'), readonly: true });
      return resourcesOf(synthJson(stack), 'hcloud_storage_box_subaccount').map((s) => s.lifecycle);
    };
    expect(lifecycles(Environment.PRODUCTION)).toEqual([{ prevent_destroy: true }, { prevent_destroy: true }]);
    expect(lifecycles(Environment.TEST)).toEqual([undefined, undefined]);
  });

  test('fails when the location has no Storage Boxes', () => {
    const { stack } = testStack('production');
    new StorageBox(stack, 'Backups', { environment: Environment.PRODUCTION, password: secret(stack, 'p'), location: Location.NBG1 });
    expect(() => synthJson(stack)).toThrow(/production\/Backups\.location: 'nbg1' is not allowed: Storage Boxes exist only in fsn1 and hel1\. Fix: use Location\.HEL1 or Location\.FSN1/);
  });

  test('fails when a password is not a sensitive variable', () => {
    const { stack } = testStack('production');
    expect(() => new StorageBox(stack, 'Backups', { environment: Environment.PRODUCTION, password: 'Secret-123456' as any }))
      .toThrow(/production\/Backups\.password: '<a value>' is not allowed: a secret must come from a sensitive Terraform variable/);
    const plain = new TerraformVariable(stack, 'plain', { type: 'string' });
    expect(() => new StorageBox(stack, 'Backups2', { environment: Environment.PRODUCTION, password: plain }))
      .toThrow(/production\/Backups2\.password: 'var\.plain' is not allowed: the variable is not marked sensitive/);
  });

  test('fails on a home directory outside the box or too many snapshots for the type', () => {
    const { stack } = testStack('production');
    const box = new StorageBox(stack, 'Backups', { environment: Environment.PRODUCTION, password: secret(stack, 'p') });
    expect(() => box.addSubaccount('Bad', { homeDirectory: '../other', password: secret(stack, 'q') }))
      .toThrow(/production\/Backups\/Bad\.homeDirectory: '\.\.\/other' is not allowed/);
    // Each of these is (or reads as) the box root, where the account would see and could delete every other account's backups.
    for (const [i, root] of ['.', './', '', 'backups//app', 'backups/app/', 'backups/./app'].entries()) {
      expect(() => box.addSubaccount(`Root${i}`, { homeDirectory: root, password: secret(stack, `root${i}`) }))
        .toThrow(new RegExp(`production/Backups/Root${i}\\.homeDirectory: '${root.replace(/\./g, '\\.')}' is not allowed: a home directory is a path of named directories`));
    }
    expect(() => new StorageBox(stack, 'Many', { environment: Environment.PRODUCTION, password: secret(stack, 'r'), dailySnapshots: 11 }))
      .toThrow(/production\/Many\.dailySnapshots: 11 is not allowed: a bx11 keeps 0 to 10 automatic snapshots/);
  });

  test('refers to an account of another stack, read-only unless said otherwise', () => {
    const account = StorageBoxAccount.fromAttributes({ host: 'u1-sub2.your-storagebox.de', username: 'u1-sub2', location: Location.HEL1 });
    expect(account.readonly).toBe(true);
  });

  test('refuses a referenced account whose host is not a host name', () => {
    for (const host of ['u1-sub2@u1-sub2.your-storagebox.de', 'sftp://u1-sub2.your-storagebox.de', '', 'localhost']) {
      expect(() => StorageBoxAccount.fromAttributes({ host, username: 'u1-sub2', location: Location.HEL1 }))
        .toThrow(/^StorageBoxAccount\.fromAttributes\.host: .* is not allowed: a hostname is a lowercase DNS name/);
    }
    // Audit (secrets11): the login pasted with its password, as SFTP clients write it, was printed whole in the refusal.
    expect(() => StorageBoxAccount.fromAttributes({ host: 'u1-sub2:Sup3rSecretPw@u1-sub2.your-storagebox.de', username: 'u1-sub2', location: Location.HEL1 }))
      .toThrow(/^StorageBoxAccount\.fromAttributes\.host: '<redacted>@u1-sub2\.your-storagebox\.de' is not allowed: a hostname is a lowercase DNS name[^]*Fix: pass the host alone, such as 'u12345-sub2\.your-storagebox\.de'/);
  });

  test('refuses a referenced account whose user name is not one, without printing what may be its password', () => {
    for (const username of ['u1 sub2', `u1-sub2'`, '"u1"', 'u1\tsub2', '-u1', '']) {
      expect(() => StorageBoxAccount.fromAttributes({ host: 'u1-sub2.your-storagebox.de', username, location: Location.HEL1 }))
        .toThrow(/^StorageBoxAccount\.fromAttributes\.username: [^]* is not allowed: [^]*a Storage Box user name is letters, digits, "\.", "_" and "-", starting with a letter or a digit\. Fix: pass the account's user name alone, such as 'u12345-sub2'/);
    }
    let said = '';
    try {
      StorageBoxAccount.fromAttributes({ host: 'u1-sub2.your-storagebox.de', username: 'u1-sub2:Sup3rSecretPw', location: Location.HEL1 });
    } catch (e) {
      said = (e as Error).message;
    }
    expect(said).toMatch(/^StorageBoxAccount\.fromAttributes\.username: 'u1-sub2<redacted>' is not allowed: character 8 is a colon;/);
    expect(said).not.toContain('Sup3rSecretPw');
    // Without a colon: only the allowed characters it starts with when they are an account name's, then the first
    // other character described (not printed) with its position.
    const refusal = (username: string): string => {
      try {
        StorageBoxAccount.fromAttributes({ host: 'u1-sub2.your-storagebox.de', username, location: Location.HEL1 });
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error(`${username} was accepted`);
    };
    const spaced = refusal('u1-sub2 Sup3rSecret');
    expect(spaced).toMatch(/^StorageBoxAccount\.fromAttributes\.username: 'u1-sub2<redacted>' is not allowed: character 8 is a space; a Storage Box user name is/);
    expect(spaced).not.toContain('Sup3rSecret');
    // Review: a password pasted alone had its first disallowed character named, with its position: part of the password
    // (its length up to there, one of its characters). With nothing shown, neither is said.
    const generic = /^StorageBoxAccount\.fromAttributes\.username: '<redacted>' is not allowed: it is not a Storage Box user name \(u12345, u12345-sub2\); a Storage Box user name is/;
    for (const password of ['#x9!Kq$Zp2&Lw', 'Sup3rSecret$x9', '-u1', 'Sup3r:Secret']) {
      const said = refusal(password);
      expect(said).toMatch(generic);
      expect(said).not.toMatch(/character \d|U\+|a colon|a hyphen|a dollar sign|Sup3r|Kq\$Zp2/);
    }
    expect(refusal('')).toMatch(/'' is not allowed: it is empty/);
    // Hetzner's own forms pass.
    for (const username of ['u12345', 'u12345-sub2']) StorageBoxAccount.fromAttributes({ host: 'u1-sub2.your-storagebox.de', username, location: Location.HEL1 });
  });

  test('its catalog matches the shared Hetzner facts', () => {
    const f = facts();
    expect(StorageBoxType.all().map((t) => [t.name, t.capacity.toMebibytes() / 1024 / 1024, t.maxAutomaticSnapshots]))
      .toEqual(f.storageBoxes.map((b: any) => [b.name, b.sizeTB, b.automaticSnapshots]));
    expect(STORAGE_BOX_LOCATIONS.map((l) => l.name)).toEqual(f.storageBoxCommon.locations.map((l: string) => l.split(' ')[0]));
  });
});
