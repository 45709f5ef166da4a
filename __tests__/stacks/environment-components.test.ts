import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { Server } from '../../generated/providers/hcloud/server';
import { Volume } from '../../generated/providers/hcloud/volume';
import {
  Component, DataClass, EarlyAdoption, EgressAllowlist, Machine, Phase, PostgresDatabase, Product, ProductProps, S3Provider, SecretVariable, ServerType, SshKey,
} from '../../lib';
import { EnvironmentStack, ProductStacks } from '../../stacks';
import { policy } from '../boundary/fixtures';
import { admin, backup, monitoring } from '../setup/product-basics';
import { warningsOf } from '../setup/stack';

// Audit (roadmap): a postponed component built directly in an environment stack passed synth, and postponed.md still
// called it postponed. Phase 1 production took a second machine with its own PostgreSQL (a split app/DB), a
// separate monitoring machine, a 48-core "inference" box, a raw hcloud_server or a raw hcloud_volume, with no early
// adoption and no reason; only a DataVolume and the stack's own monitoring machine were declared to the phase.

interface Built { readonly error: string; readonly warnings: string[]; readonly postponed?: { postponed: Array<{ component: string; status: string; reason?: string }> } }

function build(phase: Phase, add: (production: EnvironmentStack) => void, earlyAdoptions: EarlyAdoption[] = []): Built {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'environment-components-'));
  const app = new App({ outdir });
  // From Phase 2 one backup copy is offsite.
  const backups = phase === Phase.ONE ? backup : { ...backup, offsite: S3Provider.SCALEWAY };
  const stacks = new ProductStacks(app, new Product({ name: 'acme', phase, admin, stateBucket: 'acme-state', boundary: policy, backup: backups, monitoring, earlyAdoptions } as ProductProps));
  add(stacks.production);
  const warnings = () => warningsOf(stacks.production).filter((w) => w.startsWith('Roadmap-'));
  try {
    app.synth();
  } catch (e) {
    return { error: (e as Error).message, warnings: warnings() };
  }
  return { error: '', warnings: warnings(), postponed: JSON.parse(fs.readFileSync(path.join(outdir, 'products/acme/postponed.json'), 'utf8')) };
}

/** A second machine in production, on its private network, with restricted egress (as the boundary requires). */
function secondMachine(stack: EnvironmentStack, id: string, role: string, serverType = ServerType.CX23): Machine {
  const machine = new Machine(stack, id, {
    environment: stack.environment, role, name: `acme-production-${role}`, serverType, sshKeys: [SshKey.fromName('acme-production-ops')],
    adminCidrs: admin.cidrs, dataClasses: [DataClass.SENSITIVE, DataClass.SECRET], privateNetwork: stack.network, privateIp: '10.0.1.9',
  });
  EgressAllowlist.apply(machine, { policy });
  return machine;
}

function separateDatabase(stack: EnvironmentStack): void {
  const machine = secondMachine(stack, 'Db', 'db');
  new PostgresDatabase(stack, 'SeparateDatabase', {
    machine, privateAddress: '10.0.1.9', privateSubnet: '10.0.1.0/24', database: 'app',
    password: new SecretVariable(stack, 'separate_database_password', { description: 'Password of the app role of the separate database' }),
    withoutBackup: 'a throwaway replica for the audit test only',
  });
}

const REASON = 'Tenant contracts require the database on a host of its own from the first pilot.';

describe('a postponed component built directly in an environment stack', () => {
  test('a PostgreSQL on a second machine is the separate database server: Phase 1 refuses it without an early adoption', () => {
    const { error } = build(Phase.ONE, separateDatabase);
    expect(error).toContain("acme-production/Db: component 'split-app-db' is not allowed: Phase 1 postpones Separate database server");
    expect(error).toContain('earlyAdoptions: [{ component: Component.SPLIT_APP_DB');
  });

  test('adopted early with its reason, it is built, and the postponed list says so', () => {
    const { error, postponed } = build(Phase.ONE, separateDatabase, [{ component: Component.SPLIT_APP_DB, reason: REASON }]);
    expect(error).toBe('');
    expect(postponed!.postponed.find((e) => e.component === 'split-app-db')).toMatchObject({ status: 'adopted early', reason: REASON });
  });

  test('Phase 3 permits the split: no adoption needed', () => {
    expect(build(Phase.THREE, separateDatabase).error).toBe('');
  });

  // A warning, not an error: a server may be none of the components (a worker, a bastion), and declaring it as one
  // would make the postponed list wrong the other way.
  test.each([
    ['a separate monitoring machine', (s: EnvironmentStack) => secondMachine(s, 'Mon', 'monitoring')],
    ['a large inference box', (s: EnvironmentStack) => secondMachine(s, 'Inference', 'inference', ServerType.CCX63)],
  ])('%s that declares nothing warns, naming the machine, its server and the fix', (_name, add) => {
    const { error, warnings } = build(Phase.ONE, add);
    expect(error).toBe('');
    expect(warnings).toEqual([expect.stringMatching(/^Roadmap-UndeclaredServer: acme-production\/(Mon|Inference)\.server 'acme-production-(monitoring|inference)' is a server beyond the one app machine Phase 1 builds here, and declares no roadmap component.*Fix: if it is one, declare it, Component\.declare\(machine, Component\.SPLIT_APP_DB\)/)]);
  });

  test('declared, it is judged as the component it is: postponed in Phase 1, built when adopted early', () => {
    const gpu = (s: EnvironmentStack) => Component.declare(secondMachine(s, 'Inference', 'inference', ServerType.CCX63), Component.GPU_BOX);
    expect(build(Phase.ONE, gpu).error).toContain("acme-production/Inference: component 'gpu-box' is not allowed: Phase 1 postpones Dedicated GPU box");
    const adopted = build(Phase.ONE, gpu, [{ component: Component.GPU_BOX, reason: REASON }]);
    expect(adopted.error).toBe('');
    expect(adopted.postponed!.postponed.find((e) => e.component === 'gpu-box')!.status).toBe('adopted early');
  });

  test('a raw hcloud_server is a server beyond the app machine too', () => {
    const { warnings } = build(Phase.ONE, (s) => new Server(s, 'Raw', { name: 'acme-production-raw', serverType: 'cx23', image: 'debian-12', location: 'fsn1' }));
    expect(warnings).toEqual([expect.stringMatching(/^Roadmap-UndeclaredServer: acme-production\/Raw\.server 'Raw' is a server beyond the one app machine Phase 1 builds here/)]);
  });

  test('a raw hcloud_volume is the data volume Phase 1 postpones, as a DataVolume is', () => {
    const { error } = build(Phase.ONE, (s) => new Volume(s, 'RawVolume', { name: 'acme-production-raw', size: 10, location: 'fsn1' }));
    expect(error).toContain("acme-production/RawVolume: component 'data-volume' is not allowed: Phase 1 postpones Attached data volume");
  });

  test("Phase 3 production's own monitoring machine is the phase's, not an extra server", () => {
    expect(build(Phase.THREE, () => undefined)).toMatchObject({ error: '', warnings: [] });
  });
});
