import { DataTerraformRemoteStateS3 } from 'cdktf';
import { checkedStack, machine, synthErrors } from './fixtures';

// Red team (audit redteam): Boundary-UncheckedSender refused the http and external data sources, but
// terraform_remote_state (of the built-in terraform provider, trusted as local) passed with any
// backend: an http backend's address made a request to any host at every plan, carrying whatever
// the address held; an AWS S3 backend read state (every secret of another stack) from outside the EU.

describe('remote state is read only from EU object storage', () => {
  test('an http backend is refused, with path, value and fix', () => {
    const stack = checkedStack();
    machine(stack);
    stack.addOverride('data.terraform_remote_state.shared', { backend: 'http', config: { address: 'https://collector.example.com/state' } });
    expect(synthErrors(stack)).toMatch(/Boundary-UncheckedSender: data\.terraform_remote_state\.shared\.backend: 'http' is not allowed: a terraform_remote_state makes a request of its own .* Fix: read it from an ObjectStorageBackend bucket/);
  });

  test('AWS S3 is refused; EU Hetzner Object Storage and local state pass', () => {
    const aws = checkedStack();
    machine(aws);
    new DataTerraformRemoteStateS3(aws, 'Shared', { bucket: 'acme-state', key: 'shared.tfstate', region: 'us-east-1' });
    expect(synthErrors(aws)).toMatch(/data\.terraform_remote_state\.Shared\.backend: 's3' is not allowed/);

    const eu = checkedStack();
    machine(eu);
    new DataTerraformRemoteStateS3(eu, 'Shared', {
      bucket: 'acme-state', key: 'shared.tfstate', region: 'eu-central', endpoints: { s3: 'https://fsn1.your-objectstorage.com' },
    });
    eu.addOverride('data.terraform_remote_state.local_one', { backend: 'local', config: { path: '../shared/terraform.tfstate' } });
    expect(synthErrors(eu)).toBe('');
  });
});
