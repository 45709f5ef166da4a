import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, TerraformStack, Testing } from 'cdktf';
import { DataVolume, Environment, Machine, Size } from '../../lib';
import { Firewall } from '../../generated/providers/hcloud/firewall';
import { HetznerStandIn } from '../../testing';
import { warningsOf } from '../setup/stack';
import { KEY, OTHER_KEY, teamStack, TeamStackOptions } from './team-stacks';

// The other half of project-uniqueness.test.ts: what synth now reports, Hetzner refused at the second deploy. Real
// Terraform applies each pair of stacks into one simulated project (one cloud file, as one token deploys to one
// project). A team's own stacks may as well go to two projects (a token each), so synth warns about them; a pair in
// one stack (one provider) it refuses, and that stack is taken as synth wrote it before the check.

/** The App's second stack, built beside `first`: synth warns about the pair, and deploys it as written. */
function reportedSecond(options: TeamStackOptions & { id: string }, first: TeamStackOptions & { id: string }): Record<string, unknown> {
  const app: App = Testing.app();
  teamStack(app, first.id, first);
  const second: TerraformStack = teamStack(app, options.id, options);
  const json = JSON.parse(Testing.synth(second, true));
  expect(warningsOf(second).filter((w) => w.startsWith('Hetzner-NameTakenInProject: ') && /would fail with uniqueness_error/.test(w)).length).toBeGreaterThan(0);
  return json;
}

describe('the stand-in, like Hetzner, refuses the second stack\'s namesakes in one project with uniqueness_error', () => {
  const standIn = HetznerStandIn.shared();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'project-uniqueness-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A fresh simulated project with `acme-production` (a machine, its key, a volume and a network) deployed in it. */
  function projectWithProduction(name: string): string {
    const cloudFile = path.join(dir, `${name}.cloud.json`);
    const app = Testing.app();
    const production = standIn.workspace(teamStack(app, 'acme-production', { volumeName: 'acme-data', networkName: 'acme-network' }), { cloudFile });
    const deployed = production.apply();
    if (!deployed.ok) throw new Error(deployed.stdout + deployed.stderr);
    return cloudFile;
  }
  const production = { id: 'acme-production', volumeName: 'acme-data', networkName: 'acme-network' };

  test('a second production stack with a machine of the same name: its firewall and addresses are refused', () => {
    const cloudFile = projectWithProduction('same-machine');
    const json = reportedSecond({ id: 'acme-workers', keyName: 'acme-workers-admin', publicKey: OTHER_KEY }, production);
    const run = standIn.workspace(json, { name: 'acme-workers', cloudFile }).apply();
    expect(run.ok).toBe(false);
    expect(run.stdout + run.stderr).toMatch(/(firewall|primary ip) name is already used \(uniqueness_error/);
  }, 180_000);

  test('the admin key registered again under another name is refused by its fingerprint', () => {
    const cloudFile = projectWithProduction('same-key');
    const json = reportedSecond({ id: 'acme-workers', machineName: 'acme-worker', keyName: 'acme-workers-admin', publicKey: `${KEY} ci@acme.eu` }, production);
    const run = standIn.workspace(json, { name: 'acme-workers', cloudFile }).apply();
    expect(run.ok).toBe(false);
    expect(run.stdout + run.stderr).toMatch(/SSH key with the same fingerprint already exists/);
    expect(run.stdout + run.stderr).toMatch(/uniqueness_error/);
  }, 180_000);

  test('staging, in production\'s project, with production\'s volume and network names: both are refused', () => {
    const cloudFile = projectWithProduction('staging');
    const staging = { id: 'acme-staging', environment: Environment.STAGING, machineName: 'acme-staging-web', keyName: 'acme-staging-admin', publicKey: OTHER_KEY, volumeName: 'acme-data', networkName: 'acme-network' };
    const run = standIn.workspace(reportedSecond(staging, production), { name: 'acme-staging', cloudFile }).apply();
    expect(run.ok).toBe(false);
    expect(run.stdout + run.stderr).toMatch(/network name is already used \(uniqueness_error/);
    expect(run.stdout + run.stderr).toMatch(/volume name is already used \(uniqueness_error/);
  }, 180_000);

  test('two volumes of one name in one stack: the second is refused', () => {
    const app = Testing.app();
    const stack = teamStack(app, 'acme-production', { volumeName: 'acme-data' });
    new DataVolume(stack, 'Logs', { machine: stack.node.findChild('Web') as Machine, size: Size.gibibytes(10), name: 'acme-data', withoutBackup: 'logs shipped elsewhere within the minute' });
    expect(() => Testing.synth(stack, true)).toThrow(/acme-production\/Logs\/Resource\.name: 'acme-data' is not allowed: acme-production\/Data\/Resource is in the same stack/);
    const run = standIn.workspace(JSON.parse(Testing.synth(stack)), { name: 'acme-production', cloudFile: path.join(dir, 'one-stack.cloud.json') }).apply();
    expect(run.ok).toBe(false);
    expect(run.stdout + run.stderr).toMatch(/volume name is already used \(uniqueness_error/);
  }, 180_000);

  // What project-uniqueness.test.ts now reports at synth: the 51st firewall of an account (here one project), refused by Hetzner at apply.
  test('two stacks with 26 firewalls each: the second deploy is refused at its 51st firewall (resource_limit_exceeded)', () => {
    const cloudFile = path.join(dir, 'firewall-limit.cloud.json');
    const app = Testing.app();
    const stacks = [teamStack(app, 'acme-web'), teamStack(app, 'acme-workers', { machineName: 'acme-worker', keyName: 'acme-workers-admin', publicKey: OTHER_KEY })];
    stacks.forEach((stack) => {
      for (let i = 0; i < 25; i += 1) new Firewall(stack, `Extra${i}`, { name: `${stack.node.id}-extra-${i}-firewall` });
    });
    const jsons = stacks.map((stack) => JSON.parse(Testing.synth(stack, true)));
    expect(stacks.flatMap(warningsOf).filter((w) => w.startsWith("Hetzner-FirewallsInAccount: acme-web.firewalls: '52 firewalls' is not allowed"))).toHaveLength(1);
    const first = standIn.workspace(jsons[0], { name: 'acme-web', cloudFile }).apply();
    expect(first.stdout + first.stderr).not.toMatch(/resource_limit_exceeded/);
    expect(first.ok).toBe(true);
    const second = standIn.workspace(jsons[1], { name: 'acme-workers', cloudFile }).apply();
    expect(second.ok).toBe(false);
    expect(second.stdout + second.stderr).toMatch(/firewall limit exceeded.*\(resource_limit_exceeded/);
  }, 300_000);

  test('the same stack with names and a key of its own deploys into that project (synth lets it through)', () => {
    const cloudFile = projectWithProduction('own-names');
    const app = Testing.app();
    teamStack(app, 'acme-production', production);
    const workers = teamStack(app, 'acme-workers', { machineName: 'acme-worker', keyName: 'acme-workers-admin', publicKey: OTHER_KEY, volumeName: 'acme-worker-data', networkName: 'acme-workers-network' });
    const run = standIn.workspace(workers, { cloudFile }).apply();
    expect(run.stdout + run.stderr).not.toMatch(/uniqueness_error/);
    expect(run.ok).toBe(true);
  }, 180_000);
});
