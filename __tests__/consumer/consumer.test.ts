import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// Proves the way teams import the library: pack it, install the tarball into a fresh project
// standing in for a team's own IaC repo, type-check an app against it, and synthesize it.
const ROOT = path.resolve(__dirname, '..', '..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

const APP = `
import { App } from 'cdktf';
import {
  AiActRole, AlertReceiver, BoundaryPolicy, DataClass, DeadMansSwitch, EgressForm, Environment, MonitoringPlan, Phase, Processor, Product,
  RestoreCheck, StagingMode, UptimeCheck,
} from 'cdktf-sovereign-hetzner';
import { ProductStacks } from 'cdktf-sovereign-hetzner/stacks';

const app = new App();
const product = new Product({
  name: 'acme',
  phase: Phase.ONE,
  admin: {
    sshPublicKeys: { ops: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu' },
    cidrs: ['198.51.100.0/24'],
  },
  stateBucket: 'acme-tfstate',
  staging: StagingMode.reuseTestMachine(),
  boundary: new BoundaryPolicy({
    aiActRoles: [AiActRole.DEPLOYER],
    egress: [{ dataClass: DataClass.PUBLIC, to: [Processor.mistralAi()], form: EgressForm.RAW }],
  }),
  backup: { restoreChecks: [RestoreCheck.sql('users-present', { database: 'app', query: 'SELECT count(*) > 0 FROM users' })] },
  monitoring: new MonitoringPlan({
    uptimeChecks: [UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health')],
    receivers: [AlertReceiver.webhook('ops', { hostname: 'chat.acme.eu' })],
    deadMansSwitch: DeadMansSwitch.healthchecksIo(),
  }),
});
new ProductStacks(app, product);
app.synth();
`;

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, CHECKPOINT_DISABLE: '1', npm_config_audit: 'false', npm_config_fund: 'false' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('a team consuming the packed library', () => {
  let project: string;
  let pkgVersions: { cdktf: string; constructs: string };

  beforeAll(() => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'consumer-'));
    const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], ROOT));
    const tarball = path.join(work, packed[0].filename);
    const rootPkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    pkgVersions = { cdktf: rootPkg.devDependencies.cdktf, constructs: rootPkg.devDependencies.constructs };

    project = path.join(work, 'team-iac');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'team-iac', private: true, version: '1.0.0' }));
    // The same settings as `cdktf init --template=typescript` (node10 module resolution, CommonJS).
    fs.writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2020', lib: ['es2020'], module: 'CommonJS', moduleResolution: 'node', strict: true, skipLibCheck: true, types: [] },
      files: ['main.ts'],
    }));
    fs.writeFileSync(path.join(project, 'main.ts'), APP);
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, `cdktf@${pkgVersions.cdktf}`, `constructs@${pkgVersions.constructs}`], project);
  }, 300_000);

  test('ships the library, the stacks and the bindings, but not the tests or examples', () => {
    const installed = path.join(project, 'node_modules', 'cdktf-sovereign-hetzner');
    expect(fs.existsSync(path.join(installed, 'dist', 'lib', 'index.d.ts'))).toBe(true);
    expect(fs.existsSync(path.join(installed, 'dist', 'stacks', 'index.d.ts'))).toBe(true);
    expect(fs.existsSync(path.join(installed, 'dist', 'generated', 'providers', 'hcloud', 'server', 'index.js'))).toBe(true);
    expect(fs.existsSync(path.join(installed, 'dist', 'examples'))).toBe(false);
    expect(fs.existsSync(path.join(installed, '__tests__'))).toBe(false);
  });

  test('every relative link of the README reaches a file inside the package, and the package says where it lives', () => {
    const installed = path.join(project, 'node_modules', 'cdktf-sovereign-hetzner');
    const readme = fs.readFileSync(path.join(installed, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\((?!https?:|#)([^)#\s]+)/g)].map((m) => m[1]);
    expect(links).toEqual(expect.arrayContaining(['docs/day-2.md', 'docs/backup.md']));
    for (const link of links) expect([link, fs.existsSync(path.join(installed, link))]).toEqual([link, true]);
    const pkg = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8'));
    expect(pkg).toMatchObject({ repository: { url: expect.any(String) }, homepage: expect.any(String), bugs: { url: expect.any(String) } });
  });

  test('installs a single copy of cdktf and constructs, shared with the team', () => {
    expect(fs.existsSync(path.join(project, 'node_modules', 'cdktf-sovereign-hetzner', 'node_modules', 'constructs'))).toBe(false);
    expect(fs.existsSync(path.join(project, 'node_modules', 'cdktf-sovereign-hetzner', 'node_modules', 'cdktf'))).toBe(false);
  });

  test("type-checks and synthesizes the team's app", () => {
    run(process.execPath, [TSC, '-p', 'tsconfig.json'], project);
    run(process.execPath, ['main.js'], project);
    const synthesized = JSON.parse(fs.readFileSync(path.join(project, 'cdktf.out', 'stacks', 'acme-production', 'cdk.tf.json'), 'utf8'));
    const [server] = Object.values(synthesized.resource.hcloud_server) as any[];
    expect(server).toMatchObject({ name: 'acme-production-app', server_type: 'cx33', delete_protection: true, location: 'fsn1' });
    expect(synthesized.terraform.backend.s3.bucket).toBe('acme-tfstate');
    expect(Object.values(synthesized.resource.hcloud_storage_box)).toHaveLength(1);
    expect(fs.readFileSync(path.join(project, 'cdktf.out', 'products', 'acme', 'boundary.md'), 'utf8')).toMatch(/# Data boundary: acme/);
  }, 120_000);
});
