import { DataResource, Fn, TerraformLocal, TerraformVariable } from 'cdktf';
import { Firewall } from '../../generated/providers/hcloud/firewall';
import { Rdns } from '../../generated/providers/hcloud/rdns';
import { UploadedCertificate } from '../../generated/providers/hcloud/uploaded-certificate';
import { SecretVariable } from '../../lib';
import { checkedStack, machine, synthErrors } from './fixtures';

// Audit (secrets): a SecretVariable written into a label or a name of an hcloud resource passed synth. Terraform
// redacts it in the plan, but Hetzner keeps labels and names in clear: its console, every token of the project
// (read-only ones too) and the listings and reports that print labels show the secret.

describe('a sensitive variable never goes into a label or a name', () => {
  test('in a label (an override, as from JavaScript) or a name it is refused, naming the resource, the variable and the fix', () => {
    const stack = checkedStack();
    const m = machine(stack);
    const token = new SecretVariable(stack, 'deploy_token', { description: 'Token the deploy hook checks' });
    m.server.addOverride('labels.deploy-token', token.stringValue);
    m.ipv6.addOverride('name', `production-app-${token.stringValue}`);
    const errors = synthErrors(stack);
    expect(errors).toMatch(/Boundary-SecretViaVariable: production\/App\/Resource\.labels: 'var\.deploy_token' is not allowed: the variable is sensitive, and Hetzner keeps a resource's labels in clear.*Fix: give the secret to the machine in a bundle file built from the SecretVariable/);
    expect(errors).toMatch(/production\/App\/Ipv6\.name: 'var\.deploy_token' is not allowed/);
  });

  test('a variable that is not sensitive may name things', () => {
    const stack = checkedStack();
    const m = machine(stack);
    m.server.addOverride('labels.team', '${var.team}');
    stack.addOverride('variable.team', { type: 'string', default: 'search' });
    expect(synthErrors(stack)).toBe('');
  });

  // Second pass: the check read `var.X` in the label itself, so a TerraformLocal holding the secret (or an expression
  // built from one) carried it into Hetzner's labels and names in clear, synth passing.
  test('through a local, and through locals built from locals, it is refused, naming the chain', () => {
    const stack = checkedStack();
    const m = machine(stack);
    const token = new SecretVariable(stack, 'deploy_token', { description: 'Token the deploy hook checks' });
    const raw = new TerraformLocal(stack, 'hook_token', Fn.nonsensitive(token.stringValue));
    const tag = new TerraformLocal(stack, 'hook_tag', `hook-${Fn.lower(Fn.substr(raw.asString, 0, 12))}`);
    m.server.addOverride('labels.deploy-token', raw.asString);
    m.ipv6.addOverride('name', `production-app-${tag.asString}`);
    m.ipv4!.addOverride('labels.box', new TerraformLocal(stack, 'box_login', '${nonsensitive(hcloud_storage_box.box.password)}').asString);
    const hook = new DataResource(stack, 'hook', { input: Fn.nonsensitive(raw.asString) });
    m.ipv6.addOverride('labels.hook', hook.getStringAttribute('output'));
    const errors = synthErrors(stack);
    expect(errors).toMatch(/Boundary-SecretViaVariable: production\/App\/Resource\.labels: 'var\.deploy_token' is not allowed: the variable is sensitive \(through local\.hook_token\), and Hetzner keeps a resource's labels in clear.*Fix: give the secret to the machine in a bundle file/);
    expect(errors).toMatch(/production\/App\/Ipv6\.name: 'var\.deploy_token' is not allowed: the variable is sensitive \(through local\.hook_tag → local\.hook_token\)/);
    expect(errors).toMatch(/production\/App\/Ipv6\.labels: 'terraform_data\.hook\.output' is not allowed: the attribute holds a secret, and Hetzner/);
    expect(errors).toMatch(/production\/App\/Ipv4\.labels: 'hcloud_storage_box\.box\.password' is not allowed: the attribute holds a secret \(through local\.box_login\)/);
  });

  // Second pass: a firewall rule's description (nested in the rule blocks) and a reverse DNS name are shown in clear
  // too, the name to anyone who looks the address up, and were not read.
  test('in a firewall rule\'s description or a reverse DNS name, through a local, it is refused', () => {
    const stack = checkedStack();
    const m = machine(stack);
    const token = new SecretVariable(stack, 'deploy_token', { description: 'Token the deploy hook checks' });
    const raw = new TerraformLocal(stack, 'hook_token', Fn.nonsensitive(token.stringValue));
    new Firewall(stack, 'Hooks', { name: 'hooks', rule: [{ direction: 'in', protocol: 'tcp', port: '8443', sourceIps: ['198.51.100.0/24'], description: `hook ${raw.asString}` }] });
    new Rdns(stack, 'Ptr', { serverId: m.server.id as unknown as number, ipAddress: '203.0.113.7', dnsPtr: `${raw.asString}.acme.eu` });
    const errors = synthErrors(stack);
    expect(errors).toMatch(/Boundary-SecretViaVariable: production\/Hooks\.rule\.description: 'var\.deploy_token' is not allowed: the variable is sensitive \(through local\.hook_token\), and Hetzner keeps a resource's rule\.description in clear/);
    expect(errors).toMatch(/Boundary-SecretViaVariable: production\/Ptr\.dns_ptr: 'var\.deploy_token' is not allowed: the variable is sensitive \(through local\.hook_token\)/);
  });

  test('a generated password or private key (random, tls) through a local into a label is refused', () => {
    const stack = checkedStack();
    const m = machine(stack);
    stack.addOverride('resource.random_password.db', { length: 32 });
    stack.addOverride('resource.tls_private_key.hook', { algorithm: 'ED25519' });
    m.server.addOverride('labels.db', new TerraformLocal(stack, 'db_pw', '${nonsensitive(random_password.db.result)}').asString);
    m.ipv6.addOverride('labels.key', new TerraformLocal(stack, 'hook_key', '${substr(nonsensitive(tls_private_key.hook.private_key_pem), 40, 20)}').asString);
    m.ipv6.addOverride('labels.algorithm', '${tls_private_key.hook.algorithm}');
    const errors = synthErrors(stack);
    expect(errors).toMatch(/production\/App\/Resource\.labels: 'random_password\.db\.result' is not allowed: the attribute holds a secret \(through local\.db_pw\)/);
    expect(errors).toMatch(/production\/App\/Ipv6\.labels: 'tls_private_key\.hook\.private_key_pem' is not allowed: the attribute holds a secret \(through local\.hook_key\)/);
    expect(errors).not.toMatch(/algorithm/);
  });

  test('locals that read each other end, and locals of plain values pass', () => {
    const stack = checkedStack();
    const m = machine(stack);
    const a = new TerraformLocal(stack, 'a', '');
    const b = new TerraformLocal(stack, 'b', a.asString);
    a.expression = b.asString;
    m.server.addOverride('labels.loop', a.asString);
    m.server.addOverride('labels.team', new TerraformLocal(stack, 'team', Fn.lower('Search')).asString);
    new SecretVariable(stack, 'deploy_token', { description: 'Token the deploy hook checks' });
    expect(synthErrors(stack)).not.toMatch(/Boundary-SecretViaVariable/);
  });

  test('a variable not marked sensitive feeding a sensitive attribute through a local is refused too', () => {
    const stack = checkedStack();
    machine(stack);
    const key = new TerraformVariable(stack, 'tls_key', { type: 'string' });
    const pem = new TerraformLocal(stack, 'tls_pem', Fn.trimspace(key.stringValue));
    new UploadedCertificate(stack, 'Cert', { name: 'app', certificate: '-----BEGIN CERTIFICATE-----', privateKey: pem.asString });
    expect(synthErrors(stack)).toMatch(/Boundary-SecretViaVariable: production\/Cert\.private_key: 'var\.tls_key' is not allowed: the variable feeding a sensitive attribute \(through local\.tls_pem\) is not marked sensitive/);
  });
});
