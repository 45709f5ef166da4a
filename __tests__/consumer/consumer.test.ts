import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { packedLibrary } from '../setup/packed-library';
import { brokenLinks, markdownFiles, relativeLinks } from '../docs/markdown';

// Proves the way teams import the library, on both CDKs: pack it, build the CDK Terrain package from
// that tarball (scripts/build-cdktn.js), install each into a fresh project standing in for a team's
// own IaC repo, count what the install brought, type-check an app against it, and synthesize it.
const ROOT = path.resolve(__dirname, '..', '..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const cdktnBuild = require('../../scripts/build-cdktn.js') as {
  buildCdktnPackage(options: { from?: string; out?: string }): string;
  rewriteSource(text: string): string;
  CDKTN_TOOLCHAIN: Record<string, string>;
};
const rootPkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const OPTIONAL_PEERS = Object.entries(rootPkg.peerDependenciesMeta as Record<string, { optional?: boolean }>)
  .filter(([, meta]) => meta.optional)
  .map(([name]) => name);

// The team's app, split so that the report command can load its definition without synthesizing.
const DEFINITION = `
import { App } from 'cdktf';
import {
  AiActRole, AlertReceiver, BoundaryPolicy, DataClass, DeadMansSwitch, EgressForm, Environment, MonitoringPlan, Phase, Processor, Product,
  RestoreCheck, StagingMode, UptimeCheck,
} from 'cdktf-sovereign-hetzner';
import { ProductStacks } from 'cdktf-sovereign-hetzner/stacks';

export function define(app: App): void {
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
}
`;
const MAIN = `
import { App } from 'cdktf';
import { define } from './definition';

const app = new App();
define(app);
app.synth();
`;

// What the stand-in and the report need stays out of a construct user's install; asking for them
// says what to install. Runs inside the team's project, against the installed package.
const OPTIONAL_PARTS = `
const path = require('path');
const pkg = process.argv[2];
const result = {};
const testing = require(pkg + '/testing');
result.testingLoads = typeof testing.synthesizedBundle === 'function' && typeof testing.setupStandInMatchers === 'function';
try { testing.installStandIn(require('fs').mkdtempSync(path.join(require('os').tmpdir(), 'standin-'))); result.standIn = 'installed'; }
catch (e) { result.standIn = e.message; }
const diagram = require(path.join(path.dirname(require.resolve(pkg + '/package.json')), 'dist', 'lib', 'report', 'diagram.js'));
diagram.renderSvg('digraph { a -> b }').then((svg) => { result.report = svg.slice(0, 4); }, (e) => { result.report = e.message; })
  .then(() => process.stdout.write(JSON.stringify(result)));
`;

interface Flavour {
  /** The CDK's package: the team imports it and installs it beside the library. */
  readonly cdk: 'cdktf' | 'cdktn';
  readonly library: string;
  readonly installs: (tarball: string) => string[];
  readonly source: (text: string) => string;
}

const FLAVOURS: Flavour[] = [
  {
    cdk: 'cdktf',
    library: 'cdktf-sovereign-hetzner',
    installs: (tarball) => [tarball, `cdktf@${rootPkg.devDependencies.cdktf}`, `constructs@${rootPkg.devDependencies.constructs}`],
    source: (text) => text,
  },
  {
    cdk: 'cdktn',
    library: 'cdktn-sovereign-hetzner',
    installs: (tarball) => [tarball, `cdktn@${cdktnBuild.CDKTN_TOOLCHAIN.cdktn}`, `constructs@${cdktnBuild.CDKTN_TOOLCHAIN.constructs}`],
    // The team's app moves to cdktn the way the library did: the same rewrite.
    source: (text) => cdktnBuild.rewriteSource(text),
  },
];

const ENV = { ...process.env, CHECKPOINT_DISABLE: '1', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
const execFileAsync = promisify(execFile);

async function runAsync(cmd: string, args: string[], cwd: string): Promise<string> {
  return (await execFileAsync(cmd, args, { cwd, encoding: 'utf8', env: ENV, maxBuffer: 64 * 1024 * 1024 })).stdout;
}

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  hasInstallScript?: boolean;
}

/** The lockfile locations `start` pulls in (itself, its dependencies, their dependencies...), resolved as node does. */
function closure(packages: Record<string, LockEntry>, starts: string[]): Set<string> {
  const seen = new Set<string>();
  const resolve = (from: string, name: string): string | undefined => {
    for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
      const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
      if (packages[candidate]) return candidate;
      if (!dir) return undefined;
    }
  };
  const visit = (location: string) => {
    if (seen.has(location)) return;
    seen.add(location);
    const entry = packages[location];
    const optionalPeers = new Set(Object.entries(entry.peerDependenciesMeta ?? {}).filter(([, m]) => m.optional).map(([n]) => n));
    const names = [
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.optionalDependencies ?? {}),
      ...Object.keys(entry.peerDependencies ?? {}).filter((n) => !optionalPeers.has(n)),
    ];
    for (const name of names) {
      const found = resolve(location, name);
      if (found) visit(found);
    }
  };
  for (const start of starts) if (packages[start]) visit(start);
  return seen;
}

interface Installed {
  readonly project: string;
  readonly lock: Record<string, LockEntry>;
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'consumer-'));
const installed = new Map<string, Promise<Installed>>();
/** The packed library of each CDK, as a team installs it. */
const tarballs: Record<string, string> = {};

beforeAll(async () => {
  tarballs.cdktf = packedLibrary();
  tarballs.cdktn = cdktnBuild.buildCdktnPackage({ from: tarballs.cdktf, out: work });

  // Both installs (and type-checks) run at once: they wait on the network and the disk, not on each other.
  for (const flavour of FLAVOURS) {
    installed.set(flavour.cdk, (async () => {
      const project = path.join(work, `team-iac-${flavour.cdk}`);
      fs.mkdirSync(project);
      fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'team-iac', private: true, version: '1.0.0' }));
      // The same settings as `cdktf init --template=typescript` (node10 module resolution, CommonJS).
      fs.writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({
        compilerOptions: { target: 'ES2020', lib: ['es2020'], module: 'CommonJS', moduleResolution: 'node', strict: true, skipLibCheck: true, types: [] },
        files: ['main.ts', 'definition.ts'],
      }));
      fs.writeFileSync(path.join(project, 'definition.ts'), flavour.source(DEFINITION));
      fs.writeFileSync(path.join(project, 'main.ts'), flavour.source(MAIN));
      fs.writeFileSync(path.join(project, 'optional-parts.js'), OPTIONAL_PARTS);
      await runAsync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...flavour.installs(tarballs[flavour.cdk])], project);
      await runAsync(process.execPath, [TSC, '-p', 'tsconfig.json'], project);
      const lock = JSON.parse(fs.readFileSync(path.join(project, 'package-lock.json'), 'utf8')).packages;
      return { project, lock };
    })());
  }
  // Surface an install failure here, with npm's output, rather than as a rejected promise per test.
  await Promise.all(installed.values());
}, 300_000);

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

describe.each(FLAVOURS)('a team on $cdk consuming the packed $library', (flavour) => {
  const get = () => installed.get(flavour.cdk)!;
  const libraryDir = (project: string) => path.join(project, 'node_modules', flavour.library);

  test('ships the library, the stacks and the bindings, but not the tests or examples; the provider schema once', async () => {
    const dir = libraryDir((await get()).project);
    expect(fs.existsSync(path.join(dir, 'dist', 'lib', 'index.d.ts'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'dist', 'stacks', 'index.d.ts'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'dist', 'generated', 'providers', 'hcloud', 'server', 'index.js'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'dist', 'examples'))).toBe(false);
    expect(fs.existsSync(path.join(dir, '__tests__'))).toBe(false);
    const schemas: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(d, e.name));
        else if (e.name === 'hcloud-provider-schema.json') schemas.push(path.relative(dir, path.join(d, e.name)));
      }
    };
    walk(dir);
    expect(schemas).toEqual([path.join('dist', 'schema', 'hcloud-provider-schema.json')]);
    expect(fs.existsSync(path.join(dir, 'schema', 'hcloud-replacement.json'))).toBe(true);
  });

  test('every relative link of the README and docs/ reaches a file inside the package, and the package says where it lives', async () => {
    const dir = libraryDir((await get()).project);
    const readme = relativeLinks(fs.readFileSync(path.join(dir, 'README.md'), 'utf8')).map((l) => l.target);
    expect(readme).toEqual(expect.arrayContaining(['docs/day-2.md', 'docs/backup.md']));
    // The scaffold's README sends a team to node_modules/…/docs/testing.md: the docs' links are read there too, files
    // and anchors, as the repository's own are (__tests__/docs/links.test.ts).
    const docs = markdownFiles(path.join(dir, 'docs'));
    expect(docs).toContain(path.join(dir, 'docs', 'testing.md'));
    expect(brokenLinks(dir, [path.join(dir, 'README.md'), ...docs]).wrong).toEqual([]);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    expect(pkg).toMatchObject({ name: flavour.library, repository: { url: expect.any(String) }, homepage: expect.any(String), bugs: { url: expect.any(String) } });
  });

  test(`installs a single copy of ${flavour.cdk} and constructs, shared with the team`, async () => {
    const { project, lock } = await get();
    expect(fs.existsSync(path.join(libraryDir(project), 'node_modules', 'constructs'))).toBe(false);
    expect(fs.existsSync(path.join(libraryDir(project), 'node_modules', flavour.cdk))).toBe(false);
    // One CDK only: the other one, pulled in by a stray import or peer, would split the construct tree.
    const other = flavour.cdk === 'cdktf' ? 'cdktn' : 'cdktf';
    expect(Object.keys(lock).filter((l) => l.endsWith(`node_modules/${other}`))).toEqual([]);
  });

  test(`adds at most 3 packages to what ${flavour.cdk} and constructs bring, none with an install script, none of the optional peers`, async () => {
    const { project, lock } = await get();
    const all = Object.keys(lock).filter((l) => l !== '');
    const cdk = closure(lock, [`node_modules/${flavour.cdk}`, 'node_modules/constructs']);
    const added = all.filter((l) => !cdk.has(l) && l !== `node_modules/${flavour.library}`).map((l) => l.replace(/^.*node_modules\//, ''));
    // Everything installed is accounted for by the CDK or the library (nothing stray to hide behind).
    expect(all.filter((l) => !cdk.has(l) && !closure(lock, [`node_modules/${flavour.library}`]).has(l))).toEqual([]);
    expect(added.length <= 3 ? 'at most 3' : added).toBe('at most 3');
    expect(added).toEqual(expect.arrayContaining(Object.keys(rootPkg.dependencies)));
    expect(all.filter((l) => lock[l].hasInstallScript)).toEqual([]);
    for (const peer of OPTIONAL_PEERS) expect([peer, fs.existsSync(path.join(project, 'node_modules', peer))]).toEqual([peer, false]);
  });

  test('the stand-in and the report, whose packages are optional, name what to install', async () => {
    const { project } = await get();
    const result = JSON.parse(await runAsync(process.execPath, ['optional-parts.js', flavour.library], project));
    expect(result.testingLoads).toBe(true);
    for (const name of ['@grpc/grpc-js', '@grpc/proto-loader', '@msgpack/msgpack']) {
      expect(result.standIn).toContain(`${name}@'${rootPkg.peerDependencies[name]}'`);
    }
    expect(result.standIn).toMatch(/^The Hetzner stand-in \(\S+\/testing\) .* Fix: npm install --save-dev /);
    expect(result.standIn).toContain(`${flavour.library}/testing`);
    expect(result.report).toContain(`Fix: npm install --save-dev @hpcc-js/wasm-graphviz@'${rootPkg.peerDependencies['@hpcc-js/wasm-graphviz']}'`);
    // The same through the package's command (named after the package), as a team runs it.
    const cli = await execFileAsync(path.join(project, 'node_modules', '.bin', flavour.library), ['report', '--app', 'definition.js', '--export', 'define', '--to', 'report'], { cwd: project, env: ENV })
      .then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }));
    expect(cli).toEqual({ code: 1, stderr: expect.stringMatching(/^error: The operator report .* Fix: npm install --save-dev @hpcc-js\/wasm-graphviz@/) });
  });

  // Audit (newcomer): cost --prices named the bundled price file by its path in the repository,
  // lib/cost/hetzner-prices.json, which the package does not have: the copy its fix asks for failed.
  test('cost --prices names the bundled price file where the package has it', async () => {
    const { project } = await get();
    const result = await execFileAsync(path.join(project, 'node_modules', '.bin', flavour.library), ['cost', '--app', 'definition.js', '--export', 'define', '--prices', 'our-prices.json'], { cwd: project, env: ENV })
      .then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }));
    expect(result).toEqual({ code: 1, stderr: expect.stringMatching(/^error: --prices our-prices\.json: no such file\. Fix: copy the bundled price file \((\S+)\) into your repository/) });
    const named = /copy the bundled price file \((\S+)\)/.exec(result.stderr)![1];
    expect([named, fs.existsSync(path.resolve(project, named))]).toEqual([named, true]);
  });

  test(`init scaffolds a repository on ${flavour.cdk}: its packages, its CLI, its Node`, async () => {
    const { project } = await get();
    const repo = path.join(project, 'scaffolded');
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu';
    const productionKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM8xqk9KKFzjyUm7zn9jN8qK6gUimLQcZv8WO+NIigxr ops@acme-production';
    // A Node before 22.10 as the process reports it (the test's own Node may be any): cdktn's CLI stops on it.
    const olderNode = path.join(project, 'node-22.9.js');
    fs.writeFileSync(olderNode, "Object.defineProperty(process.versions, 'node', { value: '22.9.0' });\n");
    const { stdout } = await execFileAsync(path.join(project, 'node_modules', '.bin', flavour.library),
      ['init', repo, '--name', 'acme', '--domain', 'acme.eu', '--admin-key', key, '--production-admin-key', productionKey, '--admin-cidrs', '198.51.100.0/24', '--public', 'mistral', '--budget', '30'],
      { cwd: project, env: { ...ENV, NODE_OPTIONS: `--require ${olderNode}` } });
    // The installed package's own CDK decides the note after Next: (cdktn's init on Node 20 said nothing, and the first
    // `npx cdktn synth` crashed with "markAsUncloneable is not a function"); cdktf's CLI runs on that Node.
    const afterNext = stdout.split('\n').slice(stdout.split('\n').findIndex((l) => l.startsWith('Next: ')) + 1).filter(Boolean);
    expect(afterNext).toEqual(flavour.cdk === 'cdktn'
      ? ['Note: this is Node 22.9.0, and the cdktn CLI needs 22.19 or later: npm install and npm test run on it, but npx cdktn synth (and deploy) stops at '
        + '"markAsUncloneable is not a function". Switch to Node 22.19 or later (such as nvm install 22) before the first synth.']
      : []);
    const other = flavour.cdk === 'cdktf' ? 'cdktn' : 'cdktf';
    const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'));
    // Installed from a tarball (the registry has no release of it), init without --library vendors that same build:
    // the registry's spec it wrote before stopped the new repository's npm install at E404.
    const vendored = path.join('vendor', path.basename(tarballs[flavour.cdk]));
    expect(stdout).toContain(`init: the library from ${tarballs[flavour.cdk]}, the tarball this package was installed from (--library to choose another).`);
    expect(pkg.dependencies[flavour.library]).toBe(`file:${vendored}`);
    expect(fs.readFileSync(path.join(repo, vendored)).equals(fs.readFileSync(tarballs[flavour.cdk]))).toBe(true);
    const versions = flavour.cdk === 'cdktf'
      ? { cdk: rootPkg.devDependencies.cdktf, cli: rootPkg.devDependencies['cdktf-cli'], constructs: rootPkg.devDependencies.constructs }
      : { cdk: cdktnBuild.CDKTN_TOOLCHAIN.cdktn, cli: cdktnBuild.CDKTN_TOOLCHAIN['cdktn-cli'], constructs: cdktnBuild.CDKTN_TOOLCHAIN.constructs };
    expect(pkg.dependencies).toEqual({ [flavour.library]: expect.any(String), [flavour.cdk]: versions.cdk, constructs: versions.constructs });
    expect(pkg.devDependencies[`${flavour.cdk}-cli`]).toBe(versions.cli);
    expect(pkg.devDependencies[`${other}-cli`]).toBeUndefined();
    expect(pkg.scripts.synth).toBe(`${flavour.cdk} synth`);
    // report reads the app from main.ts's defineApp, through this flavour's own command.
    expect(pkg.scripts.report).toBe(`npm run --silent build && ${flavour.library} report --app dist/main.js --export defineApp`);
    expect(pkg.devDependencies['@hpcc-js/wasm-graphviz']).toBe(rootPkg.devDependencies['@hpcc-js/wasm-graphviz']);
    // Every file speaks of this CDK only: its imports, its commands, its library.
    for (const file of ['main.ts', 'product.ts', '__tests__/stacks.test.ts', '.github/workflows/infrastructure.yml', '.gitlab-ci.yml', 'README.md']) {
      const text = fs.readFileSync(path.join(repo, file), 'utf8');
      // A command in prose counts too: `cdktf plan`, or `cdktf` alone, in a cdktn team's README.
      expect([file, text.match(new RegExp(`from '${other}|npx ${other} |\`${other}[ \`]|${other}-sovereign-hetzner`))]).toEqual([file, null]);
    }
    expect(fs.readFileSync(path.join(repo, 'main.ts'), 'utf8')).toContain(`import { App } from '${flavour.cdk}';`);
    expect(fs.readFileSync(path.join(repo, 'main.ts'), 'utf8')).toContain('export function defineApp(app: App): ProductStacks {');
    const github = fs.readFileSync(path.join(repo, '.github/workflows/infrastructure.yml'), 'utf8');
    expect(github).toContain(`npx ${flavour.cdk} deploy acme-production --auto-approve`);
    // cdktn's CLI needs Node >= 22.19.
    expect(github).toContain(`node-version: ${flavour.cdk === 'cdktf' ? 20 : 22}`);
    expect(fs.readFileSync(path.join(repo, '.gitlab-ci.yml'), 'utf8')).toContain(`image: node:${flavour.cdk === 'cdktf' ? 20 : 22}-bookworm`);
    // On a Node too old for cdktn's CLI, `cdktn synth` stops at "markAsUncloneable is not a function", naming no Node:
    // the README's first command says which Node it needs.
    const readme = fs.readFileSync(path.join(repo, 'README.md'), 'utf8');
    const firstCommand = readme.split('```sh\n')[1].split('\n')[0];
    if (flavour.cdk === 'cdktn') expect(firstCommand).toMatch(/^node --version +# 22\.19 or later: the cdktn CLI needs it \(on an older Node it stops at "markAsUncloneable is not a function"\)$/);
    else expect(firstCommand).toMatch(/^export CHECKPOINT_DISABLE=1 /);
    // `cdktn synth` prints the stacks' warnings in CI and through a pipe too (cdktf's only in a terminal): the cdktn
    // README told a team it printed none there, and that only check showed them.
    const warnings = readme.split('## The warnings of the first synth\n\n')[1].split('\n\n')[0].replace(/\n/g, ' ');
    expect(warnings).toContain(flavour.cdk === 'cdktn'
      ? '`cdktn synth` prints them in CI and through a pipe too, and an app run with `node dist/main.js` alone prints none: `npx cdktn-sovereign-hetzner check` lists them'
      : '`cdktf synth` prints them only in a terminal, not in CI or through a pipe, and an app run with `node dist/main.js` alone prints none: `npx cdktf-sovereign-hetzner check` lists them');
    // The other CDK's tarball, which `npm run build:cdktn` leaves beside this one, is refused with that package's own init.
    const otherLibrary = `${other}-sovereign-hetzner`;
    const refused = await execFileAsync(path.join(project, 'node_modules', '.bin', flavour.library),
      ['init', path.join(project, 'scaffolded-other'), '--name', 'acme', '--admin-key', key, '--production-admin-key', productionKey, '--admin-cidrs', '198.51.100.0/24', '--library', `file:${tarballs[other]}`],
      { cwd: project, env: ENV }).then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }));
    expect(refused).toEqual({ code: 1, stderr: expect.stringContaining(`holds ${otherLibrary}, but this is ${flavour.library}'s init, which scaffolds a repository on ${flavour.cdk}. `
      + `Fix: run the init of the package you pass, with the same arguments: npx --package ${tarballs[other]} ${otherLibrary} init …`) });
    expect(fs.existsSync(path.join(project, 'scaffolded-other'))).toBe(false);
  }, 120_000);

  test("type-checks and synthesizes the team's app", async () => {
    const { project } = await get();
    await runAsync(process.execPath, ['main.js'], project);
    const synthesized = JSON.parse(fs.readFileSync(path.join(project, 'cdktf.out', 'stacks', 'acme-production', 'cdk.tf.json'), 'utf8'));
    const [server] = Object.values(synthesized.resource.hcloud_server) as any[];
    expect(server).toMatchObject({ name: 'acme-production-app', server_type: 'cx33', delete_protection: true, location: 'fsn1' });
    expect(synthesized.terraform.backend.s3.bucket).toBe('acme-tfstate');
    expect(Object.values(synthesized.resource.hcloud_storage_box)).toHaveLength(1);
    expect(synthesized['//'].metadata.version).toBe(flavour.cdk === 'cdktf' ? rootPkg.devDependencies.cdktf : cdktnBuild.CDKTN_TOOLCHAIN.cdktn);
    expect(fs.readFileSync(path.join(project, 'cdktf.out', 'products', 'acme', 'boundary.md'), 'utf8')).toMatch(/# Data boundary: acme/);
    // The installed package's check names its own CDK's synth above the warnings (the cdktn one said cdktf's, and a
    // terminal), and, the app having run under node alone, does not say any synth printed them.
    const check = await execFileAsync(path.join(project, 'node_modules', '.bin', flavour.library), ['check', 'acme-production'], { cwd: project, env: ENV })
      .catch((e: { stdout: string }) => e);
    expect(check.stdout).toContain(`The synth's warnings for acme-production, each with its fix (${flavour.cdk === 'cdktn' ? 'cdktn synth prints them in CI and through a pipe too' : 'cdktf synth prints them only in a terminal, not in CI or through a pipe'}, and an app run with node alone prints none; none stops a deploy):`);
    // The release runs this package's CLI and its CDK's by their own names: the cdktn package's ran
    // `npx cdktf-sovereign-hetzner guard` (npx fetches that other package from the registry) and `npx cdktf deploy`
    // (cdktn-cli has no cdktf command).
    const release = await execFileAsync(path.join(project, 'node_modules', '.bin', flavour.library), ['release', '--product', 'acme', '--rehearse', 'true', '--dry-run'],
      // A project token each (init's app registers one key in both): the dry run only names them.
      { cwd: project, env: { ...ENV, HCLOUD_TOKEN_TEST: 'test-project-token', HCLOUD_TOKEN_PRODUCTION: 'production-project-token' } });
    const commands = release.stdout.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    const npx = commands.flatMap((line) => [...line.matchAll(/\bnpx (\S+)/g)].map((m) => m[1]));
    expect(npx.length).toBeGreaterThanOrEqual(3);
    expect(new Set(npx)).toEqual(new Set([flavour.library, flavour.cdk]));
    // So does a fix the CLI prints to paste.
    const unsynthesized = await execFileAsync(path.join(project, 'node_modules', '.bin', flavour.library), ['check', '--out', 'not-synthesized'], { cwd: project, env: ENV })
      .then(() => '', (e: { stderr: string }) => e.stderr);
    expect(unsynthesized).toContain(`Fix: synthesize first (npx ${flavour.cdk} synth, or npm run synth)`);
  }, 120_000);
});

test('the same app synthesizes the same Terraform on cdktn as on cdktf, apart from the CDK version stamp', async () => {
  const stacks = async (cdk: string) => {
    const out = path.join((await installed.get(cdk)!).project, 'cdktf.out', 'stacks');
    // The synth test above wrote these; run it again in case jest ran this test alone.
    if (!fs.existsSync(out)) await runAsync(process.execPath, ['main.js'], path.dirname(path.dirname(out)));
    return Object.fromEntries(fs.readdirSync(out).sort().map((stack) => {
      const json = JSON.parse(fs.readFileSync(path.join(out, stack, 'cdk.tf.json'), 'utf8'));
      delete json['//'].metadata.version;
      return [stack, json];
    }));
  };
  const [cdktf, cdktn] = await Promise.all([stacks('cdktf'), stacks('cdktn')]);
  expect(Object.keys(cdktf).length).toBeGreaterThanOrEqual(2);
  expect(cdktn).toEqual(cdktf);
}, 120_000);
