import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Testing } from 'cdktf';
import { phase1Pilot } from '../../examples/phase1-pilot';
import { EgressAllowlist } from '../../lib';
import { HetznerStandIn, LoopbackMachine, placeholderVariables, SynthesizedBundle, synthesizedBundle, TerraformRun } from '../../testing';
import { NamespacePair } from '../database/helpers/netns';
import { describeWithRealParts, hasTerraform, isRoot } from '../setup/real-parts';
import { forgetNetworkNamespace, recordNetworkNamespace } from '../setup/run-leftovers';
import { refusal } from './helpers/refusal';
import { PG_BIN } from '../../testing/postgres-cluster';

// docs/testing.md's day-2 rehearsal, as a newcomer follows it: the Phase 1 example's production stack deployed through
// the stand-in, its app machine's whole bundle rolled out to a LoopbackMachine prepared for it (prepareFor: the
// PostgreSQL cluster and unit a server's packages would have made), then a day-2 change (one more egress host)
// deployed again: the change is active on the machine and the rollout did not roll back.

const SERVER = 'phase1-pilot-production-app';
const EXTRA_HOST = 'updates.example.eu';
const ALLOWLIST = '/etc/sovereign/egress-hostnames';

// Terraform deploys the stack through the stand-in: without it the rehearsal is skipped (outside CI), not failed.
const ready = isRoot && fs.existsSync(`${PG_BIN}/pg_ctl`) && NamespacePair.available() && hasTerraform();
const describeReal = describeWithRealParts(ready, 'the loopback day-2 rehearsal', 'root (sshd), ip netns, PostgreSQL 15 (/usr/lib/postgresql/15/bin) and terraform on PATH');

/** The example's production stack, with the day-2 change or without. */
function production(extraHost: boolean): any {
  const stacks = phase1Pilot(Testing.app({ stackTraces: false }) as App);
  if (extraHost) EgressAllowlist.requireHostnames(stacks.production.app, [EXTRA_HOST], 'release feed the app polls for new versions of its own client');
  return JSON.parse(Testing.synth(stacks.production, true));
}

/** One synth and one decode per variant for the whole file: both tests read the stack without the change. */
interface Variant { readonly stack: any; readonly bundle: SynthesizedBundle }
const variants = new Map<boolean, Variant>();
function variant(extraHost: boolean): Variant {
  let v = variants.get(extraHost);
  if (!v) {
    const stack = production(extraHost);
    v = { stack, bundle: synthesizedBundle(stack, SERVER) };
    variants.set(extraHost, v);
  }
  return v;
}

/** pg_isready's verdict on the machine's private address, from the namespace the server runs in. */
const answer = (machine: LoopbackMachine) => {
  const r = spawnSync('ip', ['netns', 'exec', `loopback-${machine.port}`, `${PG_BIN}/pg_isready`, '-h', '10.0.1.2', '-p', '5432'], { encoding: 'utf8' });
  return `${r.status} ${r.stdout}`;
};

/** What Terraform and the provisioners said, for a failure's message. */
const said = (run: TerraformRun) => `${run.stdout}\n${run.stderr}`.slice(-6000);

describeReal('a day-2 change on a LoopbackMachine prepared for the Phase 1 example\'s app machine', () => {
  const standIn = new HetznerStandIn();
  let dir: string;
  let machine: LoopbackMachine;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loopback-day-two-'));
    machine = await LoopbackMachine.start(path.join(dir, 'machine'));
    // prepareFor's namespace: the run's end removes it if afterAll never runs (a killed run).
    recordNetworkNamespace(`loopback-${machine.port}`);
  }, 60_000);

  afterAll(async () => {
    await machine?.stop();
    if (machine && !fs.existsSync(`/run/netns/loopback-${machine.port}`)) forgetNetworkNamespace(`loopback-${machine.port}`);
    standIn.stop(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a database the loopback machine cannot hold is refused before anything is made, naming the fix', () => {
    const { bundle } = variant(false);
    const withSetup = (change: Record<string, unknown>): SynthesizedBundle => ({
      ...bundle,
      parts: bundle.parts.map((part) => ({
        ...part,
        files: part.files.map((f) => (f.path === '/etc/sovereign/postgres/setup.json' ? { ...f, content: JSON.stringify({ ...JSON.parse(f.content!), ...change }) } : f)),
      })),
    });
    // Each a PrepareRefusedError, as every refusal of prepareFor is.
    expect(refusal(() => machine.prepareFor(withSetup({ requireMount: '/mnt/database' }))).message).toBe(
      `LoopbackMachine.prepareFor(${SERVER}): the database lives on a volume mounted at /mnt/database, which a loopback machine cannot mount, and the setup refuses to run without it. Fix: roll out a machine whose database is on the server's disk (DatabaseStorage.rootDisk()).`);
    expect(refusal(() => machine.prepareFor(withSetup({ major: 16 }))).message).toMatch(/PostgreSQL 16; a loopback machine runs PostgreSQL 15's programs .* Fix: roll out a machine with PostgresVersion.V15\./);
    expect(fs.existsSync(path.join(machine.root, 'etc/postgresql'))).toBe(false);
    expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toContain(`loopback-${machine.port}`);
  }, 60_000);

  test('the whole bundle activates, and the extra egress host is active after the next deploy, with no rollback', () => {
    const v1 = variant(false);
    machine.prepareFor(v1.bundle);
    const ws = standIn.workspace(v1.stack);
    // The doc's standin.js values alone: the machine's setups check them as a server's would.
    const placeholders = placeholderVariables(v1.stack, {});
    ws.setVariables(placeholders).rollOutTo(machine.target({ timeout: '60s' })).setConfiguration(v1.stack);
    const first = ws.apply();
    expect(first.ok ? '' : said(first)).toBe('');
    expect(machine.current().version).toBe(v1.bundle.version);
    expect(machine.read(ALLOWLIST)).not.toContain(EXTRA_HOST);
    // The error-monitoring setup took the placeholder DSN (at the endpoint's host), not refused it.
    expect(machine.read('/etc/sovereign/error-monitoring.env')).toContain(`SENTRY_DSN=${placeholders.TF_VAR_error_monitoring_dsn}\n`);
    // The setup started the server through the unit's stand-in, and it answers on the private address.
    expect(answer(machine)).toBe('0 10.0.1.2:5432 - accepting connections\n');

    const v2 = variant(true);
    machine.clearSystemctl();
    ws.setConfiguration(v2.stack);
    const second = ws.apply();
    expect(second.ok ? '' : said(second)).toBe('');
    // The new version is what the machine runs: a rollback would have left v1's.
    expect(machine.current().version).toBe(v2.bundle.version);
    expect(machine.current().version).not.toBe(v1.bundle.version);
    expect(machine.read(ALLOWLIST)!.split('\n')).toContain(EXTRA_HOST);
    expect(machine.read('/var/lib/prometheus/node-exporter/sovereign_rollout.prom')).toMatch(/sovereign_rollout_success 1\n/);
    // The database kept running through the day-2 rollout.
    expect(answer(machine)).toBe('0 10.0.1.2:5432 - accepting connections\n');
  }, 600_000);
});
