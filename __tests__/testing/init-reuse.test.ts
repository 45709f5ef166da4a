import * as fs from 'fs';
import * as path from 'path';
import { HetznerStandIn } from '../../testing';
import { terraformTime } from '../../testing/harness/terraform-cli';

// A workspace asking `terraform init` for what an earlier one asked copies that one's `.terraform` and lock
// file instead of running init; anything init depends on (providers, backend) being different runs init.

const PROVIDERS = { required_providers: { hcloud: { source: 'hetznercloud/hcloud', version: '1.68.0' } } };
const sshKey = (name: string) => ({
  terraform: PROVIDERS,
  provider: { hcloud: [{}] },
  resource: { hcloud_ssh_key: { [name]: { name, public_key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl reuse@example' } } },
});

/** The Terraform commands `fn` ran, by their first argument. */
function commandsOf(fn: () => void): string[] {
  const before = terraformTime.runs;
  const seen: string[] = [];
  const log = path.join(standIn.dir, 'commands.log');
  fs.writeFileSync(log, '');
  process.env.HCLOUD_STANDIN_TERRAFORM_LOG = log;
  try {
    fn();
  } finally {
    delete process.env.HCLOUD_STANDIN_TERRAFORM_LOG;
  }
  for (const line of fs.readFileSync(log, 'utf8').split('\n').filter(Boolean)) seen.push(line.split('\t')[1]);
  expect(seen).toHaveLength(terraformTime.runs - before);
  return seen;
}

const standIn = new HetznerStandIn({ reattach: true });
afterAll(() => standIn.stop(true));

describe('workspaces reuse an earlier terraform init of the same providers and backend', () => {
  test('the first workspace runs init; the next one with the same providers copies it, and it works', () => {
    const first = standIn.workspace(sshKey('first'));
    expect(commandsOf(() => expect(first.validate().ok).toBe(true))).toEqual(['init', 'validate']);
    const second = standIn.workspace(sshKey('second'));
    expect(commandsOf(() => {
      expect(second.validate().ok).toBe(true);
      expect(second.apply().ok).toBe(true);
    })).toEqual(['validate', 'apply']);
    for (const written of ['.terraform', '.terraform.lock.hcl']) {
      expect({ written, copied: fs.existsSync(path.join(second.dir, written)) }).toEqual({ written, copied: fs.existsSync(path.join(first.dir, written)) });
    }
    expect(Object.values(second.cloud().objects.hcloud_ssh_key ?? {})).toEqual([expect.objectContaining({ name: 'second' })]);
  });

  test('a different backend or another provider runs init', () => {
    const withBackend = { ...sshKey('backend'), terraform: { ...PROVIDERS, backend: { s3: { bucket: 'acme-state', key: 'x.tfstate', region: 'main' } } } };
    expect(commandsOf(() => expect(standIn.workspace(withBackend).validate().ok).toBe(true))).toEqual(['init', 'validate']);
    const withRandom = { ...sshKey('random'), terraform: { required_providers: { ...PROVIDERS.required_providers, local: { source: 'hashicorp/local' } } } };
    // hashicorp/local is not in the mirror and nothing is online: init must run, and fail.
    const run = standIn.workspace(withRandom).validate();
    expect(run.args[0]).toBe('init');
    expect(run.ok).toBe(false);
  });

  test('a copied init of a backend works: the state goes to the workspace\'s own local file', () => {
    const withBackend = (name: string) => ({ ...sshKey(name), terraform: { ...PROVIDERS, backend: { s3: { bucket: 'acme-state', key: 'x.tfstate', region: 'main' } } } });
    standIn.workspace(withBackend('one')).validate();
    const two = standIn.workspace(withBackend('two'));
    expect(commandsOf(() => expect(two.apply().ok).toBe(true))).toEqual(['apply']);
    expect(fs.existsSync(path.join(two.dir, '.terraform', 'terraform.tfstate'))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(two.dir, 'terraform.tfstate'), 'utf8')).resources).toEqual([expect.objectContaining({ type: 'hcloud_ssh_key', name: 'two' })]);
  });

  test('explicit init always runs Terraform', () => {
    expect(commandsOf(() => expect(standIn.workspace(sshKey('explicit')).init().ok).toBe(true))).toEqual(['init']);
  });
});

describe('with the stand-in launched by Terraform (providers installed from the mirror)', () => {
  const launched = new HetznerStandIn({ reattach: false });
  afterAll(() => launched.stop(true));

  test('the copy holds the installed provider and the lock file, and Terraform launches the plugin from it', () => {
    const first = launched.workspace(sshKey('first'));
    expect(first.validate().ok).toBe(true);
    const second = launched.workspace(sshKey('second'));
    expect(commandsOf(() => expect(second.apply().ok).toBe(true))).toEqual(['apply']);
    expect(fs.readFileSync(path.join(second.dir, '.terraform.lock.hcl'), 'utf8')).toMatch(/provider "registry\.terraform\.io\/hetznercloud\/hcloud"/);
    expect(fs.readdirSync(path.join(second.dir, '.terraform', 'providers', 'registry.terraform.io', 'hetznercloud', 'hcloud'))).toEqual(['1.68.0']);
    expect(Object.values(second.cloud().objects.hcloud_ssh_key ?? {})).toEqual([expect.objectContaining({ name: 'second' })]);
  });
});
