import { createHash } from 'crypto';
import { Environment, Machine, SecretVariable, ServerType, SshKey } from '../../lib';
import { HetznerStandIn, StandInWorkspace } from '../../testing';
import { ADMIN_CIDRS, synthJson, testStack } from '../setup/stack';

// Audit (secrets): the rollout's `triggers_replace.inputs` was `nonsensitive(sha256(join("\n", [server id,
// secrets…])))`. A staging machine's only secret is the database password, so plans (CI logs) and the
// state's readable attributes carried sha256("<server id>\n<password>"), with the server id printed beside
// it: a password anyone with the log could test guesses against offline, and a rotation printed the new one's.

const ADMIN_PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu';
const FIRST = 'Weak-but-long-pw-1';
const ROTATED = 'Weak-but-long-pw-2';

function stagingStack() {
  const { stack } = testStack('acme-staging');
  const machine = new Machine(stack, 'App', {
    environment: Environment.STAGING, role: 'app', serverType: ServerType.CX23,
    sshKeys: [new SshKey(stack, 'Admin', { name: 'admin', publicKey: ADMIN_PUBLIC_KEY })], adminCidrs: ADMIN_CIDRS,
  });
  const password = new SecretVariable(stack, 'database_app_password', { description: 'Password of the app role' });
  machine.addBundlePart({ name: 'app-env', files: [{ path: '/etc/app.env', content: `DATABASE_PASSWORD=${password.stringValue}\n`, permissions: '0600' }] });
  return synthJson(stack);
}

/** The old digest of a password, as anyone holding the plan could compute it from a guess. */
const digestOf = (serverId: string, password: string) => createHash('sha256').update(`${serverId}\n${password}`).digest('hex');

describe("a rollout's inputs digest", () => {
  const standIn = HetznerStandIn.shared();
  let ws: StandInWorkspace;
  let serverId: string;

  beforeAll(() => {
    ws = standIn.workspace(stagingStack());
    ws.setVariables({ TF_VAR_database_app_password: FIRST }).setConfiguration(stagingStack());
    const run = ws.apply();
    if (!run.ok) throw new Error(run.stdout + run.stderr);
    serverId = String(ws.state().values.root_module.resources.find((r: any) => r.type === 'hcloud_server').values.id);
  }, 120_000);

  test('is a sensitive value in the state: no readable attribute holds a hash of the password', () => {
    const rollout = ws.state().values.root_module.resources.find((r: any) => r.type === 'terraform_data' && r.values.triggers_replace?.bundle);
    expect(rollout.sensitive_values.triggers_replace).toMatchObject({ inputs: true });
    const shown = ws.terraformRun(['show', '-no-color']);
    expect(shown.stdout).toMatch(/inputs\s+= \(sensitive value\)/);
    expect(shown.stdout).not.toContain(digestOf(serverId, FIRST));
  }, 120_000);

  test('a rotated password still replaces the rollout, and the plan shows only that the inputs changed', () => {
    ws.setVariables({ TF_VAR_database_app_password: ROTATED });
    const planned = ws.plan();
    expect(planned.changes?.replacements.map((c) => c.type)).toEqual(['terraform_data']);
    // The plan as a person reads it (ws.plan() removes the plan file it saved, which holds the passwords in clear).
    const text = ws.terraformRun(['plan', '-input=false', '-no-color']).stdout;
    expect(text).toMatch(/~ inputs = \(sensitive value\)/);
    const printed = planned.run.stdout + planned.run.stderr + text;
    for (const password of [FIRST, ROTATED]) {
      expect(printed).not.toContain(password);
      expect(printed).not.toContain(digestOf(serverId, password));
    }
  }, 120_000);
});
