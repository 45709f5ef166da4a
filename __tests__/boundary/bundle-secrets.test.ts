import { gunzipSync } from 'zlib';
import { TerraformVariable, Testing } from 'cdktf';
import { SecretVariable } from '../../lib';
import { checkedStack, machine, synthErrors } from './fixtures';
import { expectRefused } from './refusal';

// Audit 08: the machine bundle travels gzip+base64 in the rollout's provisioner, so a secret in a
// bundle file's literal content was never seen by Boundary-NoPlaintextSecret, while the same
// content through cloud-init was refused.

const SECRET = 'DATABASE_PASSWORD=Sup3r-Secret-Tenant-DB\nAWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n';
const part = { name: 'app-env', files: [{ path: '/etc/app.env', content: SECRET, permissions: '0600' }] };

describe('secrets in a machine bundle', () => {
  test('the same literal is refused through cloud-init and through the bundle', () => {
    expectRefused(() => {
      const stack = checkedStack();
      machine(stack).addCloudInitPart(part);
      return stack;
    }, /Boundary-NoPlaintextSecret/);
    const message = expectRefused(() => {
      const stack = checkedStack();
      machine(stack).addBundlePart(part);
      return stack;
    }, /Boundary-NoPlaintextSecret/);
    // The message names the file and part, and never prints the secret.
    expect(message).toContain('bundle file /etc/app.env of part app-env');
    expect(message).not.toMatch(/Sup3r|AKIAIOSFODNN7EXAMPLE/);
  });

  test('the payload really carries the file (what the scan decodes)', () => {
    const stack = checkedStack();
    machine(stack).addBundlePart({ name: 'app-env', files: [{ path: '/etc/app.env', content: 'LOG_LEVEL=info\n' }] });
    expect(synthErrors(stack)).toBe('');
    const json = JSON.parse(Testing.synth(stack));
    const payload = Object.values<any>(json.resource.terraform_data).find((r) => r.provisioner).provisioner
      .find((p: any) => p.file && /bundle\.gz\.b64/.test(p.file.destination)).file.content;
    expect(gunzipSync(Buffer.from(payload.replace(/\s+/g, ''), 'base64')).toString()).toContain('LOG_LEVEL=info');
  });

  test('a file with only references is accepted (Terraform fills it in at deploy)', () => {
    const stack = checkedStack();
    machine(stack).addBundlePart({ name: 'app-env', files: [{ path: '/etc/app.env', content: 'DATABASE_PASSWORD=${DB_PASSWORD}\n' }] });
    expect(synthErrors(stack)).toBe('');
  });
});

// Audit (secrets on the machine): a bundle file filled with a secret at deploy took the default mode 0644, so every user
// of the machine (the app's, node exporter's) read what Terraform redacts in plans. The library's own list of egress
// hostnames was one: it holds the host of the heartbeat's secret URL and of the offsite endpoint.
describe('a bundle file that Terraform fills with a secret', () => {
  const withFile = (permissions?: string, owner?: string) => {
    const stack = checkedStack();
    const password = new SecretVariable(stack, 'app_db_password', { description: 'Password of the app role' });
    machine(stack).addBundlePart({ name: 'app-env', files: [{ path: '/etc/app.env', content: `DATABASE_PASSWORD=${password.stringValue}\n`, permissions, owner }] });
    return stack;
  };

  test.each([[undefined, '0644'], ['0644', '0644'], ['0604', '0604'], ['664', '664']])('readable by every user (permissions %p) is refused at synth, naming the file, the secret and the fix', (permissions, shown) => {
    expect(synthErrors(withFile(permissions))).toContain(`production/App.bundle file /etc/app.env (part app-env).permissions: '${shown}' is not allowed: `
      + 'the file holds the secret var.app_db_password, and every user of the machine can read it');
    expect(synthErrors(withFile(permissions))).toMatch(/Fix: give the file permissions: '0600' \(or '0640' with an owner such as 'root:app' whose group needs it\)/);
  });

  test.each([['0600'], ['0640'], ['0400'], ['600']])('its owner\'s, or its group\'s (permissions %p), is accepted', (permissions) => {
    expect(synthErrors(withFile(permissions, 'root:root'))).toBe('');
  });

  test('a variable marked sensitive with the text "true" (plain JavaScript; Terraform reads it as sensitive) counts as a secret too', () => {
    const stack = checkedStack();
    const token = new TerraformVariable(stack, 'app_token', { type: 'string', sensitive: 'true' as unknown as boolean });
    machine(stack).addBundlePart({ name: 'app-env', files: [{ path: '/etc/app.env', content: `APP_TOKEN=${token.stringValue}\n` }] });
    expect(synthErrors(stack)).toContain("production/App.bundle file /etc/app.env (part app-env).permissions: '0644' is not allowed: the file holds the secret var.app_token");
  });

  test('a file with references that are not secrets (an address) keeps the default mode', () => {
    const stack = checkedStack();
    const app = machine(stack);
    app.addBundlePart({ name: 'app-env', files: [{ path: '/etc/app.env', content: `PUBLIC_IP=${app.ipv4!.ipAddress}\n` }] });
    expect(synthErrors(stack)).toBe('');
  });

  test("the library's own list of egress hostnames, which holds secrets' hosts, is root's alone", () => {
    const stack = checkedStack();
    machine(stack).addBundlePart({ name: 'noop', files: [] });
    const json = JSON.parse(Testing.synth(stack));
    const payload = Object.values<any>(json.resource.terraform_data).find((r) => r.provisioner).provisioner
      .find((p: any) => p.file && /bundle\.gz\.b64/.test(p.file.destination)).file.content;
    const document = JSON.parse(gunzipSync(Buffer.from(payload.replace(/\s+/g, ''), 'base64')).toString());
    const hostnames = document.parts.flatMap((p: any) => p.files).find((f: any) => f.path === '/etc/sovereign/egress-hostnames');
    expect(hostnames.mode).toBe('0600');
  });

  test('a second part of a name the bundle has is refused with the machine\'s path', () => {
    const m = machine(checkedStack());
    m.addBundlePart({ name: 'app-env', files: [] });
    expect(() => m.addBundlePart({ name: 'app-env', files: [] }))
      .toThrow(/^production\/App\.bundle\.part\.name: 'app-env' is not allowed: the machine's bundle has a part of that name already \(.*'app-env'\)\. Fix: give each part its own name$/);
  });

  test.each([[0o600], ['rw-------'], ['0o600'], ['06000']])('a mode that is not an octal string (%p, as plain JavaScript may pass) is refused when the part is added', (permissions) => {
    const stack = checkedStack();
    expect(() => machine(stack).addBundlePart({ name: 'app-env', files: [{ path: '/etc/app.env', content: 'A=1\n', permissions: permissions as any }] }))
      .toThrow(/production\/App\.bundle file \/etc\/app\.env \(part app-env\)\.permissions: .* is not allowed: a mode is written as an octal string of three or four digits\. Fix: write it as a string, such as '0600'/);
  });
});
