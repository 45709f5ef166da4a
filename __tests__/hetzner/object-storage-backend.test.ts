import { App, TerraformStack } from 'cdktf';
import { Location, ObjectStorageBackend } from '../../lib';

function backendOf(stack: TerraformStack): any {
  return stack.toTerraform().terraform.backend;
}

describe('ObjectStorageBackend', () => {
  test('with only its required props: S3 state in fsn1 Object Storage, locked, keyed by stack', () => {
    const stack = new TerraformStack(new App(), 'production');
    new ObjectStorageBackend(stack, { bucket: 'acme-state' });
    expect(backendOf(stack)).toEqual({
      s3: expect.objectContaining({
        bucket: 'acme-state',
        key: 'production/terraform.tfstate',
        region: 'fsn1',
        endpoints: { s3: 'https://fsn1.your-objectstorage.com' },
        use_lockfile: true,
        use_path_style: true,
        skip_credentials_validation: true,
        skip_requesting_account_id: true,
      }),
    });
  });

  test('declares the Terraform its locking needs (1.10 on); a stack that narrows it wins, before or after', () => {
    const requiredVersion = (stack: TerraformStack) => stack.toTerraform().terraform.required_version;
    const stack = new TerraformStack(new App(), 'production');
    new ObjectStorageBackend(stack, { bucket: 'acme-state' });
    expect(requiredVersion(stack)).toBe('>= 1.10');
    stack.addOverride('terraform.required_version', '~> 1.11.0');
    expect(requiredVersion(stack)).toBe('~> 1.11.0');
    const narrowedFirst = new TerraformStack(new App(), 'test');
    narrowedFirst.addOverride('terraform.required_version', '~> 1.12.0');
    new ObjectStorageBackend(narrowedFirst, { bucket: 'acme-state' });
    expect(requiredVersion(narrowedFirst)).toBe('~> 1.12.0');
  });

  test('never carries credentials in the configuration', () => {
    const stack = new TerraformStack(new App(), 'production');
    new ObjectStorageBackend(stack, { bucket: 'acme-state', location: Location.HEL1 });
    const s3 = backendOf(stack).s3;
    expect(s3.endpoints.s3).toBe('https://hel1.your-objectstorage.com');
    for (const key of ['access_key', 'secret_key', 'token', 'profile']) expect(s3).not.toHaveProperty(key);
  });

  test('fails when the state would leave the EU', () => {
    const stack = new TerraformStack(new App(), 'production');
    expect(() => new ObjectStorageBackend(stack, { bucket: 'acme-state', location: Location.ASH }))
      .toThrow(/production\.stateBackend\.location: 'ash' is not allowed: .* state must stay in the EU\. Fix: use Location\.FSN1/);
  });
});
