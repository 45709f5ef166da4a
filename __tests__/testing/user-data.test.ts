import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { App, TerraformStack, Testing } from 'cdktf';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import { Server, ServerConfig } from '../../generated/providers/hcloud/server';
import { SshKey } from '../../generated/providers/hcloud/ssh-key';
import { HetznerStandIn } from '../../testing';
import { isGoBase64, userDataHashSum } from '../../testing/provider/state-funcs';

// hcloud_server.user_data as hcloud v1.68 handles it (internal/server/resource.go): the API
// refuses more than 32 KiB at create, and the state keeps only a hash of the text, never the text.

const standIn = new HetznerStandIn({ reattach: true });
afterAll(() => standIn.stop(true));

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr admin@example.eu';
const SECRET = 'glt_Sup3rSecretT0ken-7f3a9c2e';

const serverStack = (server: Partial<ServerConfig> = {}, build?: (s: TerraformStack) => Partial<ServerConfig>): TerraformStack => {
  const app: App = Testing.app();
  const s = new TerraformStack(app, 'userdata');
  new HcloudProvider(s, 'hcloud', {});
  const more = build?.(s) ?? {};
  new Server(s, 'web', { name: 'web', serverType: 'cx23', image: 'debian-12', location: 'fsn1', ...server, ...more });
  return s;
};

const errorsOf = (run: { diagnostics: readonly { severity: string; summary: string; detail: string }[] }) =>
  run.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.summary} ${d.detail}`).join('\n');

/** A cloud-config of exactly `bytes` bytes of UTF-8 (with multi-byte characters, so bytes != characters). */
function cloudConfigOf(bytes: number): string {
  const head = '#cloud-config\nwrite_files:\n  - path: /etc/motd\n    content: "Grüße aus Falkenstein\n';
  const tail = '"\n';
  const text = head + 'x'.repeat(bytes - Buffer.byteLength(head + tail, 'utf8')) + tail;
  expect(Buffer.byteLength(text, 'utf8')).toBe(bytes);
  expect(text.length).toBeLessThan(bytes);
  return text;
}

const withSecret = (extra = '') => `#cloud-config\nwrite_files:\n  - path: /etc/sovereign/token\n    content: ${SECRET}\n${extra}`;

describe('the hash the state keeps', () => {
  test('is the base64 SHA-1 of the text, as userDataHashSum in hcloud v1.68', () => {
    expect(userDataHashSum('#cloud-config\n')).toBe(crypto.createHash('sha1').update('#cloud-config\n').digest('base64'));
    expect(userDataHashSum('')).toBe('2jmj7l5rSw0yVb/vlWAYkK/YBwk=');
    expect(userDataHashSum('Grüße')).toBe(crypto.createHash('sha1').update(Buffer.from('Grüße', 'utf8')).digest('base64'));
  });

  test('base64 as Go decodes it (a prior value that is not base64 is legacy plain text)', () => {
    expect(isGoBase64(userDataHashSum('a'))).toBe(true);
    expect(isGoBase64('')).toBe(true);
    expect(isGoBase64('#cloud-config\n')).toBe(false);
    expect(isGoBase64('abc')).toBe(false); // unpadded
  });
});

describe('the API refuses user_data above 32 KiB', () => {
  test('32768 bytes apply, 32769 bytes are refused at create with the API\'s words', () => {
    const fits = standIn.workspace(serverStack({ userData: cloudConfigOf(32768) }));
    expect(fits.plan().changes!.creates.map((c) => c.address)).toEqual(['hcloud_server.web']);
    expect(errorsOf(fits.apply())).toBe('');
    expect(Object.keys(fits.cloud().objects.hcloud_server)).toHaveLength(1);

    const tooLong = standIn.workspace(serverStack({ userData: cloudConfigOf(32769) }));
    // The provider has no length check of its own: the plan succeeds, the API refuses the create.
    expect(tooLong.plan().changes!.creates.map((c) => c.address)).toEqual(['hcloud_server.web']);
    const refused = tooLong.apply();
    expect(refused.ok).toBe(false);
    expect(errorsOf(refused)).toMatch(
      /^invalid input in field 'user_data' \(invalid_input, [0-9a-f]{16}\): \[user_data => \[Length must be between 0 and 32768\.\]\]/,
    );
    expect(refused.diagnostics.find((d) => d.severity === 'error')?.address).toBe('hcloud_server.web');
    expect(tooLong.cloud().objects.hcloud_server ?? {}).toEqual({});
    expect(tooLong.state().values?.root_module?.resources ?? []).toEqual([]);
  });
});

describe('state and cloud keep only a hash of user_data', () => {
  test('after apply, the plan, the state and the cloud file hold the hash and never the text', () => {
    const userData = withSecret();
    const ws = standIn.workspace(serverStack({ userData }));
    const planned = ws.plan().changes!.of('hcloud_server.web')[0];
    expect(planned.after.user_data).toBe(userDataHashSum(userData)); // planned as the hash already (SDKv2 StateFunc)
    expect(errorsOf(ws.apply())).toBe('');

    const server = ws.state().values.root_module.resources.find((r: any) => r.address === 'hcloud_server.web');
    expect(server.values.user_data).toBe(userDataHashSum(userData));
    expect(Object.values(ws.cloud().objects.hcloud_server)[0].user_data).toBe(userDataHashSum(userData));

    const stateText = fs.readFileSync(path.join(ws.dir, 'terraform.tfstate'), 'utf8');
    const cloudText = fs.readFileSync(ws.cloudFile, 'utf8');
    expect(stateText).toContain(userDataHashSum(userData));
    for (const text of [stateText, cloudText, ws.terraformRun(['show', '-json']).stdout]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('/etc/sovereign/token');
    }
  });

  test('user_data only known at apply is stored as the hash of its final text', () => {
    const ws = standIn.workspace(serverStack({}, (s) => {
      const key = new SshKey(s, 'admin', { name: 'admin', publicKey: KEY });
      return { userData: withSecret(`    # key ${key.id}\n`) };
    }));
    expect(ws.plan().changes!.of('hcloud_server.web')[0].afterUnknown.user_data).toBe(true);
    expect(errorsOf(ws.apply())).toBe('');
    const keyId = Object.keys(ws.cloud().objects.hcloud_ssh_key)[0];
    const stored = ws.state().values.root_module.resources.find((r: any) => r.address === 'hcloud_server.web').values.user_data;
    expect(stored).toBe(userDataHashSum(withSecret(`    # key ${keyId}\n`)));
    expect(fs.readFileSync(path.join(ws.dir, 'terraform.tfstate'), 'utf8')).not.toContain(SECRET);
    expect(fs.readFileSync(ws.cloudFile, 'utf8')).not.toContain(SECRET);
    expect(ws.plan().changes!.isEmpty).toBe(true);
  });
});

describe('plans compare the hash', () => {
  test('the same user_data again is no change; other user_data replaces the server', () => {
    const ws = standIn.workspace(serverStack({ userData: withSecret() }));
    expect(errorsOf(ws.apply())).toBe('');
    const id = Object.keys(ws.cloud().objects.hcloud_server)[0];

    // A new synth with the same text: the configured text hashes to the stored value.
    ws.setConfiguration(Testing.synth(serverStack({ userData: withSecret() })));
    expect(ws.plan().changes!.isEmpty).toBe(true);
    expect(errorsOf(ws.apply())).toBe('');
    expect(Object.keys(ws.cloud().objects.hcloud_server)).toEqual([id]);

    const changed = withSecret('runcmd: [reboot]\n');
    ws.setConfiguration(Testing.synth(serverStack({ userData: changed })));
    const plan = ws.plan().changes!;
    expect(plan.replacements.map((c) => [c.address, c.replacePaths])).toEqual([['hcloud_server.web', [['user_data']]]]);
    expect(plan.replacements[0].before.user_data).toBe(userDataHashSum(withSecret()));
    expect(plan.replacements[0].after.user_data).toBe(userDataHashSum(changed));

    expect(errorsOf(ws.apply())).toBe('');
    const servers = ws.cloud().objects.hcloud_server;
    expect(Object.keys(servers)).not.toContain(id);
    expect(Object.values(servers).map((o) => o.user_data)).toEqual([userDataHashSum(changed)]);
    expect(ws.plan().changes!.isEmpty).toBe(true);

    // Leaving user_data out of the configuration replaces the server too (it is ForceNew).
    ws.setConfiguration(Testing.synth(serverStack({})));
    expect(ws.plan().changes!.replacements.map((c) => c.replacePaths)).toEqual([[['user_data']]]);
  });
});
