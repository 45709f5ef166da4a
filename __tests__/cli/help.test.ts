import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DEFAULT_PRE_RELEASE_SNAPSHOTS_KEPT } from '../../lib/environments/pre-release-snapshots';
import { HcloudApiStandIn } from '../environments/hcloud-api-stand-in';
import { cli } from './cli';
import { cdkOf, ownCdk } from '../../cli/cdk';
import { environmentExample } from '../../cli/check';
import { usageOf } from '../../cli/run-cli';
import { isLoopbackHttpEndpoint } from '../../lib/environments/private/hetzner-endpoints';

// A newcomer types `COMMAND --help` first: it shows that command's usage on stdout and runs nothing.

describe('cdktf-sovereign-hetzner help', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'help-'));
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  test.each([
    ['init', /^ {2}cdktf-sovereign-hetzner init \[DIR\]/m],
    ['check', /^ {2}cdktf-sovereign-hetzner check \[STACK \.\.\.\]/m],
    ['guard', /^ {2}cdktf-sovereign-hetzner guard STACK \[--out DIR\] \[--print-plan \| --plan-json FILE\]/m],
    ['cost', /^ {2}cdktf-sovereign-hetzner cost \[--out DIR/m],
    ['report', /^ {2}cdktf-sovereign-hetzner report --app MODULE/m],
  ])('%s --help and -h print that command\'s usage on stdout and exit 0', async (command, usage) => {
    for (const flag of ['--help', '-h']) {
      const { code, out, err } = await cli([command, flag]);
      expect({ code, err }).toEqual({ code: 0, err: '' });
      expect(out).toMatch(usage);
      expect(out).not.toMatch(/cdktf-sovereign-hetzner staging list/);
    }
    expect((await cli(['help', command])).out).toMatch(usage);
  });

  test('--help anywhere runs nothing: init with every flag writes no file', async () => {
    const dir = path.join(work, 'acme-iac');
    const { code, out } = await cli(['init', dir, '--name', 'acme', '--admin-key', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu',
      '--admin-cidrs', '198.51.100.0/24', '--help']);
    expect(code).toBe(0);
    expect(out).toMatch(/cdktf-sovereign-hetzner init/);
    expect(fs.existsSync(dir)).toBe(false);
  });

  test('help prints every command on stdout; an unknown command is named on stderr with exit 2', async () => {
    const help = await cli(['help']);
    expect(help.code).toBe(0);
    for (const command of ['staging list', 'snapshot', 'release', 'init', 'check', 'guard', 'cost', 'report']) expect(help.out).toContain(`cdktf-sovereign-hetzner ${command}`);
    const unknown = await cli(['deploy']);
    expect(unknown.code).toBe(2);
    expect(unknown.out).toBe('');
    expect(unknown.err).toMatch(/^error: unknown command 'deploy'\. Fix: run one of the commands below\.\nUsage/);
  });

  // Review: check's usage named a bare docs/testing.md, which in a team's IaC repo is not the library's.
  test("every doc the usage names is named where a team's IaC repo finds it", async () => {
    const { out } = await cli(['help']);
    const named = [...out.matchAll(/(node_modules\/cdktf-sovereign-hetzner\/)?docs\/([\w.-]+\.md)( of cdktf-sovereign-hetzner \(node_modules\/cdktf-sovereign-hetzner\/docs\/([\w.-]+\.md))?/g)];
    expect(named.map((m) => m[2])).toContain('testing.md');
    for (const [text, inNodeModules, file, spelledOut, spelledOutFile] of named) {
      if (inNodeModules) continue;
      expect({ text, spelledOut: spelledOut !== undefined && spelledOutFile === file }).toEqual({ text, spelledOut: true });
    }
  });

  // Review: the usage never said that the Hetzner commands refuse the stand-in's token, nor where staging and snapshot take it.
  // Then it said "in any HCLOUD_TOKEN variable" (each command checks the one it reads: release with project tokens
  // HCLOUD_TOKEN_TEST and _PRODUCTION), "refused by release" (a dry run only notes it) and 127.0.0.1 alone of 127.0.0.0/8.
  // release.test.ts and staging-reaper.test.ts hold the refusals; the loopback addresses are held here.
  test("the whole usage says which commands refuse the stand-in's token, and which take it with a loopback HCLOUD_ENDPOINT", async () => {
    const { code, out } = await cli(['help']);
    expect(code).toBe(0);
    expect(out.replace(/\s+/g, ' ')).toContain("The stand-in's token, in the HCLOUD_TOKEN variable a command reads (above), is refused by release "
      + '(a dry run says it would be), and by staging and snapshot unless HCLOUD_ENDPOINT is an http(s) URL of this machine\'s loopback '
      + '(127.0.0.0/8, [::1], localhost), where a stand-in of the API may listen.');
    const taken = ['127.0.0.1', '127.0.0.2', '127.255.255.254', '[::1]', 'localhost'].flatMap((host) => [`http://${host}:8080/v1`, `https://${host}/v1`]);
    expect(taken.filter((url) => !isLoopbackHttpEndpoint(url))).toEqual([]);
    const refused = ['http://128.0.0.1/v1', 'http://126.255.255.255/v1', 'http://[::2]/v1', 'http://localhost.example.net/v1', 'ftp://127.0.0.1/v1', 'file:///tmp/x.json'];
    expect(refused.filter((url) => isLoopbackHttpEndpoint(url))).toEqual([]);
  });

  // `npx cdktf-sovereign-hetzner` alone printed staging's commands first and init, a newcomer's first, 100 lines down.
  test('the whole usage starts with init, saying so to a newcomer, and how to see one command', async () => {
    for (const args of [[], ['help'], ['--help']]) {
      const { code, out } = await cli(args);
      expect(code).toBe(0);
      expect(out.split('\n').slice(0, 2)).toEqual([
        'Usage (new here? init scaffolds your IaC repository; `cdktf-sovereign-hetzner help COMMAND` shows one command):',
        '  cdktf-sovereign-hetzner init [DIR] [--name NAME] [--domain DOMAIN] [--location fsn1|nbg1|hel1]',
      ]);
    }
  });
});

// Review: under cdktn-sovereign-hetzner, check's and guard's usage still said "Before `cdktf deploy`" and that
// `cdktf synth` prints the warnings only in a terminal, and .env.example said to load it "before cdktf deploy".
describe("the usage names the CDK commands of the package's own CDK", () => {
  const CDKS = { cdktf: cdkOf({ peerDependencies: { cdktf: '^0.21.0' } }), cdktn: cdkOf({ peerDependencies: { cdktn: '~0.24.0' } }) };

  test.each([['cdktf', 'cdktn'], ['cdktn', 'cdktf']] as const)('under %s: its deploy and synth, never those of %s', (flavour, other) => {
    const cdk = CDKS[flavour];
    const whole = usageOf([], cdk);
    for (const text of [whole, usageOf(['check'], cdk), usageOf(['guard'], cdk)]) {
      expect(text).not.toMatch(new RegExp(`\\b${other} (deploy|synth|plan|diff|destroy)\\b`));
    }
    expect(usageOf(['check'], cdk)).toContain(`Before \`${flavour} deploy\`: lists everything`);
    expect(usageOf(['check'], cdk).replace(/\s+/g, ' ')).toContain(`fix (\`${flavour} synth\` prints them ${flavour === 'cdktf' ? 'only in a terminal, not in CI or through a pipe' : 'in CI and through a pipe too'}, and an app run with \`node\` alone prints none); they fail nothing.`);
    expect(usageOf(['guard'], cdk)).toContain(`Before \`${flavour} deploy STACK\`: plans STACK`);
    expect(usageOf(['guard'], cdk)).toContain(`Needs what \`${flavour} deploy STACK\` needs`);
    expect(environmentExample([], cdk)).toContain(`load it before ${flavour} deploy;`);
    expect(environmentExample([], cdk)).not.toContain(`${other} deploy`);
  });

  test('the CLI prints the usage of the CDK its package is built for', async () => {
    expect(ownCdk().command).toBe('cdktf'); // this repository builds cdktf-sovereign-hetzner
    expect((await cli(['help'])).out).toBe(usageOf([], ownCdk()));
    expect((await cli(['guard', '--help'])).out).toBe(usageOf(['guard'], ownCdk()));
  });
});

// Audit (help): release, snapshot and staging printed the whole list of commands for `--help`, with no flag, variable
// or example of their own. Each now has its usage, and `--help` still runs nothing: no API request, no deploy.
describe('cdktf-sovereign-hetzner help for the Hetzner commands', () => {
  let api: HcloudApiStandIn;
  let endpoint: string;
  beforeEach(async () => {
    api = new HcloudApiStandIn({ servers: [{ id: 2, name: 'acme-production-app', labels: { environment: 'production' } }], images: [] });
    endpoint = await api.start();
  });
  afterEach(() => api.stop());

  /** Runs with a token and a reachable stand-in of the API, so that a command that ran would be seen there. */
  const run = (args: string[]) => cli(args, { HCLOUD_TOKEN: 'test-token', HCLOUD_ENDPOINT: endpoint });

  /** The usage printed, asserted to be that command's alone: its own synopsis, none of another command. */
  async function usageOf(args: string[], synopsis: string): Promise<string> {
    const { code, out, err } = await run(args);
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(out.startsWith(`Usage:\n  cdktf-sovereign-hetzner ${synopsis}`)).toBe(true);
    for (const other of ['init', 'check', 'cost', 'report', 'release', 'snapshot', 'staging list', 'staging delete-expired']) {
      if (!synopsis.startsWith(other) && !(synopsis === 'staging' && other.startsWith('staging'))) expect(out).not.toContain(`cdktf-sovereign-hetzner ${other} `);
    }
    expect(out).toMatch(/^ {6}Example:/m);
    return out;
  }

  test('release --help names its flags, both project tokens and what it refuses, and deploys nothing', async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'help-release-'));
    const marker = path.join(work, 'rehearsed');
    for (const args of [['release', '--help'], ['release', '-h'], ['help', 'release'],
      ['release', '--product', 'acme', '--out', work, '--rehearse', `touch ${marker}`, '--help']]) {
      const out = await usageOf(args, 'release --product NAME --rehearse "COMMAND"');
      for (const flag of ['--dry-run', '--no-snapshot', '--staging-days N', '--out DIR', '--now ISO-TIME']) expect(out).toContain(flag);
      expect(out).toMatch(/HCLOUD_TOKEN_TEST/);
      expect(out).toMatch(/HCLOUD_TOKEN_PRODUCTION/);
      expect(out).toMatch(/TF_VAR_/);
      expect(out).toMatch(/npx cdktf-sovereign-hetzner release --product acme --rehearse "npm run e2e" --dry-run/);
    }
    // Run, it would have said that environments.json is missing (and, with one, deployed test and rehearsed).
    expect(fs.existsSync(marker)).toBe(false);
    expect(api.requests).toEqual([]);
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('snapshot --help names --server, --description, --keep with its default, the token, and takes no snapshot', async () => {
    for (const args of [['snapshot', '--help'], ['snapshot', '-h'], ['help', 'snapshot'], ['snapshot', '--server', 'acme-production-app', '--keep', '1', '--help']]) {
      const out = await usageOf(args, 'snapshot --server NAME');
      expect(out).toContain('--description TEXT');
      expect(out).toContain(`(--keep, 1 to 50, default ${DEFAULT_PRE_RELEASE_SNAPSHOTS_KEPT})`);
      expect(out).toMatch(/HCLOUD_TOKEN_PRODUCTION/);
      expect(out).toMatch(/standard output/);
    }
    expect(api.requests).toEqual([]);
  });

  test.each([
    ['staging list', 'staging list [--now ISO-TIME]', /reads only|deletes nothing/i],
    ['staging delete-expired', 'staging delete-expired [--yes] [--now ISO-TIME]', /without --yes/i],
  ])('%s --help prints its own usage, with the labels it acts on and the token, and calls no API', async (command, synopsis, safety) => {
    const words = command.split(' ');
    for (const args of [[...words, '--help'], [...words, '-h'], ['help', ...words], [...words, '--yes', '--now', '2030-01-01T00:00:00Z', '--help']]) {
      const out = await usageOf(args, synopsis);
      expect(out).toMatch(safety);
      expect(out).toMatch(/environment=staging/);
      expect(out).toMatch(/HCLOUD_TOKEN\b/);
      expect(out).toMatch(/HCLOUD_TOKEN_PRODUCTION/);
    }
    expect(api.requests).toEqual([]);
  });

  test('staging --help shows both staging commands, and nothing else', async () => {
    const out = await usageOf(['staging', '--help'], 'staging');
    expect(out).toContain('cdktf-sovereign-hetzner staging list');
    expect(out).toContain('cdktf-sovereign-hetzner staging delete-expired');
    expect(api.requests).toEqual([]);
  });
});
