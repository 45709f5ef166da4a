import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TerraformResource } from 'cdktf';
import { Environment, Location, Machine, ServerType, SshKey } from '../../lib';
import { describeLoss, protectedLosses } from '../../cli/guard';
import { deployedForGuard, guard } from './cli';
import { PRIVATE_DIR_PREFIX, STATE_KEYS_FILE_VARIABLE } from '../../cli/guard';
import { HetznerStandIn, stackJson, StandInWorkspace } from '../../testing';
import { ADMIN_CIDRS, testStack } from '../setup/stack';

// A renamed construct ID in production: the old address leaves the configuration, so `prevent_destroy` never sees
// its deletion, and the plan creates the new server and deletes the old one. Hetzner's delete protection refuses the
// delete only at apply, by when the new server may exist. `guard` stops such a plan before anything changes.

const ADMIN_PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu';

/** A one-machine stack of `environment`, its machine under construct ID `id`; `moves` maps new resources to old addresses. */
function oneMachine(environment: Environment, id: string, moves: (machine: Machine) => void = () => undefined) {
  const { stack } = testStack(`acme-${environment.name}`);
  const machine = new Machine(stack, id, {
    environment, role: 'app', serverType: ServerType.CX33, location: Location.NBG1, adminCidrs: ADMIN_CIDRS,
    sshKeys: [new SshKey(stack, 'Admin', { name: 'admin', publicKey: ADMIN_PUBLIC_KEY })],
  });
  moves(machine);
  return stackJson(stack);
}

describe('guard: a plan that deletes a protected resource is refused before anything changes', () => {
  const standIn = HetznerStandIn.shared();
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'guard-'));
  /** A stack deployed once, laid out as `cdktf synth` writes it (DIR/stacks/STACK), with its own simulated project. */
  function deployed(environment: Environment): { ws: StandInWorkspace; env: NodeJS.ProcessEnv; stack: string } {
    const stack = `acme-${environment.name}`;
    return { stack, ...deployedForGuard(standIn, outdir, stack, oneMachine(environment, 'App')) };
  }
  const addressesOf = (ws: StandInWorkspace, type: string): string[] =>
    ws.state().values.root_module.resources.filter((r: any) => r.type === type).map((r: any) => r.address);
  // This process's only: another suite's guard may run beside this one, in the run's temp directory.
  const guardFiles = () => fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith(`${PRIVATE_DIR_PREFIX}${process.pid}-`));

  let production: ReturnType<typeof deployed>;
  beforeAll(() => { production = deployed(Environment.PRODUCTION); }, 180_000);
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  test('an unchanged production plan passes', async () => {
    const result = await guard([production.stack, '--out', outdir], production.env);
    expect(result).toMatchObject({ code: 0, out: expect.stringMatching(/^guard: acme-production's plan deletes no protected resource \(0 to add, \d+ to change, 0 to destroy\)\.$/) });
  }, 120_000);

  // Helper (release rehearsal, fifth pass): a release removing an admin key (a rotation's second deploy) is told by its
  // guard which keys production's state registers, the removed one among them: production accepts it until its deploy.
  test("asked by a release, the guard writes the SSH keys production's state registers, a key the configuration removes among them", async () => {
    const rotated = ADMIN_PUBLIC_KEY.replace('AAAAIJiLWy4', 'AAAAIKiLWy4');
    production.ws.setConfiguration(JSON.parse(JSON.stringify(oneMachine(Environment.PRODUCTION, 'App')).split(ADMIN_PUBLIC_KEY).join(rotated)));
    const keysFile = path.join(outdir, 'state-keys');
    await guard([production.stack, '--out', outdir], { ...production.env, [STATE_KEYS_FILE_VARIABLE]: keysFile });
    expect(fs.readFileSync(keysFile, 'utf8')).toBe(`${ADMIN_PUBLIC_KEY}\n`);
  }, 120_000);

  test('a renamed machine in production: refused, naming each protected address, the new one, and the fix; nothing is applied', async () => {
    const [oldServer] = addressesOf(production.ws, 'hcloud_server');
    const oldIps = addressesOf(production.ws, 'hcloud_primary_ip');
    expect(oldIps).toHaveLength(2);
    production.ws.setConfiguration(oneMachine(Environment.PRODUCTION, 'Application'));
    const before = JSON.stringify(production.ws.cloud().objects);
    const result = await guard([production.stack, '--out', outdir], production.env);
    expect(result.code).toBe(1);
    const newServer = result.err.match(/It also creates (hcloud_server\.Application\w+):/)?.[1];
    expect(newServer).toBeDefined();
    expect(result.err).toContain(`acme-production's plan deletes ${oldServer}, protected by Hetzner's delete protection, on in the state. `
      + 'Hetzner refuses the delete only at apply, after Terraform may already have created what takes its place. '
      + `It also creates ${newServer}: most likely a renamed construct ID, which \`prevent_destroy\` cannot see. `
      + `Fix: keep the old construct ID; or move the state to the new address (\`moveFromId('${oldServer}')\` on the new resource, `
      + `or \`terraform state mv '${oldServer}' '${newServer}'\` in ${path.join(outdir, 'stacks', 'acme-production')})`);
    for (const ip of oldIps) expect(result.err).toContain(`plan deletes ${ip}, protected by Hetzner's delete protection`);
    expect(result.err).toMatch(/guard: acme-production's plan would lose 3 protected resources: do not deploy it\.$/);
    // It planned only: the project is as it was, and the plan file (every variable in clear) is gone.
    expect(JSON.stringify(production.ws.cloud().objects)).toBe(before);
    expect(guardFiles()).toEqual([]);
    expect(fs.readdirSync(path.join(outdir, 'stacks', production.stack)).filter((f) => /plan/.test(f))).toEqual([]);
  }, 120_000);

  test('--print-plan prints the plan it guards, as terraform plan shows it, before the verdict', async () => {
    const result = await guard([production.stack, '--out', outdir, '--print-plan'], production.env);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/Terraform will perform the following actions:[\s\S]*# hcloud_server\.App_\w+ will be destroyed[\s\S]*Plan: \d+ to add, \d+ to change, \d+ to destroy\./);
    expect(result.err).toMatch(/would lose 3 protected resources/);
    expect(guardFiles()).toEqual([]);
  }, 120_000);

  test('the same rename with the state moved to the new addresses passes', async () => {
    const [oldServer] = addressesOf(production.ws, 'hcloud_server');
    const oldIp = (id: string) => addressesOf(production.ws, 'hcloud_primary_ip').find((a) => a.startsWith(`hcloud_primary_ip.App_${id}_`))!;
    const [oldIpv4, oldIpv6] = [oldIp('Ipv4'), oldIp('Ipv6')];
    expect([oldIpv4, oldIpv6]).toEqual([expect.any(String), expect.any(String)]);
    production.ws.setConfiguration(oneMachine(Environment.PRODUCTION, 'Application', (m) => {
      (m.server as TerraformResource).moveFromId(oldServer);
      (m.ipv4 as TerraformResource).moveFromId(oldIpv4);
      (m.ipv6 as TerraformResource).moveFromId(oldIpv6);
    }));
    const result = await guard([production.stack, '--out', outdir], production.env);
    expect(result).toMatchObject({ code: 0, out: expect.stringMatching(/deletes no protected resource \(\d+ to add, \d+ to change, [1-9]\d* to destroy\)/) });
  }, 120_000);

  test('in test nothing is delete-protected: the same rename passes (test data is rebuilt, not kept)', async () => {
    const test = deployed(Environment.TEST);
    test.ws.setConfiguration(oneMachine(Environment.TEST, 'Application'));
    const result = await guard([test.stack, '--out', outdir], test.env);
    expect(result).toMatchObject({ code: 0, out: expect.stringMatching(/deletes no protected resource \(\d+ to add, \d+ to change, [1-9]\d* to destroy\)/) });
  }, 180_000);

  test('a plan that cannot be made fails with Terraform\'s words, its Fix naming check … --plan with --out only when guard read a non-default output; a stack that was not synthesized says to synthesize', async () => {
    const missing = await guard(['acme-nothing', '--out', outdir], production.env);
    expect(missing).toMatchObject({ code: 1, err: expect.stringMatching(/no stack named 'acme-nothing' in the last synth into .*\. Fix: pass one of acme-production, acme-test, or synthesize the app that defines acme-nothing again/) });
    const broken = path.join(outdir, 'stacks', 'acme-broken');
    fs.mkdirSync(broken, { recursive: true });
    fs.writeFileSync(path.join(broken, 'cdk.tf.json'), JSON.stringify({ output: { o: { value: '${var.nope}' } } }));
    const unplannable = await guard(['acme-broken', '--out', outdir], production.env);
    expect(unplannable).toMatchObject({ code: 1, err: expect.stringMatching(/terraform plan in .*acme-broken failed \(exit 1\):[\s\S]*Reference to undeclared input variable[\s\S]*\nFix: see Terraform's words above; for a variable or credential left unset, /) });
    // The check it names reads where guard read: `--out` is passed on, unless guard read the default output.
    expect(unplannable.err).toContain(`\`cdktf-sovereign-hetzner check acme-broken --plan --out ${outdir}\` lists each one`);
    fs.writeFileSync(path.join(outdir, 'cdktf.json'), JSON.stringify({ output: '.' }));
    const cwd = process.cwd();
    process.chdir(outdir);
    try {
      const byDefault = await guard(['acme-broken'], production.env);
      expect(byDefault).toMatchObject({ code: 1, err: expect.stringContaining("for a variable or credential left unset, `cdktf-sovereign-hetzner check acme-broken --plan` lists each one") });
    } finally {
      process.chdir(cwd);
      fs.rmSync(path.join(outdir, 'cdktf.json'));
    }
    const noTerraform = await guard([production.stack, '--out', outdir], { ...production.env, TERRAFORM_BINARY_NAME: path.join(outdir, 'no-terraform') });
    expect(noTerraform).toMatchObject({ code: 1, err: expect.stringMatching(/could not run: .*Fix: install Terraform, or set TERRAFORM_BINARY_NAME/) });
    // Audit (secrets11): Terraform's init quotes a module's source as written (a suppressed private module fetched with a
    // Git token in its URL), and guard printed its words as they were. Port 1 on loopback refuses the clone.
    const privateModule = path.join(outdir, 'stacks', 'acme-private-module');
    fs.mkdirSync(privateModule, { recursive: true });
    const token = 'glpatXq7RkT2mVb9LsW4nPz8D';
    fs.writeFileSync(path.join(privateModule, 'cdk.tf.json'), JSON.stringify({ module: { infra: { source: `git::https://oauth2:${token}@127.0.0.1:1/acme/infra.git` } } }));
    const unfetchable = await guard(['acme-private-module', '--out', outdir], production.env);
    expect(unfetchable).toMatchObject({ code: 1, err: expect.stringMatching(/terraform init in .*acme-private-module failed \(exit 1\):[\s\S]*Failed to download module[\s\S]*git::https:\/\/<redacted>@127\.0\.0\.1:1\/acme\/infra\.git/) });
    expect(unfetchable.err).not.toContain(token);
    expect(guardFiles()).toEqual([]);
  }, 60_000);
});

describe('guard arguments', () => {
  test.each([
    [[], /guard takes one stack, got none\. Fix: name the stack to deploy/],
    [['acme-test', 'acme-production'], /guard takes one stack, got acme-test, acme-production\./],
    [['acme-production', '--plan'], /unknown option '--plan' for guard\. Fix: see `cdktf-sovereign-hetzner help guard`/],
    [['acme-production', '--out'], /--out needs a value\./],
    [['acme-production', '--print-plan', '--plan-json', 'plan.json'], /--print-plan prints the plan guard makes, and --plan-json reads one made elsewhere\. Fix: pass one of them\./],
  ])('%j is refused before anything runs', async (args, message) => {
    expect(await guard(args, {})).toMatchObject({ code: 2, err: expect.stringMatching(message) });
  });

  // A plan refreshes the state through the provider, so an HCLOUD_ENDPOINT elsewhere already receives the token.
  test('refuses to plan when an HCLOUD_…ENDPOINT points the provider away from Hetzner, naming the variable and never its value', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'guard-endpoint-'));
    fs.mkdirSync(path.join(out, 'stacks', 'acme-production'), { recursive: true });
    fs.writeFileSync(path.join(out, 'stacks', 'acme-production', 'cdk.tf.json'), '{}');
    // Terraform is missing: had guard run it, it would say so instead.
    const noTerraform = { TERRAFORM_BINARY_NAME: path.join(out, 'no-terraform') };
    for (const name of ['HCLOUD_ENDPOINT', 'HCLOUD_HETZNER_ENDPOINT']) {
      const result = await guard(['acme-production', '--out', out], { ...noTerraform, [name]: 'https://ops:s3cret@api.example.net/v1' });
      expect(result).toMatchObject({ code: 1, err: expect.stringMatching(new RegExp(`^error: ${name} is set to a host other than Hetzner's API .*Fix: unset ${name} before planning`)) });
      expect(result.err).not.toMatch(/s3cret|example\.net/);
    }
    // Hetzner's own endpoints (a trailing slash too) and the stand-in's file: URL reach Terraform.
    for (const [name, value] of [['HCLOUD_ENDPOINT', 'https://api.hetzner.cloud/v1/'], ['HCLOUD_HETZNER_ENDPOINT', 'https://api.hetzner.com/v1'], ['HCLOUD_ENDPOINT', 'file:///tmp/cloud.json']]) {
      expect(await guard(['acme-production', '--out', out], { ...noTerraform, [name]: value })).toMatchObject({ code: 1, err: expect.stringMatching(/could not run: /) });
    }
    fs.rmSync(out, { recursive: true, force: true });
  });

  // Review (redactfix11): guard kept the last 4000 characters of Terraform's words and then redacted them; a cut inside
  // a module's source URL (`//oauth2:<token>@…`) left no scheme to know it by, and the token was printed.
  test('Terraform\'s words are redacted before they are cut to their end', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'guard-cut-'));
    fs.mkdirSync(path.join(out, 'stacks', 'acme-production'), { recursive: true });
    fs.writeFileSync(path.join(out, 'stacks', 'acme-production', 'cdk.tf.json'), '{}');
    const token = 'glpatXq7RkT2mVb9LsW4nPz8D';
    // Terraform's init as it fails on a private module, its last 4000 characters starting at the URL's `//`.
    const url = `//oauth2:${token}@127.0.0.1:1/acme/infra.git`;
    const words = 'Error: Failed to download module\n\nCould not download module "infra" source code from "git::https:'
      + `${url}": ${'remote: Repository not found; '.repeat(200)}`.slice(0, 3999) + '.';
    const terraform = path.join(out, 'terraform');
    fs.writeFileSync(terraform, `#!/bin/sh\ncat >&2 <<'EOF'\n${words}\nEOF\nexit 1\n`, { mode: 0o755 });
    const result = await guard(['acme-production', '--out', out], { TERRAFORM_BINARY_NAME: terraform });
    expect(result).toMatchObject({ code: 1, err: expect.stringMatching(/terraform init in .* failed \(exit 1\):\n/) });
    expect(result.err).not.toContain(token);
    expect(result.err).toContain('<redacted>@127.0.0.1:1/acme/infra.git');
    fs.rmSync(out, { recursive: true, force: true });
  });

  test('--plan-json reads a plan made elsewhere, and refuses a file that is not one', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guard-json-'));
    const plan = path.join(dir, 'plan.json');
    fs.writeFileSync(plan, JSON.stringify({ format_version: '1.2', resource_changes: [
      { address: 'hcloud_volume.Data', type: 'hcloud_volume', change: { actions: ['delete'], before: { delete_protection: true } } }] }));
    expect(await guard(['acme-production', '--plan-json', plan], {})).toMatchObject({ code: 1, err: expect.stringMatching(/^acme-production's plan deletes hcloud_volume\.Data, protected by Hetzner's delete protection/) });
    fs.writeFileSync(plan, JSON.stringify({ values: {} }));
    expect(await guard(['acme-production', '--plan-json', plan], {})).toMatchObject({ code: 1, err: expect.stringMatching(/is not a plan as `terraform show -json <planfile>` prints it/) });
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('protectedLosses', () => {
  /** One resource change as `terraform show -json` prints it. */
  const change = (type: string, name: string, actions: string[], before: Record<string, unknown> | null) =>
    ({ address: `${type}.${name}`, type, name, change: { actions, before, after: actions.includes('create') ? {} : null } });

  test("a production Storage Box sub-account is protected though it has no delete protection: a new one is a new login", () => {
    const labels = (environment: string) => ({ 'managed-by': 'cdktf-sovereign-hetzner', environment, role: 'backups' });
    const plan = { resource_changes: [
      change('hcloud_storage_box_subaccount', 'Old', ['delete'], { labels: labels('production') }),
      change('hcloud_storage_box_subaccount', 'New', ['create'], null),
      change('hcloud_storage_box_subaccount', 'TestOld', ['delete'], { labels: labels('test') }),
      change('hcloud_firewall', 'Old', ['delete'], { labels: labels('production') }),
      change('hcloud_volume', 'Data', ['create', 'delete'], { delete_protection: true }),
      change('hcloud_volume', 'Scratch', ['delete', 'create'], { delete_protection: false }),
      change('hcloud_server', 'App', ['update'], { delete_protection: true }),
    ] };
    expect(protectedLosses(plan).map((l) => [l.address, l.createdOfSameType])).toEqual([
      ['hcloud_storage_box_subaccount.Old', ['hcloud_storage_box_subaccount.New']],
      ['hcloud_volume.Data', []],
    ]);
  });

  test("the fix's state directory is a shell word the operator can paste, also with a space in --out", () => {
    const loss = { address: 'hcloud_server.App_1', actions: ['delete'], protectedBy: "Hetzner's delete protection", createdOfSameType: ['hcloud_server.Application_2'] };
    expect(describeLoss('acme-production', loss, 'my synth')).toContain(
      "`terraform state mv 'hcloud_server.App_1' 'hcloud_server.Application_2'` in 'my synth/stacks/acme-production')");
    expect(describeLoss('acme-production', loss, 'cdktf.out')).toContain('` in cdktf.out/stacks/acme-production)');
  });

  test('a plan without changes, or not a plan, loses nothing', () => {
    expect(protectedLosses({ format_version: '1.2' })).toEqual([]);
    expect(protectedLosses(undefined)).toEqual([]);
  });
});
