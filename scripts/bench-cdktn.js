#!/usr/bin/env node
// `cdktn synth` against `cdktf synth`: the same team app (one product with backups and monitoring,
// its test and production stacks), installed from the packed packages into two fresh projects, one on cdktf 0.21 with
// cdktf-cli, one on cdktn 0.24 with cdktn-cli. cdktn-cli needs Node >= 22.19; when this Node is
// older, a Node 22 binary comes from the npm registry (node-linux-<arch>, the package the registry's
// `node` package installs, taken directly so no install script runs) into .tmp/toolchain/.
//
//   node scripts/bench-cdktn.js            measure (BENCH_RUNS, default 10), write scripts/bench-cdktn.results.md
//   ... --from cdktf-sovereign-hetzner-X.tgz   use this packed cdktf package instead of packing (and building) one
//   node scripts/bench-cdktn.js --check    CI: one synth through each CLI; fails unless both succeed
//                                          and produce the same Terraform JSON apart from the CDK version stamp
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { buildCdktnPackage, CDKTN_TOOLCHAIN } = require('./build-cdktn');

const ROOT = path.resolve(__dirname, '..');
const CHECK = process.argv.includes('--check');
const RUNS = CHECK ? 1 : Number(process.env.BENCH_RUNS || 10);
const NODE22 = '22.23.3';
const rootPkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const baseEnv = { ...process.env, CHECKPOINT_DISABLE: '1', DISABLE_VERSION_CHECK: '1', CI: '1', npm_config_audit: 'false', npm_config_fund: 'false' };

function run(cmd, args, cwd, env = baseEnv) {
  try {
    return execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

function atLeast(version, wanted) {
  const [a, b] = version.replace(/^v/, '').split('.').map(Number);
  const [x, y] = wanted.split('.').map(Number);
  return a > x || (a === x && b >= y);
}

/** A Node >= 22.19 binary: this one, or one installed from the registry once. */
function node22() {
  if (atLeast(process.version, '22.19')) return process.execPath;
  const dir = path.join(ROOT, '.tmp', 'toolchain', `node-${NODE22}`);
  const pkg = `node-${process.platform}-${process.arch}`;
  const binary = path.join(dir, 'node_modules', pkg, 'bin', 'node');
  if (!fs.existsSync(binary)) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), '{"private":true}');
    run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', `${pkg}@${NODE22}`], dir);
  }
  return binary;
}

// The consumer test's app (__tests__/consumer/consumer.test.ts), in JavaScript.
const app = (cdk, library) => `'use strict';
const { App } = require('${cdk}');
const {
  AiActRole, AlertReceiver, BoundaryPolicy, DataClass, DeadMansSwitch, EgressForm, Environment, MonitoringPlan, Phase, Processor, Product,
  RestoreCheck, StagingMode, UptimeCheck,
} = require('${library}');
const { ProductStacks } = require('${library}/stacks');
const app = new App();
new ProductStacks(app, new Product({
  name: 'acme',
  phase: Phase.ONE,
  admin: { sshPublicKeys: { ops: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu' }, cidrs: ['198.51.100.0/24'] },
  stateBucket: 'acme-tfstate',
  staging: StagingMode.reuseTestMachine(),
  boundary: new BoundaryPolicy({ aiActRoles: [AiActRole.DEPLOYER], egress: [{ dataClass: DataClass.PUBLIC, to: [Processor.mistralAi()], form: EgressForm.RAW }] }),
  backup: { restoreChecks: [RestoreCheck.sql('users-present', { database: 'app', query: 'SELECT count(*) > 0 FROM users' })] },
  monitoring: new MonitoringPlan({
    uptimeChecks: [UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health')],
    receivers: [AlertReceiver.webhook('ops', { hostname: 'chat.acme.eu' })],
    deadMansSwitch: DeadMansSwitch.healthchecksIo(),
  }),
}));
app.synth();
`;

function project(work, name, cdk, library, installs) {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, private: true, version: '1.0.0' }));
  fs.writeFileSync(path.join(dir, 'cdktf.json'), JSON.stringify({ language: 'typescript', app: 'node main.js', output: 'cdktf.out' }));
  fs.writeFileSync(path.join(dir, 'main.js'), app(cdk, library));
  // --ignore-scripts: cdktf-cli's node-pty has an install script the synth path does not need.
  run('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', ...installs], dir);
  return dir;
}

function time(node, args, cwd) {
  const env = { ...baseEnv, PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH}` };
  const start = process.hrtime.bigint();
  run(node, args, cwd, env);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { min: sorted[0], median: sorted[Math.floor(sorted.length / 2)], max: sorted[sorted.length - 1] };
}

function stacksOf(dir) {
  const out = path.join(dir, 'cdktf.out', 'stacks');
  return Object.fromEntries(fs.readdirSync(out).sort().map((stack) => {
    const json = JSON.parse(fs.readFileSync(path.join(out, stack, 'cdk.tf.json'), 'utf8'));
    delete json['//'].metadata.version;
    return [stack, JSON.stringify(json)];
  }));
}

function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cdktn-'));
  try {
    const from = process.argv.indexOf('--from');
    const cdktfTarball = from > 0
      ? path.resolve(process.argv[from + 1])
      : path.join(work, JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], ROOT))[0].filename);
    const cdktnTarball = buildCdktnPackage({ from: cdktfTarball, out: work });
    const node20 = process.execPath;
    const node = node22();
    const dev = rootPkg.devDependencies;
    const cdktfDir = project(work, 'team-cdktf', 'cdktf', 'cdktf-sovereign-hetzner',
      [cdktfTarball, `cdktf@${dev.cdktf}`, `cdktf-cli@${dev['cdktf-cli']}`, `constructs@${dev.constructs}`]);
    const cdktnDir = project(work, 'team-cdktn', 'cdktn', 'cdktn-sovereign-hetzner',
      [cdktnTarball, `cdktn@${CDKTN_TOOLCHAIN.cdktn}`, `cdktn-cli@${CDKTN_TOOLCHAIN['cdktn-cli']}`, `constructs@${CDKTN_TOOLCHAIN.constructs}`]);
    const cli = (dir, name) => fs.realpathSync(path.join(dir, 'node_modules', '.bin', name));
    const nodeVersion = (binary) => run(binary, ['--version'], work).trim();

    const paths = {
      [`\`cdktf synth\` (cdktf-cli ${dev['cdktf-cli']}), Node ${nodeVersion(node20)}`]: () => time(node20, [cli(cdktfDir, 'cdktf'), 'synth'], cdktfDir),
      [`\`cdktf synth\` (cdktf-cli ${dev['cdktf-cli']}), Node ${nodeVersion(node)}`]: () => time(node, [cli(cdktfDir, 'cdktf'), 'synth'], cdktfDir),
      [`\`cdktn synth\` (cdktn-cli ${CDKTN_TOOLCHAIN['cdktn-cli']}), Node ${nodeVersion(node)}`]: () => time(node, [cli(cdktnDir, 'cdktn'), 'synth'], cdktnDir),
      [`direct \`node main.js\` on cdktf ${dev.cdktf}, Node ${nodeVersion(node20)}`]: () => time(node20, ['main.js'], cdktfDir),
      [`direct \`node main.js\` on cdktn ${CDKTN_TOOLCHAIN.cdktn}, Node ${nodeVersion(node)}`]: () => time(node, ['main.js'], cdktnDir),
    };
    if (CHECK) {
      const [viaCdktf, , viaCdktn] = Object.values(paths);
      viaCdktf();
      viaCdktn();
      const a = stacksOf(cdktfDir);
      const b = stacksOf(cdktnDir);
      const differ = Object.keys({ ...a, ...b }).filter((s) => a[s] !== b[s]);
      if (Object.keys(a).length < 2 || differ.length) throw new Error(`cdktn synth and cdktf synth differ: ${differ.join(', ') || 'no stacks'}`);
      console.log(`cdktf synth and cdktn synth (Node ${nodeVersion(node)}) produce the same ${Object.keys(a).length} stacks: ${Object.keys(a).join(', ')}`);
      return;
    }
    // One warm-up each, so no measured run pays for a cold disk cache.
    for (const measure of Object.values(paths)) measure();
    // Interleaved (one run of each path per round), so a change of load on the machine hits every path alike.
    const samples = Object.fromEntries(Object.keys(paths).map((name) => [name, []]));
    const load = [os.loadavg()[0]];
    for (let round = 0; round < RUNS; round++) {
      for (const [name, measure] of Object.entries(paths)) samples[name].push(measure());
      load.push(os.loadavg()[0]);
    }
    const results = Object.entries(samples).map(([name, times]) => [name, stats(times)]);
    const fmt = (s) => `${s.toFixed(2)} s`;
    const median = (i) => results[i][1].median;
    const lines = [
      '# cdktn synth against cdktf synth',
      '',
      `Written by \`npm run bench:cdktn\` (scripts/bench-cdktn.js) on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} cores, ${RUNS} interleaved runs each after one warm-up;`,
      `1-minute load average during the runs ${Math.min(...load).toFixed(1)} to ${Math.max(...load).toFixed(1)} (other work shared the machine).`,
      'The same team app (the consumer test\'s: one product, phase ONE, backups and monitoring; its test and production stacks) installed from the packed',
      '`cdktf-sovereign-hetzner` and the `cdktn-sovereign-hetzner` built from it (scripts/build-cdktn.js), each into a fresh project.',
      '',
      '| path | min | median | max |',
      '|---|---|---|---|',
      ...results.map(([name, s]) => `| ${name} | ${fmt(s.min)} | ${fmt(s.median)} | ${fmt(s.max)} |`),
      '',
      `Median \`cdktn synth\` on Node 22 against \`cdktf synth\` on Node 20: ${fmt(median(2))} against ${fmt(median(0))} (${((median(2) / median(0) - 1) * 100).toFixed(0)} %).`,
      `Against \`cdktf synth\` on the same Node 22: ${fmt(median(1))} (${((median(2) / median(1) - 1) * 100).toFixed(0)} %).`,
      `The CLIs' own share (CLI median minus direct median): cdktf ${fmt(median(0) - median(3))}, cdktn ${fmt(median(2) - median(4))}.`,
      '',
    ];
    fs.writeFileSync(path.join(__dirname, 'bench-cdktn.results.md'), lines.join('\n'));
    console.log(lines.join('\n'));
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main();
