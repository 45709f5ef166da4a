import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as readline from 'readline';
import { Testing } from 'cdktf';
import {
  AiActRole, AlertReceiver, BoundaryPolicy, Budget, DataClass, DeadMansSwitch, EgressForm, Environment, Location,
  MonitoringPlan, Money, Phase, Processor, Product, RestoreCheck, StagingMode, UptimeCheck, ValidationError,
} from '../lib';
import {
  isOpenSshPublicKey, mayHoldPrivateKey, opensPrivateKey, refusedKeyShown, sshKeyMaterial, sshKeyNamed, STRONGER_KEY_FIX, weakKeyWhy,
} from '../lib/hetzner/private/openssh-public-key';
import { coversWholeInternet } from '../lib/core/cidr';
import { ERROR_MONITORING_DSN_VARIABLE } from '../lib/monitoring/private/paths';
import { cidrFix, cidrProblem } from '../lib/core/peer';
import { ProductStacks } from '../stacks';
import { requirementsOfStacks, environmentExample, type Requirement } from './check';
import { ownPackage, packageRoot } from './package-files';
import { Cdk, cdkOf, ownCdk } from './cdk';
import { packedPackageName } from './packed-package';
import { projectStateKeyVariable, projectTokenVariable, ReleaseProject, STATE_KEY_VARIABLES } from '../lib/environments/release-plan';
import type { CliIo } from './run-cli';
import { unknownOption } from './command-options';
import { decimalNumber } from './number-text';
import { shellWord } from './shell-word';
import { UsageError } from './usage-error';
import { whereSynthWarns } from './synth-warnings';

/**
 * How soon after an answer an Enter alone is the one that sends a paste off: a person presses it as they see the paste
 * land, and reads the next question for longer before taking its default. The usage below says it from here.
 */
export const ENTER_AFTER_PASTE_MS = 1000;
/** ENTER_AFTER_PASTE_MS as the usage says it. */
const ENTER_AFTER_PASTE = `${ENTER_AFTER_PASTE_MS / 1000} s`;

/** Which location test runs in for each production location, as the usage says it ("nbg1 for fsn1, fsn1 for nbg1 and hel1"). */
function testLocationsSaid(): string {
  const byTest = new Map<string, string[]>();
  for (const { name } of Location.eu()) byTest.set(testLocationFor(name), [...byTest.get(testLocationFor(name)) ?? [], name]);
  const list = (names: string[]) => (names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}` : names[0]);
  return [...byTest].map(([test, productions]) => `${test} for ${list(productions)}`).join(', ');
}

export const INIT_USAGE = `  cdktf-sovereign-hetzner init [DIR] [--name NAME] [--domain DOMAIN] [--location fsn1|nbg1|hel1]
                               [--admin-key "ssh-ed25519 AAAA… you@team.eu"] [--production-admin-key "ssh-ed25519 AAAA… prod"]
                               [--admin-cidrs CIDR,…]
                               [--public mistral,jina] [--pseudonymized mistral] [--budget EUROS] [--library SPEC]
      Scaffolds a team's IaC repository in DIR (default: the current directory, which must be empty): a
      Phase 1 product in product.ts, which main.ts turns into stacks, tests (snapshot, Terraform validate
      and plan through the stand-in, production refuses destroy), .env.example with every variable the
      stacks need, and CI for GitHub Actions and GitLab. --location is production's (and staging's); test runs in
      another EU location (${testLocationsSaid()}), so each environment's uptime check probes the
      other from outside its location. Asks for what the flags leave out when it runs in a terminal; in CI, flags only.
      In a terminal, where public and pseudonymized data may go is typed (Enter alone asks again); left out
      elsewhere, --public is mistral and --pseudonymized none. In a terminal, an Enter alone within ${ENTER_AFTER_PASTE} of an
      answer (the one after a paste) is asked again; the next Enter takes the default: a script driving init
      through a terminal (expect) passes flags, or waits more than ${ENTER_AFTER_PASTE} before an Enter that takes a default.
      --admin-key opens test's machines, --production-admin-key (another key) production's and staging's:
      each environment's CI job holds its own key's private half, so test's never opens production.
      --library sets the dependency spec of this library (default: the tarball this package was installed from,
      if it was; else this version from the registry); a packed tarball (file:…tgz, or its path) is copied into the new
      repository's vendor/, so that CI installs it too (a directory, a clone, is refused: npm pack it). It must be a
      tarball of this package: each package's init scaffolds for its own CDK (cdktf or cdktn).`;

/**
 * The oldest Node the cdktn CLI runs on (cdktn-cli's engines). On Node 20 `cdktn synth` crashes with
 * "markAsUncloneable is not a function", which says nothing of Node; `npm test` runs without the CLI.
 */
const CDKTN_CLI_NODE = '22.19';
/** The Node that added worker_threads.markAsUncloneable (and 23.0): from it on, an older Node than 22.19 does not crash so. */
const MARK_AS_UNCLONEABLE_NODE = '22.10';

/**
 * What `Next:` adds for a Node the CDK's CLI does not run on: cdktn's init ran on Node 20 without a word, npm install
 * and npm test passed, and the first `npx cdktn synth` crashed with "markAsUncloneable is not a function" (a Node
 * before 22.10, which added it).
 * @internal
 */
export function nodeNoteFor(cdk: Cdk, nodeVersion: string): string | undefined {
  if (cdk.library !== 'cdktn' || !olderThan(nodeVersion, CDKTN_CLI_NODE)) return undefined;
  // Only a Node before 22.10 meets the crash; a later one is only outside cdktn-cli's engines.
  const synth = olderThan(nodeVersion, MARK_AS_UNCLONEABLE_NODE) ? 'stops at "markAsUncloneable is not a function"' : "runs outside cdktn-cli's engines";
  return `Note: this is Node ${nodeVersion}, and the cdktn CLI needs ${CDKTN_CLI_NODE} or later: npm install and npm test run on it, but npx cdktn synth (and deploy) ${synth}. `
    + `Switch to Node ${CDKTN_CLI_NODE} or later (such as nvm install 22) before the first synth.`;
}

function olderThan(version: string, minimum: string): boolean {
  const [a, b] = [version, minimum].map((v) => v.replace(/^v/, '').split('.').map(Number));
  for (let i = 0; i < b.length; i++) if ((a[i] ?? 0) !== b[i]) return (a[i] ?? 0) < b[i];
  return false;
}

/**
 * The heading of docs/testing.md's section on an offline deploy, which the scaffold's README names: free of any CDK's
 * command, since the docs are the same in the cdktf and the cdktn package.
 * @internal
 */
export const STAND_IN_DEPLOY_SECTION = 'Deploy and destroy against the stand-in';

/** A stack of the scaffolded app, synthesized: its name and Terraform JSON. */
interface SynthesizedStack {
  readonly name: string;
  readonly json: any;
}

/** A state bucket the stacks use, and which stacks keep their state in it. */
interface StateBucket {
  readonly bucket: string;
  readonly endpoint: string;
  readonly stacks: readonly string[];
}

/** The state buckets of the synthesized stacks, in their order: each must exist before the first deploy. */
function stateBuckets(stacks: readonly SynthesizedStack[]): StateBucket[] {
  const byBucket = new Map<string, { bucket: string; endpoint: string; stacks: string[] }>();
  for (const stack of stacks) {
    const s3 = stack.json.terraform?.backend?.s3;
    if (s3 === undefined) continue;
    const key = `${s3.endpoints.s3} ${s3.bucket}`;
    const entry = byBucket.get(key) ?? { bucket: String(s3.bucket), endpoint: String(s3.endpoints.s3), stacks: [] as string[] };
    entry.stacks.push(stack.name);
    byBucket.set(key, entry);
  }
  return [...byBucket.values()];
}

/** What the scaffolded product is made of. */
interface InitAnswers {
  readonly name: string;
  readonly domain: string;
  readonly location: string;
  /** Opens test's machines: its private half is test's ADMIN_SSH_KEY. */
  readonly adminKey: string;
  /** Opens production's (and staging's) machines alone: its private half is production's ADMIN_SSH_KEY. */
  readonly productionAdminKey: string;
  readonly adminCidrs: string[];
  readonly publicTo: string[];
  readonly pseudonymizedTo: string[];
  readonly budget: number;
}

/**
 * Test's location: the first EU location (Location.eu()'s order) other than production's, so fsn1 → nbg1, nbg1 and
 * hel1 → fsn1. In one location, test and production probe each other from inside the location they check, and the
 * first synth of a fresh scaffold would warn Monitoring-ProbeInTargetLocation twice about init's own default.
 */
export function testLocationFor(production: string): string {
  return Location.eu().find((l) => l.name !== production)!.name;
}

const PROCESSORS: Record<string, { factory: string; make: () => Processor }> = {
  mistral: { factory: 'Processor.mistralAi()', make: () => Processor.mistralAi() },
  jina: { factory: 'Processor.jinaAi()', make: () => Processor.jinaAi() },
};
/** Where a packed library given to --library is kept in the new repository, committed with it. */
const VENDOR_DIR = 'vendor';
const NAME = /^[a-z][a-z0-9-]{1,30}[a-z0-9]$/;
const VALUED = new Set(['name', 'domain', 'location', 'admin-key', 'production-admin-key', 'admin-cidrs', 'public', 'pseudonymized', 'budget', 'library']);

export async function initCommand(argv: readonly string[], io: CliIo, input: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin,
  clock: () => number = () => performance.now()): Promise<number> {
  const { dir, flags } = parse(argv);
  const target = path.resolve(dir);
  if (fs.existsSync(target) && fs.readdirSync(target).filter((f) => f !== '.git').length > 0) {
    throw new Error(`${target} is not empty. Fix: run init in a new, empty directory: cdktf-sovereign-hetzner init my-iac`);
  }
  // Without --library: the tarball this package was installed from, if it was (the registry has no release of that build).
  const installedFrom = flags.library === undefined ? installedFromTarball() : undefined;
  const library = librarySpec(installedFrom ? `file:${installedFrom}` : flags.library, io.env.HOME ?? os.homedir());
  if (installedFrom) io.out(`init: the library from ${installedFrom}, the tarball this package was installed from (--library to choose another).`);
  const answers = await complete(flags, path.basename(target), io, input, clock);
  // One synth both validates the answers and lists the variables for .env.example.
  const stacks = validate(answers);
  const files = scaffold(answers, stacks, library.spec);
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(target, file)), { recursive: true });
    fs.writeFileSync(path.join(target, file), content);
  }
  if (library.tarball) {
    fs.mkdirSync(path.join(target, VENDOR_DIR), { recursive: true });
    fs.copyFileSync(library.tarball, path.join(target, library.spec.slice('file:'.length)));
  }
  const written = [...Object.keys(files), ...(library.tarball ? [library.spec.slice('file:'.length)] : [])];
  io.out(`Scaffolded ${answers.name}'s IaC repository in ${target}: ${written.sort().join(', ')}.`);
  if (flags.library === undefined && !runsInstalled()) {
    // Run from a clone: its version need not be released, and npm install then stops at E404, which says nothing of --library.
    const own = ownPackage();
    io.out(`Note: package.json takes ${own.name}@${library.spec} from the npm registry, and this init runs from a clone. If that version is not `
      + `released there, npm install stops at E404: pack the clone (npm pack there) and init again with --library file:/path/to/clone/${own.name}-${own.version}.tgz.`);
  }
  // From elsewhere (`init acme-iac`), npm install here would install this directory's project, or fail for want of one.
  const below = path.relative(process.cwd(), target);
  const cd = below === '' ? '' : `cd ${shellWord(below.startsWith('..') ? target : below)} && `;
  io.out(`Next: ${cd}npm install && npm test (offline: the stand-in provider plays Hetzner), then read README.md there.`);
  const nodeNote = nodeNoteFor(ownCdk(), process.versions.node);
  if (nodeNote) io.out(nodeNote);
  return 0;
}

/** Whether this package runs from a node_modules directory (installed from the registry or a tarball), rather than from a clone. */
function runsInstalled(): boolean {
  return path.basename(path.dirname(packageRoot())) === 'node_modules';
}

/**
 * The tarball this package was installed from (`npm install /path/x.tgz`, `npx --package /path/x.tgz`): the project
 * that installed it names it as a `file:` dependency. Undefined when it came from the registry or runs from a clone.
 */
function installedFromTarball(): string | undefined {
  if (!runsInstalled()) return undefined;
  const host = path.dirname(path.dirname(packageRoot()));
  let manifest: { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(host, 'package.json'), 'utf8'));
  } catch {
    return undefined;
  }
  const name = ownPackage().name;
  const spec = manifest.dependencies?.[name] ?? manifest.devDependencies?.[name];
  if (typeof spec !== 'string' || !spec.startsWith('file:')) return undefined;
  const file = path.resolve(host, spec.slice('file:'.length));
  return fs.existsSync(file) && fs.statSync(file).isFile() ? file : undefined;
}

/**
 * This library's dependency spec in the new repository. A packed tarball (`file:…tgz`) is copied into its
 * vendor/ and named relatively: a path on this machine is one that CI's `npm ci` cannot reach, and npm reads a
 * relative `file:` from the new package.json's directory, not from where init ran.
 */
function librarySpec(flag: string | undefined, home: string): { spec: string; tarball?: string } {
  if (flag === undefined) return { spec: `^${ownPackage().version}` };
  const local = localPath(flag, home);
  if (local === undefined) return { spec: flag };
  const source = path.resolve(local);
  if (!fs.existsSync(source)) {
    throw new Error(`--library ${flag}: ${source} does not exist. Fix: pass the tarball \`npm pack\` wrote in your clone of the library, such as file:/path/to/clone/${ownPackage().name}-${ownPackage().version}.tgz.`);
  }
  // A directory (a clone) was named as file:/its/absolute/path: one of this machine, which CI's npm ci cannot reach.
  if (!fs.statSync(source).isFile()) {
    throw new Error(`--library ${flag}: ${source} is a directory, and package.json would name it by this machine's path, which CI's \`npm ci\` cannot reach. `
      + `Fix: run \`npm pack\` in it and pass the .tgz it writes, such as --library ${path.join(source, `${ownPackage().name}-${ownPackage().version}.tgz`)}.`);
  }
  // cdktn-sovereign-hetzner's tarball under this (cdktf) init, or the reverse, gave a repository on one CDK that
  // installed the library built for the other under this one's name: two CDKs in one app, which fails, sometimes
  // silently (aspects that never run).
  const own = ownPackage();
  const packed = packedPackageName(source);
  if (packed !== undefined && packed !== own.name) {
    const fix = /^cdkt[fn]-sovereign-hetzner$/.test(packed)
      ? `run the init of the package you pass, with the same arguments: npx --package ${source} ${packed} init … --library ${flag}`
      : `pass the tarball \`npm pack\` wrote in your clone of the library, such as file:/path/to/clone/${own.name}-${own.version}.tgz`;
    throw new Error(`--library ${flag} holds ${packed}, but this is ${own.name}'s init, which scaffolds a repository on ${cdkOf(own).library}. Fix: ${fix}.`);
  }
  return { spec: `file:${VENDOR_DIR}/${path.basename(source)}`, tarball: source };
}

/**
 * The path a dependency spec names on this machine (`~/` read from `home`), as npm reads a dependency's spec: `file:…`,
 * or a bare path (`.`, `..`, `./…`, `../…`, `/…`, `~/…`, or a name ending in .tgz, .tar.gz or .tar in any case, with an
 * `@` in it or not), which `npm install /path/to/x.tgz` takes too. A bare path was written into package.json as given:
 * a path of this machine that CI's `npm ci` cannot reach, the tarball not vendored. POSIX paths only.
 */
function localPath(spec: string, home: string): string | undefined {
  if (/^file:/i.test(spec)) return spec.slice('file:'.length);
  if (spec.startsWith('~/')) return path.join(home, spec.slice(2));
  if (/^[./]/.test(spec)) return spec;
  // A URL (https:, git+ssh:, npm:) or git's scp-like form (git@host:repo) has a colon before any slash: not a path.
  // A registry spec (name@1.2.3, a range) names no tarball.
  return !/^[^/]*:/.test(spec) && /\.(tgz|tar\.gz|tar)$/i.test(spec) ? spec : undefined;
}

function parse(argv: readonly string[]): { dir: string; flags: Record<string, string> } {
  let dir = '.';
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) { dir = arg; continue; }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    if (!VALUED.has(name)) throw unknownOption(arg, [...VALUED], 'init');
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value. Fix: see \`cdktf-sovereign-hetzner help init\`.`);
    // `--admin-key "$(cat admin.pub)"` of a file with Windows line endings keeps the \r, as a typed answer does not.
    flags[name] = value.trim();
  }
  return { dir, flags };
}

/** What a key question needs, where it is left empty or given a private key: a newcomer without a key yet. */
function keyHint(who: string): string {
  return `a public key line of ${who}'s own: make one with ssh-keygen -t ed25519 -f ~/.ssh/${who}-admin and paste the line of ~/.ssh/${who}-admin.pub`;
}

/**
 * The data boundary's questions: where public and pseudonymized data may go. In a terminal their answer is typed, and
 * Enter alone asks again: an Enter meant for something else (the one sent after a paste, which init cannot always tell
 * from one typed: a paste that ends in one line break arrives as a typed line does) took mistral for public data. Their
 * defaults stay for flags left out outside a terminal, and for the input ended (Ctrl-D), each said.
 */
const TYPED_IN_A_TERMINAL: Readonly<Record<string, string>> = {
  public: `the processors public data may go to, typed: ${processorAnswers()} (Enter alone answers nothing here, as this is the data boundary)`,
  pseudonymized: `the processors pseudonymized data may go to, typed: ${processorAnswers()} (Enter alone answers nothing here, as this is the data boundary)`,
};

/** The answers the data boundary's questions take, each as typed: a word ("both") init would refuse is never offered. */
function processorAnswers(): string {
  const names = Object.keys(PROCESSORS);
  return `${names.join(', ')}, several comma-separated (${names.join(',')}), or none`;
}

/**
 * How soon after a line a blank one is part of the same paste: a terminal hands a paste's lines on within a few ms.
 * This is a race with the wall clock, and can be lost: a loaded machine that runs init late, or an SSH link that
 * splits the paste, hands a CRLF's second line break on later. It cannot be told by the bytes instead: the pty's line
 * discipline has turned the CR into a line break of its own (ICRNL) before init reads it. A blank line that loses the
 * race comes within ENTER_AFTER_PASTE_MS of the answer, and is then said and asked again, never taken as a default.
 */
const PASTED_WITHIN_MS = 50;
/** A line typed into a terminal, and how it came. */
interface TypedLine {
  readonly line: string;
  /** It came in one paste with the line before it (PASTED_WITHIN_MS). */
  readonly pasted: boolean;
  /**
   * A blank line that came soon after an answer (ENTER_AFTER_PASTE_MS): the Enter that sent a paste off, not an answer.
   * Soon after any answer, not only one known to be pasted: a paste of one line that ends in a line break arrives as a
   * typed line does (the terminal hands on whole lines), and the Enter after it took the next question's default.
   */
  readonly enterAfterPaste: boolean;
}

/**
 * The lines typed into a terminal, each waiting until a question takes it. A blank line that arrives within
 * PASTED_WITHIN_MS of the line before it is dropped: a Windows (CRLF) paste, which the terminal hands on as two line
 * breaks, gave the next question an empty answer no one typed, which took its default (public data to mistral after
 * "none"). Each line of a paste is read on its own, in a turn of its own, so only the time tells them apart; a person's
 * own Enter comes far later. `clock` gives milliseconds.
 */
function typedLines(rl: readline.Interface, clock: () => number): { next(): Promise<TypedLine | undefined>; putBack(line: TypedLine): void } {
  const queue: TypedLine[] = [];
  let waiting: ((line: TypedLine | undefined) => void) | undefined;
  let ended = false;
  let last = -Infinity;
  // When the last line that was no blank one came: an answer, typed or pasted.
  let lastAnswer = -Infinity;
  // When init last asked for a line after one came: a paste's next line, already waiting while init worked on the one
  // before (its checks, a module loaded on first use), is read only then, however long that took. (An Enter typed
  // ahead of the first question is an answer.)
  let askedAt = -Infinity;
  const hand = (line: TypedLine | undefined) => {
    const taker = waiting;
    waiting = undefined;
    taker!(line);
  };
  rl.on('line', (line: string) => {
    const now = clock();
    const pasted = now - Math.max(last, askedAt) < PASTED_WITHIN_MS;
    last = now;
    if (pasted && line.trim() === '') return;
    const typed = { line, pasted, enterAfterPaste: line.trim() === '' && now - lastAnswer < ENTER_AFTER_PASTE_MS };
    if (line.trim() !== '') lastAnswer = now;
    // One Enter after an answer is taken for the paste's: the next, which the refusal asks for, is the person's.
    else if (typed.enterAfterPaste) lastAnswer = -Infinity;
    if (waiting) hand(typed); else queue.push(typed);
  });
  rl.on('close', () => {
    ended = true;
    if (waiting) hand(undefined);
  });
  return {
    next: () => {
      if (last !== -Infinity) askedAt = clock();
      return queue.length > 0 ? Promise.resolve(queue.shift()) : ended ? Promise.resolve(undefined) : new Promise((resolve) => { waiting = resolve; });
    },
    putBack: (line) => { queue.unshift(line); },
  };
}

/** A private key's lines after its BEGIN line: base64, PEM headers (Proc-Type: …) and their blank line. */
const PRIVATE_KEY_BODY = /^([A-Za-z0-9+/=]+|[A-Za-z-]+: .*|)$/;

/** Flags first; on a terminal, a question for each one left out; elsewhere, defaults or an error. */
async function complete(flags: Record<string, string>, dirName: string, io: CliIo, input: NodeJS.ReadableStream & { isTTY?: boolean }, clock: () => number): Promise<InitAnswers> {
  const interactive = input.isTTY === true;
  const rl = interactive ? readline.createInterface({ input, terminal: false }) : undefined;
  // Lines typed ahead of a question wait instead of being lost.
  const lines = rl ? typedLines(rl, clock) : undefined;
  // Outside a terminal every flag without a default is named at once, not one per attempt.
  // The README's `init acme-iac` names the repository, not the product: servers become acme-production-app.
  const product = dirName.replace(/-(iac|infra|infrastructure)$/, '');
  const nameDefault = NAME.test(product) ? product : undefined;
  const required: Array<[string, string]> = [['name', '--name acme'], ['admin-key', '--admin-key "ssh-ed25519 AAAA… you@team.eu"'],
    ['production-admin-key', '--production-admin-key "ssh-ed25519 AAAA… production"'], ['admin-cidrs', '--admin-cidrs 198.51.100.0/24']];
  // What a question without a default needs, said where it is left empty: a newcomer without a key yet was stopped
  // with "pass --admin-key", a flag of a command they had not typed.
  const needs: Record<string, string> = {
    'name': 'lowercase letters, digits and "-", such as acme',
    'admin-key': keyHint('test'),
    'production-admin-key': `${keyHint('production')} (another key than test's)`,
    'admin-cidrs': 'the networks you and CI deploy from, such as 198.51.100.0/24 (one address: 203.0.113.7/32)',
    ...TYPED_IN_A_TERMINAL,
  };
  // Whether the last answer refused was not shown as possibly a private key's line: a short last line of a key, pasted
  // with it, may look like a word ('QuietOrbit'), and is then not shown either.
  let withheld = false;
  // A flag's value is checked as a typed answer is, and its refusal is the usage error.
  const ask = async (flag: string, question: string, fallback?: string, adminKey?: string): Promise<string> => {
    if (flags[flag] !== undefined) {
      const given = normalized(flag, flags[flag]);
      const problem = answerProblem(flag, given, adminKey);
      if (problem !== undefined) throw new UsageError(problem);
      return given;
    }
    // The default a bare Enter takes in a terminal: none at the data boundary's questions.
    const enterTakes = TYPED_IN_A_TERMINAL[flag] === undefined ? fallback : undefined;
    // Asked again until answered: an empty answer to a question without a default says what it needs.
    while (lines) {
      // Asked for before the question shows: a line that comes once it shows comes after the time it was asked at.
      const next = lines.next();
      io.out(`${question}${enterTakes ? ` [${enterTakes}]` : ''}:`);
      const typed = await next;
      if (typed === undefined) {
        if (fallback === undefined) break;
        // Ctrl-D: the defaults of the questions left, each said (and the summary after the last lists them).
        io.out(`  The input ended: ${fallback}, the default.`);
        return fallback;
      }
      if (typed.enterAfterPaste && enterTakes !== undefined) {
        // The Enter pressed after a paste that ended in a line break of its own took the next question's default.
        // (Where Enter takes none, what the question needs is said below.)
        io.out(`  That Enter came right after the answer before it (a paste sends its line break itself), so it answers nothing. Fix: press Enter again for the default (${enterTakes}), or type the answer.`);
        continue;
      }
      const answer = normalized(flag, typed.line.trim());
      if (opensPrivateKey(answer)) {
        // Each line of a pasted private key was an answer of its own, refused with its first characters printed.
        for (let body = await lines.next(); body !== undefined && !/^-----END [A-Z0-9 ]*PRIVATE KEY-----$/.test(body.line.trim()); body = await lines.next()) {
          if (!PRIVATE_KEY_BODY.test(body.line.trim())) { lines.putBack(body); break; }
        }
        io.out(`  That is a private key, which stays on your machine (none of it is shown or kept). Fix: paste ${flag.endsWith('admin-key') ? needs[flag] : 'the answer asked for'}.`);
        continue;
      }
      if (answer === '' && enterTakes === undefined) {
        io.out(`  This needs ${needs[flag] ?? 'an answer'}.`);
        continue;
      }
      const shown = !(withheld && typed.pasted);
      const problem = answerProblem(flag, answer || enterTakes!, adminKey, shown);
      if (problem === undefined) return answer || enterTakes!;
      withheld = !shown || mayHoldPrivateKey(answer);
      io.out(`  ${problem}`);
    }
    // Outside a terminal: the default, which the summary line names.
    if (fallback !== undefined) return fallback;
    const example = required.find(([f]) => f === flag)?.[1] ?? `--${flag} …`;
    throw new UsageError(`--${flag} is required${interactive ? ' (the input ended before it was answered)' : ' when init does not run in a terminal'}. `
      + `Fix: pass ${example}${needs[flag] ? `: ${needs[flag]}` : ''} (see \`cdktf-sovereign-hetzner help init\`).`);
  };
  const missing = interactive ? [] : required.filter(([flag]) => flags[flag] === undefined && !(flag === 'name' && nameDefault));
  if (missing.length > 0) {
    const names = missing.map(([flag]) => `--${flag}`);
    const listed = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
    throw new UsageError(`${listed} ${missing.length === 1 ? 'is' : 'are'} required when init does not run in a terminal. `
      + `Fix: pass ${missing.map(([, example]) => example).join(' ')} (see \`cdktf-sovereign-hetzner help init\`).`);
  }
  try {
    const name = await ask('name', 'Product name (lowercase, used in server and stack names)', nameDefault);
    const domain = await ask('domain', 'Domain your product answers on (for the uptime checks)', `${name}.eu`);
    const location = await ask('location', 'Location of the machines (fsn1, nbg1, hel1)', 'fsn1');
    const adminKey = await ask('admin-key', "Test's admin SSH public key (ssh-ed25519 AAAA…)");
    const productionAdminKey = await ask('production-admin-key', "Production's admin SSH public key, another key than test's (ssh-ed25519 AAAA…)", undefined, adminKey);
    const adminCidrs = cidrList(await ask('admin-cidrs', 'Networks admins and CI deploy from (CIDRs, comma-separated)'));
    const publicTo = list(await ask('public', 'Processors that may receive public data (mistral, jina; none)', 'mistral'));
    const pseudonymizedTo = list(await ask('pseudonymized', 'Processors that may receive pseudonymized data (none)', 'none'));
    // Phase 1 is about €30 a month (`npm run cost`): €40 keeps a new repository's first synth under Cost-NearBudget's 80%.
    const budget = decimalNumber(await ask('budget', 'Monthly budget in EUR, excluding VAT', '40'));
    // In a terminal too: an answer taken from a default (an Enter typed ahead, the input ended) shows here.
    io.out(`init: ${name} in ${location} (test in ${testLocationFor(location)}), public data to ${publicTo.join(', ') || 'nobody'}, pseudonymized to ${pseudonymizedTo.join(', ') || 'nobody'}, budget €${budget}.`);
    return { name, domain, location, adminKey, productionAdminKey, adminCidrs, publicTo, pseudonymizedTo, budget };
  } finally {
    rl?.close();
  }
}

function cidrList(text: string): string[] {
  return text.split(',').map((c) => c.trim()).filter(Boolean);
}

function list(text: string): string[] {
  return text.toLowerCase() === 'none' ? [] : text.split(',').map((p) => p.trim().toLowerCase()).filter(Boolean);
}

/** An answer as init checks and writes it: a location and a domain in lowercase, a domain without a trailing dot. */
function normalized(flag: string, value: string): string {
  if (flag === 'location') return value.toLowerCase();
  if (flag === 'domain') return value.toLowerCase().replace(/\.$/, '');
  return value;
}

/**
 * What is wrong with one answer (a flag's value, or what was typed for it), checked alone (production's key against
 * test's, given as adminKey); undefined when nothing is. In a terminal the question is asked again with it, so that a
 * typo does not cost every answer after it; with flags it is the usage error. What needs more (the cost against the
 * budget) is left to the library's synth.
 */
function answerProblem(flag: string, value: string, adminKey?: string, quoted = true): string | undefined {
  // A private key's line, pasted at any question, is refused unquoted; so is any line pasted with one (quoted false).
  const shown = (text: string) => (quoted || mayHoldPrivateKey(text) ? refusedKeyShown(text, 'answer')
    : 'an answer (not shown: it came in one paste with a line that may be a private key\'s)');
  switch (flag) {
    case 'name':
      return NAME.test(value) ? undefined : `--name ${shown(value)} is not allowed: it becomes part of server and stack names. Fix: use 3 to 32 lowercase letters, digits and "-", such as acme.`;
    case 'domain':
      return /^[a-z0-9.-]+\.[a-z]{2,}$/.test(value) ? undefined : `--domain ${shown(value)} is not a domain name. Fix: pass the host your product answers on, such as acme.eu.`;
    case 'location': {
      const location = Location.of(value);
      if (!location.isKnown) return `--location ${shown(value)} is not a Hetzner location. Fix: use fsn1, nbg1 or hel1.`;
      return location.inEu ? undefined : `--location ${shown(value)} is not allowed: the product's data stays in the EU. Fix: use fsn1, nbg1 or hel1.`;
    }
    case 'admin-key':
    case 'production-admin-key':
      if (!isOpenSshPublicKey(value)) {
        return `--${flag} ${refusedKeyShown(value)} is not an OpenSSH public key. Fix: pass the single line of a .pub file, `
          + 'such as ~/.ssh/id_ed25519.pub, in one piece (never the private key).';
      }
      // Refused here as at synth, so that a terminal asks again rather than losing every answer at the end.
      if (weakKeyWhy(value) !== undefined) return `--${flag} '${sshKeyNamed(value)}' is not allowed: ${weakKeyWhy(value)}. Fix: ${STRONGER_KEY_FIX}.`;
      // Compared by the key (what its base64 decodes to), not the text: comments and padding aside.
      return adminKey !== undefined && sshKeyMaterial(value) === sshKeyMaterial(adminKey)
        ? `--production-admin-key is --admin-key's key: test's CI job would hold a key that is root on production. Fix: give production ${keyHint('production')}.`
        : undefined;
    case 'admin-cidrs': {
      const blocks = cidrList(value);
      const bad = blocks.filter((c) => cidrProblem(c) !== undefined);
      // cidrProblem quotes a block's address, which a private key's line ending in /12 would be.
      if (bad.length > 0) return bad.map((c) => `--admin-cidrs ${shown(c)} is not allowed: ${!quoted || mayHoldPrivateKey(c) ? 'it is no CIDR block' : cidrProblem(c)}. Fix: ${cidrFix(c)}.`).join(' ');
      return coversWholeInternet(blocks)
        ? `--admin-cidrs '${blocks.join(',')}' is not allowed: together these blocks cover the whole internet, and SSH must never be open to it. Fix: list only the office, VPN and CI blocks.`
        : undefined;
    }
    case 'public':
    case 'pseudonymized': {
      const processors = list(value);
      if (processors.includes('none')) return `--${flag} ${shown(value)} is not allowed: none stands alone, for no processor. Fix: answer none, or only processors (${Object.keys(PROCESSORS).join(', ')}).`;
      const unknown = processors.find((p) => !PROCESSORS[p]);
      return unknown === undefined ? undefined
        : `processor ${shown(unknown)} is not one init knows. Fix: answer ${processorAnswers()}, and declare others in product.ts.`;
    }
    case 'budget': {
      // Refused with the text as given: Number('30€') is NaN, which the message would print instead.
      const budget = decimalNumber(value);
      return Number.isFinite(budget) && budget > 0 ? undefined : `--budget ${shown(value)} is not allowed: a budget is a positive amount of euros. Fix: pass a number such as 30.`;
    }
    default:
      return undefined;
  }
}

/**
 * Builds and synthesizes the product the answers describe, so that every mistake surfaces here with
 * the library's own message; returns the synthesized stacks.
 */
function validate(answers: InitAnswers): SynthesizedStack[] {
  // Each answer was checked alone as it was given (answerProblem). The library checks everything else exactly as at
  // synth: what it refuses is a flag's value.
  // Only its refusals: anything else thrown here (a TypeError) is a bug, not a usage error, and keeps its exit code.
  try {
    return synthesize(answers);
  } catch (e) {
    if (isRefusal(e)) throw new UsageError((e as Error).message);
    throw e;
  }
}

/**
 * A refusal of the library's: a ValidationError thrown while the app is built, or the error cdktf throws at synth for
 * what the constructs' `node.addValidation` checks found (a plain Error, known by its opening words).
 */
function isRefusal(e: unknown): boolean {
  return e instanceof ValidationError || (e instanceof Error && e.message.startsWith('Validation failed with the following errors'));
}

function productOf(a: InitAnswers): Product {
  // One instance per processor, as product.ts declares them.
  const made = new Map<string, Processor>();
  const processor = (n: string) => made.get(n) ?? made.set(n, PROCESSORS[n].make()).get(n)!;
  return new Product({
    name: a.name,
    phase: Phase.ONE,
    location: Location.of(a.location),
    locations: { test: Location.of(testLocationFor(a.location)) },
    admin: { sshPublicKeys: { admin: a.adminKey }, environmentSshPublicKeys: { production: { admin: a.productionAdminKey } }, cidrs: a.adminCidrs },
    stateBucket: `${a.name}-tfstate`,
    stateBuckets: { production: `${a.name}-production-tfstate` },
    staging: StagingMode.fromProductionSnapshot(),
    boundary: new BoundaryPolicy({
      aiActRoles: [AiActRole.DEPLOYER],
      egress: [
        ...(a.publicTo.length > 0 ? [{ dataClass: DataClass.PUBLIC, to: a.publicTo.map(processor), form: EgressForm.RAW }] : []),
        ...(a.pseudonymizedTo.length > 0 ? [{ dataClass: DataClass.PSEUDONYMIZED, to: a.pseudonymizedTo.map(processor), form: EgressForm.PSEUDONYMIZED }] : []),
      ],
    }),
    backup: { restoreChecks: [RestoreCheck.sql('database-answers', { database: 'app', query: 'SELECT true' })] },
    monitoring: new MonitoringPlan({
      uptimeChecks: [UptimeCheck.http(Environment.PRODUCTION, `https://${a.domain}/health`), UptimeCheck.http(Environment.TEST, `https://test.${a.domain}/health`)],
      receivers: [AlertReceiver.webhook('ops', { hostname: `chat.${a.domain}` })],
      deadMansSwitch: DeadMansSwitch.healthchecksIo(),
    }),
    budget: Budget.monthly(Money.euros(a.budget)),
  });
}

/** The stacks main.ts will synthesize, synthesized here: for validation and for .env.example. */
function synthesize(a: InitAnswers): SynthesizedStack[] {
  const app = Testing.app();
  const stacks = new ProductStacks(app, productOf(a), { stagingExpiresAt: '2099-12-31' });
  return stacks.all.map((s) => ({ name: s.node.id, json: JSON.parse(Testing.synth(s, true)) }));
}

function scaffold(a: InitAnswers, stacks: readonly SynthesizedStack[], library: string): Record<string, string> {
  const own = ownPackage();
  const dev = own.devDependencies;
  const cdk = cdkOf(own);
  const variables = requirementsOfStacks(stacks).filter((r) => r.variable);
  const env = environmentExample(variables, cdk);
  // CI hands each deploying environment its own stack's variables, and nothing of the other's.
  const ciEnvironment = (name: 'test' | 'production'): CiEnvironment => {
    const stack = `${a.name}-${name}`;
    const variables = requirementsOfStacks(stacks.filter((s) => s.name === stack)).filter((r) => r.variable);
    return { name, stack, variables: variables.sort((x, y) => x.name.localeCompare(y.name)) };
  };
  const ci = { test: ciEnvironment('test'), production: ciEnvironment('production') };
  const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
  return {
    'package.json': json({
      name: `${a.name}-iac`,
      private: true,
      version: '0.1.0',
      scripts: {
        build: 'tsc -p tsconfig.json',
        synth: `${cdk.command} synth`,
        check: 'cdktf-sovereign-hetzner check',
        // The first run writes the snapshots (commit them); CI runs `npm test -- --ci`, which never writes new ones.
        test: 'tsc -p tsconfig.json --noEmit && jest',
        cost: 'cdktf-sovereign-hetzner cost',
        report: 'npm run --silent build && cdktf-sovereign-hetzner report --app dist/main.js --export defineApp',
      },
      dependencies: { [own.name]: library, [cdk.library]: dev[cdk.library], constructs: dev.constructs },
      devDependencies: {
        [cdk.cliPackage]: dev[cdk.cliPackage], typescript: dev.typescript, jest: dev.jest, 'ts-jest': dev['ts-jest'],
        '@types/jest': dev['@types/jest'], '@types/node': dev['@types/node'],
        // The stand-in's protocol packages: optional peers of the library, needed by the tests below.
        '@grpc/grpc-js': dev['@grpc/grpc-js'], '@grpc/proto-loader': dev['@grpc/proto-loader'], '@msgpack/msgpack': dev['@msgpack/msgpack'],
        // The report's diagram (npm run report): another optional peer of the library.
        '@hpcc-js/wasm-graphviz': dev['@hpcc-js/wasm-graphviz'],
      },
      // jest 30's resolver needs this pin for npm ci on some platforms.
      overrides: { 'unrs-resolver': '1.12.2' },
      // npm 11 runs no dependency's install script that this does not allow, and ends each install listing those it
      // skipped: the library's own list, whose CDK CLI and test tooling this repository installs too, none of them needed.
      ...(own.allowScripts ? { allowScripts: own.allowScripts } : {}),
    }),
    'cdktf.json': json({
      language: 'typescript', app: 'npm run --silent build && node dist/main.js', output: 'cdktf.out', terraformProviders: [], terraformModules: [],
      sendCrashReports: 'false', context: {}, projectId: randomUUID(),
    }),
    'tsconfig.json': json({
      compilerOptions: {
        target: 'ES2020', lib: ['es2020'], module: 'CommonJS', moduleResolution: 'node', strict: true, esModuleInterop: true,
        skipLibCheck: true, types: ['node', 'jest'], outDir: 'dist',
        // npm test type-checks with tsc first, so ts-jest only transpiles: a type check per test file
        // would repeat it, and takes most of a run's time.
        isolatedModules: true,
      },
      include: ['main.ts', 'product.ts', '__tests__/**/*.ts'],
    }),
    'jest.config.js': "module.exports = { testEnvironment: 'node', roots: ['<rootDir>/__tests__'], transform: { '^.+\\\\.ts$': 'ts-jest' } };\n",
    'product.ts': productSource(a),
    'main.ts': [
      `// The app \`${cdk.command} synth\` and \`${cdk.command} deploy\` run: test, staging (when STAGING_EXPIRES_AT is set) and production.`,
      `import { App } from '${cdk.library}';`,
      "import { ProductStacks } from 'cdktf-sovereign-hetzner/stacks';",
      "import { product } from './product';",
      '',
      '/** The stacks, on any app: `npm run report` calls this with its own app (report --app dist/main.js --export defineApp). */',
      'export function defineApp(app: App): ProductStacks {',
      '  return new ProductStacks(app, product(), { stagingExpiresAt: process.env.STAGING_EXPIRES_AT });',
      '}',
      '',
      `// Synthesize only when run (by ${cdk.command}), not when the report loads this module for defineApp.`,
      'if (require.main === module) {',
      '  const app = new App();',
      '  defineApp(app);',
      '  app.synth();',
      '}',
      '',
    ].join('\n'),
    '__tests__/stacks.test.ts': testSource(a, cdk),
    '.env.example': env,
    // cdktf.out/ also holds saved plans, which carry every secret in clear; .env.* covers .env.production and kin.
    // .hcloud-standin/ holds the simulated projects of an offline deploy (docs/testing.md).
    '.gitignore': ['node_modules/', 'dist/', 'cdktf.out/', '.env', '.env.*', '!.env.example', '*.tfstate*', '.terraform/', '.hcloud-standin/', ''].join('\n'),
    '.github/workflows/infrastructure.yml': githubWorkflow(a, cdk, ci),
    '.gitlab-ci.yml': gitlabPipeline(a, cdk, ci),
    'README.md': readme(a, cdk, ci, library, stateBuckets(stacks)),
  };
}

/** `text` as a single-quoted TypeScript string literal: a key's comment may hold a quote (o'brien@team.eu) or a backslash. */
function literal(text: string): string {
  return `'${JSON.stringify(text).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
}

function productSource(a: InitAnswers): string {
  const processors = [...new Set([...a.publicTo, ...a.pseudonymizedTo])];
  const egress = [
    ...(a.publicTo.length > 0 ? [`      { dataClass: DataClass.PUBLIC, to: [${a.publicTo.join(', ')}], form: EgressForm.RAW },`] : []),
    ...(a.pseudonymizedTo.length > 0 ? [`      { dataClass: DataClass.PSEUDONYMIZED, to: [${a.pseudonymizedTo.join(', ')}], form: EgressForm.PSEUDONYMIZED },`] : []),
  ];
  return `import {
  AiActRole, AlertReceiver, BoundaryPolicy, Budget, DataClass, DeadMansSwitch, EgressForm, Environment, Location, MonitoringPlan,
  Money, Phase, Processor, Product, RestoreCheck, StagingMode, UptimeCheck,
} from 'cdktf-sovereign-hetzner';

/** ${a.name}: Phase 1 (pilots), test always on, staging on demand, production protected. */
export function product(): Product {
${processors.map((p) => `  const ${p} = ${PROCESSORS[p].factory};`).join('\n')}
  return new Product({
    name: '${a.name}',
    phase: Phase.ONE,
    location: Location.of('${a.location}'),
    locations: { test: Location.of('${testLocationFor(a.location)}') },  // test elsewhere: each environment's uptime check probes the other from outside its location
    admin: {
      sshPublicKeys: { admin: ${literal(a.adminKey)} }, cidrs: [${a.adminCidrs.map(literal).join(', ')}],  // test's key: test's ADMIN_SSH_KEY
      environmentSshPublicKeys: { production: { admin: ${literal(a.productionAdminKey)} } },  // production's (and staging's) own: production's ADMIN_SSH_KEY
    },
    stateBucket: '${a.name}-tfstate',                         // test's state, in test's Hetzner project
    stateBuckets: { production: '${a.name}-production-tfstate' },  // production's (and staging's), in production's
    staging: StagingMode.fromProductionSnapshot(),
    boundary: new BoundaryPolicy({
      aiActRoles: [AiActRole.DEPLOYER],
      egress: [
${egress.join('\n')}
      ],
    }),
    backup: { restoreChecks: [RestoreCheck.sql('database-answers', { database: 'app', query: 'SELECT true' })] },
    monitoring: new MonitoringPlan({
      uptimeChecks: [UptimeCheck.http(Environment.PRODUCTION, 'https://${a.domain}/health'), UptimeCheck.http(Environment.TEST, 'https://test.${a.domain}/health')],
      receivers: [AlertReceiver.webhook('ops', { hostname: 'chat.${a.domain}' })],
      deadMansSwitch: DeadMansSwitch.healthchecksIo(),
    }),
    budget: Budget.monthly(Money.euros(${a.budget})),
  });
}
`;
}

function testSource(a: InitAnswers, cdk: Cdk): string {
  return `import { Testing } from '${cdk.library}';
import { ProductStacks } from 'cdktf-sovereign-hetzner/stacks';
import { setupStandInMatchers } from 'cdktf-sovereign-hetzner/testing';
import { product } from '../product';

// Offline: the stand-in provider plays Hetzner for Terraform (terraform >= 1.10 must be on PATH).
setupStandInMatchers();
const stacks = () => new ProductStacks(Testing.app(), product(), { stagingExpiresAt: '2099-12-31' });
const synth = (stack: any) => JSON.parse(Testing.synth(stack, true));

test('production is protected against loss', () => {
  const [server]: any[] = Object.values(synth(stacks().production).resource.hcloud_server);
  expect(server).toMatchObject({ name: '${a.name}-production-app', delete_protection: true, location: '${a.location}' });
  expect(server.lifecycle.prevent_destroy).toBe(true);
});

test.each(['test', 'staging', 'production'] as const)('the %s stack is valid and plans with Terraform', (env) => {
  const stack = stacks()[env]!;
  expect(stack).toBeValidWithStandIn();
  expect(stack).toPlanWithStandIn();
});

test('production refuses terraform destroy', () => {
  expect(stacks().production).toRefuseToDestroy('hcloud_server');
}, 120_000);

test('the synthesized stacks match their snapshots', () => {
  for (const stack of stacks().all) expect(synth(stack)).toMatchSnapshot(stack.node.id);
});
`;
}

/** The Terraform version CI installs: the stacks need 1.10 or later (S3 state locking). */
const TERRAFORM_VERSION = '1.11.4';

/** The variables \`release\` reads a project's token and state key pair from, as the README lists them. */
function releaseCredentialList(project: ReleaseProject): string {
  const names = [projectTokenVariable(project), ...STATE_KEY_VARIABLES.map((name) => projectStateKeyVariable(name, project))].map((name) => `\`${name}\``);
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** The steps every job of the GitHub workflow starts with: the repository, Node and Terraform. */
function setupSteps(cdk: Cdk): string {
  return `      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with: { node-version: ${cdk.nodeMajor} }
      - uses: hashicorp/setup-terraform@v3
        with: { terraform_version: ${TERRAFORM_VERSION}, terraform_wrapper: false }
`;
}

/**
 * What the deploying environments of the scaffold need, each from its own secrets: test's stack, and production's.
 * Staging is brought up and down by the release path (`release`), outside CI.
 */
interface CiEnvironment {
  /** `test` or `production`: the environment's name, and the GitHub environment / GitLab scope its secrets live in. */
  readonly name: 'test' | 'production';
  /** The stack it deploys. */
  readonly stack: string;
  /** The stack's Terraform variables (TF_VAR_…), from its synth, by name. */
  readonly variables: readonly Requirement[];
}

/** The credentials every deploying job reads besides the stack's variables: each environment's own values. */
const CREDENTIALS = ['HCLOUD_TOKEN', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];

/**
 * The GitHub secret a stack variable comes from: GitHub keeps secret names in upper case (letters,
 * digits and _ only), while TF_VAR_ must keep the variable's own case for Terraform to find it.
 */
function githubSecretOf(r: Requirement): string {
  return `TF_VAR_${r.name}`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

/**
 * A job's env: the credentials and the stack variables of one environment, each from the secret of its name in the
 * GitHub environment the job names. Names only, never a value; nothing of another environment.
 */
function githubJobEnv(environment: CiEnvironment): string {
  return `    env:\n${[
    ...CREDENTIALS.map((name) => `      ${name}: \${{ secrets.${name} }}\n`),
    ...environment.variables.map((r) => `      TF_VAR_${r.name}: \${{ secrets.${githubSecretOf(r)} }}\n`),
  ].join('')}`;
}

/** Why production's plan job runs `guard`, in the pipelines' own words. */
const GUARD_COMMENT = 'fails when the plan deletes a protected resource (a renamed construct ID): no approval can let that through';

/**
 * `terraform plan` of a synthesized stack, printed and never saved: a saved plan (`cdktf plan`'s
 * cdktf.out/stacks/<stack>/plan) holds every secret of the stack in clear. Read-only: no lock is taken.
 */
function printedPlan(stack: string, flags = ''): string {
  return `(cd cdktf.out/stacks/${stack} && terraform init -input=false >/dev/null && terraform plan -input=false -no-color -lock=false${flags})`;
}

/** Production's plan, printed as `printedPlan` prints it, and guarded, from one `terraform plan`. */
function guardedPlan(stack: string): string {
  return `npx cdktf-sovereign-hetzner guard ${stack} --print-plan`;
}

/**
 * A deploy job's concurrency group on GitHub: one per environment, shared by every run of the workflow, so that two
 * deploys of one stack never overlap. `cancel-in-progress: false`: a deploy stopped half-way leaves Terraform's
 * state lock held and the stack part-applied. GitHub still cancels a deploy that is only pending in the group when a
 * newer one queues: the newer commit deploys instead.
 */
function githubDeployConcurrency(environment: CiEnvironment): string {
  return `    concurrency: { group: deploy-${environment.stack}, cancel-in-progress: false }  # one deploy of ${environment.stack} at a time, never cancelled half-way\n`;
}

/**
 * The shell line a deploy job starts with: it refuses unless the commit checked out is still the newest of the
 * branch it deploys from. A pipeline approved after a newer one, or an old pipeline run again, would otherwise deploy
 * the older commit last and roll the stack back. Inside the job's concurrency group (resource group) the newer
 * commit's deploy can only follow, never precede, the one that passed this check.
 *
 * @param remote where the branch's newest commit is read from (`git ls-remote`)
 * @param ref the branch, as a full ref (`refs/heads/main`), in shell syntax
 */
function newestCommitCheck(remote: string, ref: string, environment: CiEnvironment): string[] {
  const refused = `deploy of ${environment.stack} refused`;
  return [
    `newest=$(git ls-remote --exit-code ${remote} "${ref}" | cut -f1 || true)`,
    'head=$(git rev-parse HEAD)',
    'if [ -z "$newest" ]; then',
    `  echo "${refused}: cannot read the newest commit of ${ref}, so cannot tell whether $head is older. Nothing was deployed. Fix: run the job again once the repository answers." >&2; exit 1`,
    'elif [ "$newest" != "$head" ]; then',
    `  echo "${refused}: this pipeline's commit $head is not the newest of ${ref} ($newest), and deployed after it would roll ${environment.stack} back. Nothing was deployed. Fix: deploy from the pipeline of $newest; to undo a change, revert it on the branch." >&2; exit 1`,
    'fi',
  ];
}

/** `lines` as a YAML literal block, its lines indented by `indent` spaces. */
function literalBlock(lines: readonly string[], indent: number): string {
  return `|\n${lines.map((line) => `${' '.repeat(indent)}${line}\n`).join('')}`;
}

function githubWorkflow(a: InitAnswers, cdk: Cdk, environments: { test: CiEnvironment; production: CiEnvironment }): string {
  const SETUP_STEPS = setupSteps(cdk);
  const { test, production } = environments;
  const sshAgent = `      - uses: webfactory/ssh-agent@v0.9.0     # the environment's own admin key: rollouts reach the machines over SSH
        with:                                   # block style: \${{ }} inside a { } flow map is not YAML
          ssh-private-key: \${{ secrets.ADMIN_SSH_KEY }}
`;
  // `synth` takes no stack (it synthesizes the app); `check` then looks at the job's own stack only. A job that only
  // plans has no SSH agent (it holds no admin key), which `check --plan` does not ask for.
  // Read through the credentials actions/checkout keeps in the clone's git config.
  const newestOnly = (e: CiEnvironment) => `      - name: refuse a commit older than the branch's newest (an old run again, or one approved after a newer one)
        run: ${literalBlock(newestCommitCheck('origin', '$GITHUB_REF', e), 10)}`;
  const synthAndCheck = (e: CiEnvironment, job: 'plan' | 'deploy') =>
    `      - run: npm ci && npx ${cdk.command} synth && npx cdktf-sovereign-hetzner check ${e.stack}${job === 'plan' ? ' --plan' : ''}  # names any secret still missing\n`;
  return `# ${a.name} infrastructure: synth and test on every push, test's plan on pull requests (as a comment),
# deploy test on main, then production's plan and, after a manual approval, its deploy; and a daily drift check that
# fails (and so notifies) when the real infrastructure differs from the code. A stack's deploys run one at a time and
# are never cancelled half-way (concurrency), and none deploys a commit older than main's newest (README.md,
# "Overlapping pipelines").
#
# Secrets are GitHub *environment* secrets (Settings > Environments), never repository secrets, and none is set for
# the whole workflow: each job names one environment and gets that environment's secrets alone, so no test job ever
# holds production's token, state key or passwords. README.md lists what each environment holds:
#   test             test's (its own Hetzner project and token, its own admin key): plan-test, deploy-test, drift-test
#   production-plan  production's, for its plan and drift check: deployment branches main only, so no pull request's code
#                    runs with them (a read & write Hetzner token: the plans only read, but the daily drift check also
#                    deletes staging past its expiry)
#   production       production's, for the deploy, with production's own ADMIN_SSH_KEY: required reviewers (the manual
#                    approval), deployment branches main only
name: infrastructure
on:
  push:
  pull_request:
  schedule: [{ cron: '17 6 * * *' }]
  workflow_dispatch:
permissions: { contents: read }
env:
  CHECKPOINT_DISABLE: '1'
  TF_INPUT: '0'
jobs:
  test:                                         # no environment: no secrets
    runs-on: ubuntu-latest
    steps:
${SETUP_STEPS}      - run: npm ci && npx ${cdk.command} synth && npm test -- --ci
  plan-test:
    if: github.event_name == 'pull_request'
    needs: test
    runs-on: ubuntu-latest
    environment: test
    permissions: { pull-requests: write, contents: read }
${githubJobEnv(test)}    steps:
${SETUP_STEPS}${synthAndCheck(test, 'plan')}      - run: set -o pipefail; ${printedPlan(test.stack)} | tee plan.txt
      - uses: actions/github-script@v7
        with:
          script: |
            const plan = require('fs').readFileSync('plan.txt', 'utf8').slice(-60000);
            await github.rest.issues.createComment({ ...context.repo, issue_number: context.issue.number, body: '<details><summary>plan of ${test.stack}</summary>\\n\\n\`\`\`\\n' + plan + '\\n\`\`\`\\n</details>' });
  deploy-test:
    if: github.ref == 'refs/heads/main' && github.event_name == 'push'
    needs: test
    runs-on: ubuntu-latest
    environment: test
${githubDeployConcurrency(test)}${githubJobEnv(test)}    steps:
${SETUP_STEPS}${newestOnly(test)}${sshAgent}${synthAndCheck(test, 'deploy')}      - run: npx ${cdk.command} deploy ${test.stack} --auto-approve
  plan-production:                              # what the approval of deploy-production lets through: read it first
    if: github.ref == 'refs/heads/main' && github.event_name == 'push'
    needs: deploy-test
    runs-on: ubuntu-latest
    environment: production-plan
${githubJobEnv(production)}    steps:
${SETUP_STEPS}${synthAndCheck(production, 'plan')}      - run: set -o pipefail; ${guardedPlan(production.stack)} | tee -a "$GITHUB_STEP_SUMMARY"  # ${GUARD_COMMENT}
  deploy-production:
    if: github.ref == 'refs/heads/main' && github.event_name == 'push'
    needs: plan-production
    runs-on: ubuntu-latest
    environment: production                     # required reviewers: the manual approval
${githubDeployConcurrency(production)}${githubJobEnv(production)}    steps:
${SETUP_STEPS}${newestOnly(production)}${sshAgent}${synthAndCheck(production, 'deploy')}      - run: npx ${cdk.command} deploy ${production.stack} --auto-approve
  drift-test:
    if: github.event_name == 'schedule'
    runs-on: ubuntu-latest
    environment: test
${githubJobEnv(test)}    steps:
${SETUP_STEPS}${synthAndCheck(test, 'plan')}      - name: terraform plan -detailed-exitcode (2 means drift, and fails the job)
        run: ${printedPlan(test.stack, ' -detailed-exitcode')}
  drift-production:
    if: github.event_name == 'schedule'
    runs-on: ubuntu-latest
    environment: production-plan
${githubJobEnv(production)}    steps:
${SETUP_STEPS}${synthAndCheck(production, 'plan')}      # Staging that outlived its expiry (a cancelled release never took it down) is deleted, not billed on: it lives
      # in production's project, built from production's snapshot.
      - run: npx cdktf-sovereign-hetzner staging delete-expired --yes
      - name: terraform plan -detailed-exitcode (2 means drift, and fails the job)
        run: ${printedPlan(production.stack, ' -detailed-exitcode')}
`;
}

/** The comment lines naming what one environment's GitLab variables hold: GitLab passes CI/CD variables to jobs by name. */
function gitlabVariableList(environment: CiEnvironment): string {
  return [...[...CREDENTIALS, 'ADMIN_SSH_KEY'].map((name) => `#     ${name}${name === 'AWS_ACCESS_KEY_ID' ? '' : ' (masked)'}\n`),
    ...environment.variables.map((r) => `#     TF_VAR_${r.name}${r.sensitive ? ' (masked)' : ''}\n`)].join('');
}

function gitlabPipeline(a: InitAnswers, cdk: Cdk, environments: { test: CiEnvironment; production: CiEnvironment }): string {
  const { test, production } = environments;
  // A job that only plans has no SSH agent (it holds no admin key), which `check --plan` does not ask for.
  const check = (e: CiEnvironment, job: 'plan' | 'deploy') => `npx cdktf-sovereign-hetzner check ${e.stack}${job === 'plan' ? ' --plan' : ''}`;
  // A job of one environment that deploys nothing: its check, then what it plans (and, for drift, what it cleans up).
  const planning = (e: CiEnvironment, ...steps: string[]) =>
    `  environment: { name: ${e.name}, action: prepare }\n  script:\n${[check(e, 'plan'), ...steps].map((step) => `    - ${step}\n`).join('')}`;
  // One deploy of an environment at a time (its resource group), and none of a commit older than the branch's newest;
  // CI_REPOSITORY_URL carries the job's token, so ls-remote reads a private repository too.
  const deploying = (e: CiEnvironment) => `  environment: { name: ${e.name} }\n  resource_group: ${e.name}\n  script:\n`
    + `    - ${literalBlock(newestCommitCheck('"$CI_REPOSITORY_URL"', 'refs/heads/$CI_COMMIT_BRANCH', e), 6)}`
    + `    - ${check(e, 'deploy')}\n    - npx ${cdk.command} deploy ${e.stack} --auto-approve\n`;
  return `# ${a.name} infrastructure: the same path as .github/workflows/infrastructure.yml, for GitLab.
# Set each variable below under Settings > CI/CD > Variables with the Environment scope of its environment, never
# "All (*)": a job gets only the variables of the environment it names (the test job names none and gets none),
# so no test job ever holds production's token, state key or passwords. Mark production's "Protected": only
# pipelines of protected branches (main) get them, so no merge request's code runs with them. A stack's deploys run one
# at a time (resource_group), and none deploys a commit older than main's newest (README.md, "Overlapping pipelines").
# Environment scope "test" (test's own Hetzner project and token; README.md says what each is for):
${gitlabVariableList(test)}# Environment scope "production":
${gitlabVariableList(production)}# Schedule a pipeline daily for the drift check.
image: node:${cdk.nodeMajor}-bookworm
variables:
  CHECKPOINT_DISABLE: "1"
  TF_INPUT: "0"
stages: [test, plan, deploy]
default:
  before_script: &setup
    - apt-get update -qq && apt-get install -y -qq --no-install-recommends openssh-client unzip >/dev/null
    # Terraform ${TERRAFORM_VERSION} (the stand-in tests and every plan and deploy run it), checked against HashiCorp's checksums.
    - cd /tmp && curl -fsSLO https://releases.hashicorp.com/terraform/${TERRAFORM_VERSION}/terraform_${TERRAFORM_VERSION}_linux_amd64.zip
      && curl -fsSL https://releases.hashicorp.com/terraform/${TERRAFORM_VERSION}/terraform_${TERRAFORM_VERSION}_SHA256SUMS | grep linux_amd64.zip | sha256sum -c -
      && unzip -q -o terraform_${TERRAFORM_VERSION}_linux_amd64.zip -d /usr/local/bin && cd "$CI_PROJECT_DIR"
    - npm ci
    - npx ${cdk.command} synth
test:
  stage: test
  script: [npm test -- --ci]
  rules: [{ if: '$CI_PIPELINE_SOURCE != "schedule"' }]
plan-test:
  stage: plan
${planning(test, `set -o pipefail; ${printedPlan(test.stack)} | tee plan.txt`)}  artifacts: { paths: [plan.txt], expose_as: plan of ${test.stack} }
  rules: [{ if: '$CI_PIPELINE_SOURCE == "merge_request_event"' }]
.deploy:
  stage: deploy
  interruptible: false                          # a newer pipeline never cancels a deploy under way (auto-cancel)
  before_script:
    - *setup
    - eval "$(ssh-agent -s)" && echo "$ADMIN_SSH_KEY" | ssh-add -   # the job's environment's own admin key
deploy-test:
  extends: .deploy
${deploying(test)}  rules: [{ if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_PIPELINE_SOURCE == "push"' }]
plan-production:
  stage: deploy
  needs: [deploy-test]
${planning(production, `set -o pipefail; ${guardedPlan(production.stack)} | tee plan.txt   # ${GUARD_COMMENT}`)}  artifacts: { paths: [plan.txt], expose_as: plan of ${production.stack} }
  rules: [{ if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_PIPELINE_SOURCE == "push"' }]
deploy-production:
  extends: .deploy
  needs: [plan-production]
${deploying(production)}  rules: [{ if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_PIPELINE_SOURCE == "push"', when: manual }]
drift-test:
  stage: plan
${planning(test, printedPlan(test.stack, ' -detailed-exitcode'))}  rules: [{ if: '$CI_PIPELINE_SOURCE == "schedule"' }]
drift-production:
  stage: plan
${planning(production, 'npx cdktf-sovereign-hetzner staging delete-expired --yes   # staging past its expiry is deleted, not billed on',
    printedPlan(production.stack, ' -detailed-exitcode'))}  rules: [{ if: '$CI_PIPELINE_SOURCE == "schedule"' }]
`;
}

function readme(a: InitAnswers, cdk: Cdk, ci: { test: CiEnvironment; production: CiEnvironment }, library: string, states: readonly StateBucket[]): string {
  const vendored = library.startsWith(`file:${VENDOR_DIR}/`)
    ? `\n\`${library.slice('file:'.length)}\` is the library packed from a clone, since the npm registry has no release of it yet: commit it, as
CI installs from it. Once it is released, \`npm install cdktf-sovereign-hetzner@<version>\` and delete \`${VENDOR_DIR}/\`. To take a
newer build before then, pack it again, copy it over this file and run \`npm install ./${library.slice('file:'.length)}\`, which records it
in package-lock.json: its version is the same, so a plain \`npm install\` or \`npm ci\` keeps the build the lock file names.\n`
    : library.startsWith('file:') ? `\npackage.json installs the library from \`${library.slice('file:'.length)}\`, which exists on this machine only: CI cannot
install it. Pack it (\`npm pack\` there) and copy the tarball into this repository, with a relative \`file:\` in package.json.\n` : '';
  const listed = (list: readonly Requirement[]) => list.map((r) => `- \`TF_VAR_${r.name}\`${r.sensitive ? ' (secret)' : ''}: ${r.why}.`).join('\n');
  // Each environment's bucket from the synth, the one source of the list of buckets to create above too.
  const bucketOf = (e: CiEnvironment) => states.find((s) => s.stacks.includes(e.stack))?.bucket;
  return `# ${a.name} infrastructure

Built on cdktf-sovereign-hetzner. \`product.ts\` declares the product once; \`main.ts\` turns it into three stacks:
\`${a.name}-test\` (always on), \`${a.name}-staging\` (on demand, when STAGING_EXPIRES_AT is set) and \`${a.name}-production\`.

\`\`\`sh
${cdk.library === 'cdktn' ? `node --version                           # ${CDKTN_CLI_NODE} or later: the cdktn CLI needs it (on an older Node it stops at "markAsUncloneable is not a function")\n` : ''}export CHECKPOINT_DISABLE=1              # the ${cdk.command} CLI then sends no version check to HashiCorp (the CI files set it too)
npm install && npm test                  # offline: Terraform validates and plans every stack against a local stand-in
npx ${cdk.command} synth && npx cdktf-sovereign-hetzner check    # lists every variable and credential a deploy needs
cp .env.example .env && chmod 600 .env   # then fill it in (git ignores .env; never commit it), and load it as below
npx ${cdk.command} deploy ${a.name}-production      # production first (below); with .env loaded, its admin key in your SSH agent
npx ${cdk.command} deploy ${a.name}-test            # then test, with test's admin key in your SSH agent
npm run cost                             # the monthly estimate, from cdktf.out
npm run report                           # report/index.md and report/index.html: the operator's report
\`\`\`

Commit what the first \`npm install && npm test\` add too: \`package-lock.json\` (CI runs \`npm ci\`, which needs it) and
\`__tests__/__snapshots__/\` (CI runs \`npm test -- --ci\`, which compares with the snapshots and never writes them). jest
treats \`CI=true\` in your shell the same way ("New snapshot was not written"): write them with \`npm test -- --ci=false\`.
A synth that prints \`Unable to open CLI configuration file\`${cdk.library === 'cdktn' ? ' (cdktn shows it as an \`[ERROR]\`)' : ''} still synthesized everything:
\`TF_CLI_CONFIG_FILE\` names a file that does not exist, and Terraform says so whenever the CLI asks it anything. Unset
the variable, or point it at the file.
\`allowScripts\` in \`package.json\` turns off the install scripts of four packages of the CDK CLI and the test tooling (npm 11
skips them anyway, and lists each one it skipped): nothing here needs them. A package of yours that does: \`npm install-scripts approve <package>\`.
${vendored}
\`${cdk.command}\` does not read \`.env\`: load it into the shell with \`set -a && . ./.env && set +a\`, and the environment's admin
key into an agent with \`eval "$(ssh-agent)" && ssh-add <admin key file>\`: test's for test, production's for production
(\`environmentSshPublicKeys\` in \`product.ts\`; each environment's machines accept only their own). To rehearse a deploy offline first, Terraform
against the library's stand-in for Hetzner, follow "${STAND_IN_DEPLOY_SECTION}" in
\`node_modules/${ownPackage().name}/docs/testing.md\`${cdk.command === 'cdktf' ? '' : ` (its commands are written for cdktf: type \`${cdk.command}\` where they type cdktf, as in \`npx ${cdk.command} synth\`, and require \`${ownPackage().name}/testing\` in its standin.js; \`cdktf.out\` keeps its name)`}, and \`rm -rf cdktf.out .hcloud-standin\` before the real deploy (\`check\` says so).

\`.env.example\` lists every variable the stacks read, with what it is for. The CI files deploy test on main and
production after a manual approval, one deploy of a stack at a time and never a commit older than main's newest
("Overlapping pipelines" below), and check for drift daily.

Before the first deploy, in the Hetzner console, for each environment's project: a Cloud project and its API token
(read & write) for \`HCLOUD_TOKEN\`; in Object Storage, the state bucket below (Terraform keeps its state there and
does not create it; if the console says a name is taken, pick another and set it in
\`product.ts\`: \`stateBucket\` for test's, \`stateBuckets\` for production's) and an S3 key pair for
\`AWS_ACCESS_KEY_ID\` and \`AWS_SECRET_ACCESS_KEY\`:

${states.map((s) => `- ${s.stacks.map((n) => `\`${n}\``).join(' and ')}: the bucket \`${s.bucket}\` at \`${s.endpoint}\``).join('\n')}

The very first time, deploy production before test (\`npx ${cdk.command} deploy ${a.name}-production\` by hand): the test
machine's restore drill reads production's backups, and its \`TF_VAR_production_backup_host\` and
\`TF_VAR_production_backup_username\` are production's outputs \`backup_drill_host\` and \`backup_drill_username\`
(\`terraform -chdir=cdktf.out/stacks/${a.name}-production output -raw backup_drill_host\`). Add them as below; from
then on the CI's order holds.

## What CI needs

Each environment's secrets live apart, and each CI job gets the secrets of one environment only: a job that
deploys or plans test never holds production's Hetzner token, state key or passwords. Both environments need
\`HCLOUD_TOKEN\` (the token of the environment's own Hetzner project), \`AWS_ACCESS_KEY_ID\`, \`AWS_SECRET_ACCESS_KEY\`
and \`ADMIN_SSH_KEY\`, each with the environment's own value, and the variables of its stack. \`ADMIN_SSH_KEY\` is the
private key of the environment's own admin key: test's of \`admin.sshPublicKeys\`, production's of
\`admin.environmentSshPublicKeys.production\` in \`product.ts\` (staging, built from production's snapshot, takes
production's). Production's machines accept production's key alone, so the test jobs, and the always-on test
machine's deploys, hold no key that opens production; never give both environments the same key. The state is
apart too: an Object Storage key reads every bucket of its Hetzner project, and a stack's state holds its secrets
in clear, so test's state is in \`${bucketOf(ci.test)}\` in test's project and production's (and staging's) in
\`${bucketOf(ci.production)}\` in production's (\`stateBuckets\` in \`product.ts\`); each environment's
\`AWS_ACCESS_KEY_ID\` and \`AWS_SECRET_ACCESS_KEY\` are a key of its own project. Create both buckets
before the first deploy.

Test (\`${ci.test.stack}\`):

${listed(ci.test.variables)}

Production (\`${ci.production.stack}\`):

${listed(ci.production.variables)}

A secret of one kind has a value per environment (\`TF_VAR_database_app_password_test\` and
\`TF_VAR_database_app_password_production\`): \`check\` refuses the same value in both. Production's restic password
and its drill sub-account's password are in test's list by design: test's weekly restore drill reads production's
backups (read-only). With an offsite bucket, so are its endpoint and name, and a key of its own: create a read-only key
for the drill, since \`check\` refuses production's writing key there.

Where they go:

- GitHub Actions: create the environments \`test\`, \`production-plan\` and \`production\` (Settings > Environments), and
  add each secret to its environment, named in upper case (\`TF_VAR_${ci.test.variables[0]?.name.toUpperCase() ?? 'NAME'}\`):
  test's to \`test\`, production's to both \`production-plan\` (production's plan and drift check) and \`production\`
  (its deploy). Give \`production\` required reviewers, and limit \`production-plan\` and \`production\` to the main
  branch (deployment branches), so that no pull request runs with production's secrets. No repository secrets:
  every job would get those. \`.github/workflows/infrastructure.yml\` maps each into the jobs of its environment.
- GitLab: add each as a CI/CD variable under exactly the name above (masked when it is a secret), with the
  environment scope \`test\` or \`production\` (never \`*\`); mark production's protected. \`.gitlab-ci.yml\` names the
  environment of each job, and GitLab hands a job only its environment's variables.

Test's secrets include read access to production's backups: the weekly restore drill on the test machine restores
them, so test holds production's restic password and the drill's read-only Storage Box login (and, from Phase 2, a
read-only key of the offsite bucket). \`plan-test\` runs a pull request's code with them (GitHub gives no secrets to
pull requests from forks; GitLab gives merge request pipelines the \`test\` scope's variables). If not everyone who
can push a branch may read production's data, give the \`test\` environment required reviewers (GitHub; its deploys
then wait for one too), or mark test's variables protected (GitLab; merge requests then get no plan), or delete the
\`plan-test\` job.

CI plans are printed, never saved: \`${cdk.command} plan\` (and \`${cdk.command} diff\`) save \`cdktf.out/stacks/<stack>/plan\`, which
holds every secret of the stack in clear. Synth makes each \`cdktf.out/stacks/<stack>\` readable by you alone; still,
delete a saved plan once you have read it.

Production's plan job prints its plan through \`npx cdktf-sovereign-hetzner guard ${ci.production.stack} --print-plan\`, and the deploy job needs it: it fails
when the plan deletes a protected resource (a server, primary IP, volume, network or Storage Box with delete protection,
or a production sub-account). A renamed construct ID does that, and \`prevent_destroy\` cannot see it: the old address has
left the code. The guard names the old and the new address and how to keep the resource (the old ID, or \`moveFromId\`).
\`release\` runs it first, before anything is deployed.

\`npx cdktf-sovereign-hetzner release --product ${a.name} --rehearse "<your e2e command>"\` runs the whole release path by hand:
guard, deploy test, snapshot production, claim staging (refused while another release holds it), bring staging up
from the snapshot, rehearse, take staging down, give up the claim, deploy
production (\`--dry-run\` prints the commands). It reads the stacks from \`cdktf.out\`, staging's included, which a synth
makes only with an expiry: run \`STAGING_EXPIRES_AT=YYYY-MM-DD npx ${cdk.command} synth\` first. Your e2e command reads staging's addresses from the JSON file
\`REHEARSAL_OUTPUTS\` names; it runs without the Hetzner tokens, state keys, SSH agent, your AWS and hcloud
configuration (profiles, contexts, \`~/.aws\`) or other environments' secrets, which would let it touch production. It acts in both projects and reads both buckets, so it needs both
environments' values, each under its own name: ${releaseCredentialList('test')} with test's, ${releaseCredentialList('production')}
with production's (staging's state is in production's bucket), both environments' \`TF_VAR_…\`, and both admin keys in
your SSH agent. Each step gets its own project's as \`HCLOUD_TOKEN\`, \`AWS_ACCESS_KEY_ID\` and \`AWS_SECRET_ACCESS_KEY\`.

When you change \`product.ts\` and the stacks declare a new variable, \`npx cdktf-sovereign-hetzner check\` names
it: add it to \`.env.example\` (\`check --env-example .env.example\` rewrites it), to its environment's secrets, and on
GitHub to the \`env\` of that environment's jobs.

## Overlapping pipelines

Two pushes to main in quick succession start two pipelines, and production's approval can come after a newer
pipeline's. The CI files keep that from deploying two versions at once, or the older one last:

- One deploy of a stack at a time. On GitHub the deploy jobs hold the concurrency groups \`deploy-${ci.test.stack}\` and
  \`deploy-${ci.production.stack}\`, one per environment, with \`cancel-in-progress: false\`: a running deploy is never
  cancelled, since one stopped half-way leaves the stack part-applied and its state locked. A deploy that only waits in
  its group is cancelled when a newer one joins: the newer commit deploys instead. On GitLab they hold the
  \`resource_group\` of their environment (\`${ci.test.name}\` and \`${ci.production.name}\`) and are not \`interruptible\`, so
  auto-cancelling redundant pipelines never stops one under way. GitLab runs the jobs waiting for a resource group in
  any order (its \`process_mode\` is \`unordered\` unless changed through the API); the check below makes the order harmless.
- No commit older than the newest. Each deploy job first reads the newest commit of its branch (\`git ls-remote\`) and
  fails, deploying nothing, when the pipeline's commit is not the newest of its branch: an old pipeline run again, or
  one approved after a newer one, would roll the stack back. Approve the newest pipeline's deploy instead (and reject
  the older one still waiting); to undo a change, revert it on main, which takes the whole path again.
- The plan jobs and the daily drift check join no group: they plan with \`-lock=false\` and never write state, and on
  GitHub a job joining a deploy's group would cancel the deploy waiting there. A drift check that runs during a
  deploy can report what it caught half-applied: run it again.
- \`release\`, run by hand, is outside these groups. Terraform's state lock makes a second deploy of a stack fail rather
  than overlap, but nothing stops a release from an older checkout: release from an up-to-date main, while no CI
  deploy runs.

## The warnings of the first synth

Synth and deploy of the scaffold as it is print some of these; each names its fix, and none stops a deploy.
${whereSynthWarns(cdk, { app: 'node dist/main.js', backticks: true })}:
\`npx cdktf-sovereign-hetzner check\` lists them after its verdict, in CI too.

- \`Monitoring-NoErrorMonitoring\`: Phase 1 asks for basic error monitoring, and init does not set it up, since it
  needs a service you run (or choose). With self-hosted GlitchTip at, say, errors.${a.domain}: in \`product.ts\`, declare
  \`const errors = new Processor({ name: 'GlitchTip (self-hosted)', legalSeat: { city: 'Berlin', country: 'DE' }, hostnames: ['errors.${a.domain}'], purpose: 'error monitoring' });\`
  (with your own seat),
  allow it \`{ dataClass: DataClass.PSEUDONYMIZED, to: [errors], form: EgressForm.PSEUDONYMIZED }\` in \`egress\`, and
  pass \`errorMonitoring: ErrorMonitoringEndpoint.selfHosted(errors)\` to the \`MonitoringPlan\` (import
  \`ErrorMonitoringEndpoint\`). The stacks then read \`TF_VAR_${ERROR_MONITORING_DSN_VARIABLE}\`: add it as above.
- \`Cost-NearBudget\`: the estimate (\`npm run cost\`) is 80% or more of the monthly budget (€${a.budget}). Raise
  \`Budget.monthly(Money.euros(…))\` in \`product.ts\` if that is the plan, or keep it as the early warning it is.
- \`Monitoring-ProbeInTargetLocation\` (twice): only when test and production run in one location, such as after
  removing \`locations: { test: Location.of('${testLocationFor(a.location)}') }\` from \`product.ts\` (init puts test there, production in
  ${a.location}). They probe each other, so an outage of that location silences both probes (the dead-man's switch still
  notices). Fix: put test back in another location, or add an external uptime check.
- \`Environment-StagingLongLived\`: only when STAGING_EXPIRES_AT is more than 15 days ahead (such as the far date the
  tests use to keep their snapshots stable): staging kept up that long is permanent staging, which Phase 1 postpones.
  The release path sets an expiry at most 15 days ahead, and then it does not appear.
- \`Rollout-UnpinnedHostKey\` and \`Backup-UnpinnedHostKey\`: until they are pinned, the deploy's rollouts check no SSH
  host key at all (Terraform checks none without one), and the machine trusts the Storage Box's key on first use.
  After the first deploy, pin them in \`product.ts\`: \`admin.hostKeys\` with the key from
  \`/etc/ssh/ssh_host_ed25519_key.pub\` (read it on the server's web console, after \`hcloud server reset-password <server>\`
  gives root a password to log in with: servers created with SSH keys have none), and \`backup.storageBoxHostKeys\` with the
  key part of \`ssh-keyscan -p 23 <storage box host>\`.
`;
}
