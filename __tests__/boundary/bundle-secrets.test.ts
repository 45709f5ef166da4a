import { gunzipSync } from 'zlib';
import { Testing } from 'cdktf';
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
    const payload = Object.values<any>(json.resource.terraform_data)[0].provisioner
      .find((p: any) => p.file && /bundle\.gz\.b64/.test(p.file.destination)).file.content;
    expect(gunzipSync(Buffer.from(payload.replace(/\s+/g, ''), 'base64')).toString()).toContain('LOG_LEVEL=info');
  });

  test('a file with only references is accepted (Terraform fills it in at deploy)', () => {
    const stack = checkedStack();
    machine(stack).addBundlePart({ name: 'app-env', files: [{ path: '/etc/app.env', content: 'DATABASE_PASSWORD=${DB_PASSWORD}\n' }] });
    expect(synthErrors(stack)).toBe('');
  });
});
