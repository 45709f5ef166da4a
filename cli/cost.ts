import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { Duration, Size } from '../lib';
import { CostEstimate, CostLine } from '../lib/cost/cost-estimate';
import { CostEstimateOptions, DEFAULT_REHEARSAL_HOURS, DEFAULT_REHEARSALS_PER_MONTH, estimateSynthesizedCost } from '../lib/cost/estimator';
import { PriceList } from '../lib/cost/price-list';
import { readSynthesizedStacks, SynthesizedStack, synthesizedStacksOf } from '../lib/cost/synthesized-stacks';
import { DEFAULT_PRE_RELEASE_SNAPSHOTS_KEPT } from '../lib/environments/pre-release-snapshots';
import type { CliIo } from './run-cli';
import { CommandOptions, parseCommandFlags } from './command-options';
import { readJsonFile } from '../lib/core/private/json-file';
import { defaultSynthOutput } from './synth-output';
import { decimalNumber, wholeNumberOption } from './number-text';
import { isIsoDate } from '../lib/cost/price-data';
import { UsageError } from './usage-error';

/** The hours of the longest month: staging, claimed by one release at a time, is up for at most these. */
const HOURS_A_MONTH = 31 * 24;

/**
 * The most traffic `--egress-tb` takes, in TB a server a month: a 10 Gbit/s link kept full for a month carries about
 * 3,350 TB, so this is far past any server's, and far below where the size overflows (1e307 TB became an infinite Size).
 */
const MAX_EGRESS_TB = 1e6;

export const COST_USAGE = `  cdktf-sovereign-hetzner cost [--out DIR | --app MODULE [--export NAME] [--only A,B]] [--json]
                               [--billing-date YYYY-MM-DD] [--ordered-on STACK=YYYY-MM-DD,...]
                               [--rehearsal-hours N] [--rehearsals N] [--egress-tb N] [--no-state-storage]
                               [--snapshots-kept N] [--prices FILE]
      What the stacks cost a month at Hetzner's net list prices: per resource, environment, product,
      phase and app; an hour of on-demand staging, one rehearsal, and staging left up until its expiry;
      three permanent environments versus staging on demand. Reads the synthesized stacks in DIR
      (default: the output of the nearest cdktf.json, such as cdktf.out), or builds the
      app's construct tree from MODULE (a JS file exporting a function (app) => void, or an object of
      them, such as dist/examples/index.js --export EXAMPLES). Servers are new orders unless
      --ordered-on says when a stack's servers were ordered or last rescaled. The pre-release snapshots
      of production the release path keeps count as --snapshots-kept snapshots (default ${DEFAULT_PRE_RELEASE_SNAPSHOTS_KEPT}, as snapshot
      --keep), each the size of the app server's disk, their upper bound. --prices takes a price file of
      your own in the format of the bundled one (dist/lib/cost/hetzner-prices.json in the package), for prices it lacks.
      --rehearsals is a whole number a month (default ${DEFAULT_REHEARSALS_PER_MONTH}), --rehearsal-hours the hours of each
      (default ${DEFAULT_REHEARSAL_HOURS}, counted in whole minutes), the two multiplied at most ${HOURS_A_MONTH} (one release holds
      staging at a time); --egress-tb each server's outgoing traffic a month in TB
      (10^12 bytes, at most ${MAX_EGRESS_TB}; default: not estimated); Hetzner counts its allowance in TiB (its "20 TB" is 20 TiB, 21.99 TB),
      and so does the estimate. A value of another form is refused as a usage error (exit 2).`;

/** Flags of the cost and report commands. */
export interface CostArgs {
  readonly flags: Record<string, string | boolean>;
}

/** The options of the estimate, which cost and report both take. */
const ESTIMATE_OPTIONS = ['prices', 'billing-date', 'ordered-on', 'rehearsal-hours', 'rehearsals', 'egress-tb', 'snapshots-kept'];

/** The options each command takes: those followed by a value, and switches. */
const OPTIONS: Readonly<Record<'cost' | 'report', CommandOptions>> = {
  cost: { valued: ['out', 'app', 'export', 'only', ...ESTIMATE_OPTIONS], switches: ['json', 'no-state-storage'] },
  report: { valued: ['app', 'export', 'only', 'to', 'title', ...ESTIMATE_OPTIONS], switches: ['no-state-storage'] },
};

/** Parses `--name value`, `--name=value` and `--flag`, refusing an option `command` does not take (`--jsn` printed text). */
export function parseFlags(argv: readonly string[], command: 'cost' | 'report'): CostArgs {
  return { flags: parseCommandFlags(argv, OPTIONS[command], command).flags };
}

/** The estimate options the flags ask for. */
export function estimateOptions(args: CostArgs): CostEstimateOptions {
  const f = args.flags;
  const number = (name: string) => {
    // Plain decimal digits only: Number() read '0x10' as 16 and '1e1' as 10.
    const n = typeof f[name] === 'string' ? decimalNumber(f[name]) : Number.NaN;
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} ${String(f[name])} is not allowed: it is a number of at least 0. Fix: pass a number such as 2.`);
    return n;
  };
  const orderedOn: Record<string, string> = {};
  if (typeof f['ordered-on'] === 'string') {
    for (const pair of f['ordered-on'].split(',')) {
      const [stack, date] = pair.split('=');
      if (!stack || !date) throw new UsageError(`--ordered-on ${pair} is not allowed: it is STACK=YYYY-MM-DD. Fix: pass such as acme-production=2026-05-01.`);
      // Left to the estimator, a date that is none failed as a run (exit 1), naming CostEstimate.serversOrderedOn.
      if (!isIsoDate(date.trim())) throw new UsageError(`--ordered-on ${pair} is not allowed: ${date.trim()} is not a date. Fix: write it as YYYY-MM-DD, such as ${stack.trim()}=2026-05-01.`);
      orderedOn[stack.trim()] = date.trim();
    }
  }
  const billingDate = f['billing-date'];
  if (typeof billingDate === 'string' && !isIsoDate(billingDate)) {
    throw new UsageError(`--billing-date ${billingDate} is not allowed: it is not a date. Fix: write it as YYYY-MM-DD, such as 2026-12-01.`);
  }
  const hours = f['rehearsal-hours'] !== undefined ? number('rehearsal-hours') : undefined;
  // Counted in whole minutes: under half a minute (0.001) was 0, which the estimator refused as a run (exit 1), and
  // so was a length past what a price can count.
  const minutes = hours === undefined ? undefined : Math.round(hours * 60);
  if (minutes === 0 || (hours ?? 0) > HOURS_A_MONTH) {
    throw new UsageError(`--rehearsal-hours ${String(f['rehearsal-hours'])} is not allowed: a rehearsal lasts a minute at least, and at most a month (${HOURS_A_MONTH} hours). `
      + 'Fix: pass the hours staging is up, such as 2.');
  }
  // A whole number: 2.5 passed here and failed in the estimator as a run (exit 1), naming CostEstimate.rehearsalsPerMonth.
  const rehearsals = f.rehearsals === undefined ? undefined : wholeNumberOption('rehearsals', String(f.rehearsals), 0, HOURS_A_MONTH,
    `it is a whole number of rehearsals a month, from 0 to ${HOURS_A_MONTH} (one release holds staging at a time, each billed an hour at least)`,
    'pass a whole number such as 4');
  // Each flag alone was held to a month, not the two together: 744 rehearsals of 744 hours priced staging up 744 times over.
  if ((rehearsals ?? DEFAULT_REHEARSALS_PER_MONTH) * (hours ?? DEFAULT_REHEARSAL_HOURS) > HOURS_A_MONTH) {
    throw new UsageError(`--rehearsals ${rehearsals ?? DEFAULT_REHEARSALS_PER_MONTH} and --rehearsal-hours ${hours ?? DEFAULT_REHEARSAL_HOURS} are not allowed together: `
      + `staging, held by one release at a time, is up ${(rehearsals ?? DEFAULT_REHEARSALS_PER_MONTH) * (hours ?? DEFAULT_REHEARSAL_HOURS)} hours a month by them, and a month has ${HOURS_A_MONTH} at most. `
      + `Fix: pass fewer rehearsals or shorter ones (rehearsals times hours at most ${HOURS_A_MONTH}).`);
  }
  // Unbounded, 1e307 TB became an infinite Size, refused by the library as a run (exit 1) naming Size.gibibytes.
  const egressTb = f['egress-tb'] === undefined ? undefined : number('egress-tb');
  if (egressTb !== undefined && egressTb > MAX_EGRESS_TB) {
    throw new UsageError(`--egress-tb ${String(f['egress-tb'])} is not allowed: it is the TB one server sends a month, at most ${MAX_EGRESS_TB} (far past what any server's link carries). `
      + 'Fix: pass the TB a server sends a month, such as 2.');
  }
  return {
    ...(typeof f.prices === 'string' ? { prices: priceFile(f.prices) } : {}),
    ...(typeof f['billing-date'] === 'string' ? { billingDate: f['billing-date'] } : {}),
    ...(Object.keys(orderedOn).length > 0 ? { serversOrderedOn: orderedOn } : {}),
    ...(minutes !== undefined ? { rehearsalLength: Duration.minutes(minutes) } : {}),
    ...(rehearsals !== undefined ? { rehearsalsPerMonth: rehearsals } : {}),
    // TB as the flag says (10^12 bytes); it was read as TiB, 10% more, and priced traffic within the 20 TiB allowance.
    ...(egressTb !== undefined ? { egressPerServer: Size.mebibytes(egressTb * 1e12 / 2 ** 20) } : {}),
    ...(f['no-state-storage'] ? { stateStorage: false } : {}),
    ...(f['snapshots-kept'] !== undefined ? {
      preReleaseSnapshotsKept: wholeNumberOption('snapshots-kept', String(f['snapshots-kept']), 1, 50,
        'it is how many pre-release snapshots `snapshot --keep` keeps', 'pass a whole number from 1 to 50, as given to --keep'),
    } : {}),
  };
}

/**
 * Refuses an --ordered-on stack that is none of `names` (the stacks estimated), as a usage error naming the flag and
 * the stacks there are: left to the estimator, it failed as a run (exit 1), naming CostEstimate.serversOrderedOn.
 */
export function checkOrderedOnStacks(options: CostEstimateOptions, names: readonly string[]): void {
  for (const [stack, date] of Object.entries(options.serversOrderedOn ?? {})) {
    if (names.includes(stack)) continue;
    throw new UsageError(`--ordered-on ${stack}=${date} is not allowed: there is no stack ${stack} `
      + `(the stacks are ${names.length > 0 ? names.join(', ') : 'none'}). Fix: name one of them, such as ${names[0] ?? 'acme-production'}=${date}.`);
  }
}

function priceFile(file: string): PriceList {
  if (!fs.existsSync(file)) throw new Error(`--prices ${file}: no such file. Fix: copy the bundled price file (${bundledPriceFile()}) into your repository, edit it there, and pass its path.`);
  return PriceList.fromData(readJsonFile(file, `pass a price file in the format of the bundled one (${bundledPriceFile()})`));
}

/**
 * Where the bundled price file is, as a team can copy it: installed, node_modules/…/dist/lib/cost/hetzner-prices.json,
 * relative to where the command runs. The message named lib/cost/hetzner-prices.json, the repository's path, which
 * the package does not have.
 */
function bundledPriceFile(): string {
  const file = path.resolve(__dirname, '..', 'lib', 'cost', 'hetzner-prices.json');
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

/**
 * Runs `use` with the app defined by a JS module (see appFromModule), in a temporary output directory removed once
 * `use` has finished: one was left in the temporary directory by every run of cost --app and report.
 */
export async function withAppFromModule<T>(args: CostArgs, use: (app: App) => T | Promise<T>): Promise<T> {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sovereign-app-'));
  try {
    return await use(appFromModule(args, outdir));
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/**
 * Builds the app defined by a JS module, with `outdir` as its output directory: its default export or `--export NAME`,
 * a function `(app) => unknown` or an object of them (`--only` picks some by key).
 */
function appFromModule(args: CostArgs, outdir: string): App {
  const file = path.resolve(String(args.flags.app));
  const build = 'build it first (npm run build; in a repository from `cdktf-sovereign-hetzner init`, npm run report builds and reports)';
  if (!fs.existsSync(file)) throw new Error(`${file} not found. Fix: ${build}, or pass the built JS module that defines the app, such as dist/main.js or dist/examples/index.js.`);
  let module: Record<string, unknown>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    module = require(file) as Record<string, unknown>;
  } catch (e) {
    // Plain node loads no TypeScript: main.ts fails in the loader with "Unexpected token ':'", which names no fix.
    if (e instanceof SyntaxError && /\.[cm]?tsx?$/.test(file)) {
      throw new Error(`--app ${args.flags.app} is TypeScript, which node cannot load (${e.message}). Fix: ${build} and pass the compiled module, such as --app dist/main.js.`);
    }
    throw e;
  }
  const name = typeof args.flags.export === 'string' ? args.flags.export : 'default';
  const exported = module[name] ?? (name === 'default' ? module : undefined);
  const defines: Array<[string, (app: App) => unknown]> = typeof exported === 'function'
    ? [[name, exported as (app: App) => unknown]]
    : Object.entries((exported ?? {}) as Record<string, unknown>).filter((e): e is [string, (app: App) => unknown] => typeof e[1] === 'function');
  if (defines.length === 0) {
    throw new Error(`${file} exports no app definition${name === 'default' ? '' : ` named ${name}`}. Fix: export a function (app) => void, or an object of them, and pass --export NAME; `
      + 'a module that builds and synthesizes its own App exports none, so move that into such a function and synthesize only when run '
      + '(if (require.main === module)), as the main.ts of `cdktf-sovereign-hetzner init` does.');
  }
  const only = typeof args.flags.only === 'string' ? args.flags.only.split(',').map((s) => s.trim()) : undefined;
  const unknown = (only ?? []).filter((o) => !defines.some(([key]) => key === o));
  if (unknown.length > 0) throw new Error(`--only ${unknown.join(',')}: no such definition. Fix: use one of ${defines.map(([k]) => k).join(', ')}.`);
  const app = new App({ outdir });
  for (const [key, define] of defines) if (!only || only.includes(key)) define(app);
  return app;
}

/** `cost`: prints the estimate. */
export async function costCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseFlags(argv, 'cost');
  const options = estimateOptions(args);
  const estimateOf = (stacks: readonly SynthesizedStack[]) => {
    checkOrderedOnStacks(options, stacks.map((s) => s.name));
    return estimateSynthesizedCost(stacks, options);
  };
  const estimate = args.flags.app
    ? await withAppFromModule(args, (app) => estimateOf(synthesizedStacksOf(app)))
    : estimateOf(readSynthesizedStacks(typeof args.flags.out === 'string' ? args.flags.out : defaultSynthOutput()));
  if (args.flags.json) io.out(JSON.stringify(estimate, (_k, v) => (v && typeof v === 'object' && 'toEuros' in v ? Number(v.toEuros().toFixed(6)) : v), 2));
  else printEstimate(estimate, io);
  return 0;
}

function printEstimate(estimate: CostEstimate, io: CliIo): void {
  const row = (label: string, monthly: string, hourly = '') => `${label.padEnd(78)} ${monthly.padStart(9)} ${hourly.padStart(9)}`.trimEnd();
  const lineRow = (l: CostLine) => row(`      ${l.description}${l.price.confidence !== 'high' || l.price.assumed ? ` [${l.price.confidence}${l.price.assumed ? ', assumed' : ''}]` : ''}`,
    l.monthly.toString(), l.hourly ? l.hourly.toString(4) : '-');
  io.out(`Hetzner net list prices in EUR (excluding VAT), taken on ${estimate.pricesTakenOn}, for ${estimate.billingDate}.`);
  for (const p of estimate.products) {
    io.out('');
    io.out(row(`${p.product ?? 'stacks without a product'}${p.phase !== undefined ? ` (Phase ${p.phase})` : ''}`, 'a month', 'an hour'));
    for (const e of p.environments) {
      io.out(row(`  ${e.stack} (${e.environment}, ${e.onDemand ? 'on demand; if kept up all month' : 'always on'})`, e.monthly.toString(), e.hourly.toString(4)));
      for (const l of e.lines) io.out(lineRow(l));
    }
    for (const l of p.shared) io.out(row(`  shared: ${l.description}`, l.monthly.toString()));
    io.out(row('  always-on environments and shared costs', p.permanentMonthly.toString()));
    if (p.rehearsal) {
      const r = p.rehearsal;
      io.out(`  staging on demand: ${r.hourly.toString(4)} an hour; one rehearsal of ${r.length} ${r.each.toString(4)}; ${r.perMonth} a month ${r.monthly}`);
      if (r.untilExpiry) io.out(`  staging left up until the reaper deletes it on ${r.untilExpiry.expiresAt} (${r.untilExpiry.hours} hours from ${estimate.billingDate}): ${r.untilExpiry.cost.toString(4)}`);
    }
    const c = p.comparison;
    io.out(`  three permanent environments ${c.threePermanent} a month; test always on and staging on demand ${c.testPlusOnDemand}; ${c.extraCost.isZero() ? `on-demand staging saves ${c.saving}` : `on-demand staging costs ${c.extraCost} more`}`);
    io.out(row(`  ${p.product ?? 'stacks without a product'}, a month`, p.monthly.toString()));
  }
  io.out('');
  for (const ph of estimate.phases) io.out(row(`Phase ${ph.phase} (${ph.products.join(', ')})`, ph.monthly.toString()));
  io.out(row('Whole app, a month', estimate.monthly.toString()));
  if (estimate.pricesToVerify.length > 0) {
    io.out('');
    io.out('Prices to verify:');
    for (const l of estimate.pricesToVerify) io.out(`  ${l.description} (${l.stack}): ${l.monthly}, ${l.price.confidence} confidence; ${l.price.assumed ?? l.price.note ?? `sources ${l.price.sources.join(', ')}`}`);
  }
  if (estimate.notCounted.length > 0) {
    io.out('');
    io.out('Not counted:');
    for (const n of estimate.notCounted) io.out(`  ${n}`);
  }
}
