import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { javascriptEntry } from '../../testing/harness/transpile-cache';
import { cli, deployEnvironment, synthesizedPilotWorkDirectory } from './cli';

// Audit (first hour): a mistyped command exited 2 but a mistyped option, a missing value or a required option left out
// exited 1, as a command that ran and failed does, so a script could not tell them apart. And `… | head` ended the
// command with Node's EPIPE stack trace (`cost | head -2`, `check 2>&1 | head -1`). Usage errors now exit 2, failures
// 1, as `help` says; output to a closed pipe is dropped.

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu';
const PRODUCTION_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM8xqk9KKFzjyUm7zn9jN8qK6gUimLQcZv8WO+NIigxr ops@acme-production';
const { work, outdir } = synthesizedPilotWorkDirectory('cli-exit-codes-');

describe('a command line the CLI cannot run exits 2, and runs nothing', () => {
  test.each([
    [['bogus']],
    [['--version']],
    [['staging']],
    [['staging', 'list', '--bogus']],
    [['staging', 'list', '--stack', 'acme-staging']],
    [['staging', 'list', '--now', '12']],
    [['snapshot']],
    [['snapshot', '--server', 'acme-production-app', '--keep', 'two']],
    [['release', '--out', '$OUT', '--rehearse', 'true']],
    [['release', '--product', 'phase1-pilot', '--out', '$OUT', '--dry-run']],
    [['release', '--product', 'phase1-pilot', '--out', '$OUT', '--rehearse', '--dry-run']],
    [['release', '--product', 'phase1-pilot', '--out', '$OUT', '--rehearse', 'true', '--dry-run', '--staging-days', '15']],
    [['check', '--bogus']],
    [['check', '--out']],
    [['guard', '--out', '$OUT']],
    [['cost', '--jsn']],
    [['cost', 'extra']],
    [['cost', '--out', '$OUT', '--rehearsal-hours', 'two']],
    [['cost', '--out', '$OUT', '--snapshots-kept', '0']],
    [['cost', '--out', '$OUT', '--billing-date', '2026-02-30']],
    [['report', '--app', '$OUT/none.js', '--billing-date', 'tomorrow']],
    [['report']],
    [['init', '$WORK/a', '--name']],
    [['init', '$WORK/b', '--name', 'acme']],
    [['init', '$WORK/c', '--name', 'Acme!', '--admin-key', KEY, '--production-admin-key', KEY, '--admin-cidrs', '198.51.100.0/24']],
    // Refused by the library's own checks at init's synth: a flag's value all the same.
    [['init', '$WORK/d', '--name', 'acme', '--admin-key', KEY, '--production-admin-key', PRODUCTION_KEY, '--admin-cidrs', '0.0.0.0/0']],
  ])('%j', async (args) => {
    // No HCLOUD_TOKEN: a usage error is found before anything needs one.
    const { code, out, err } = await cli(args.map((a) => a.replace('$OUT', outdir).replace('$WORK', work)), {});
    expect(code).toBe(2);
    expect(out).not.toMatch(/Scaffolded|==>|Wrote/);
    expect(err).toMatch(/^error: .*Fix: /s);
  });
});

describe('a command that ran and failed exits 1', () => {
  test.each([
    [['check', '--out', '$OUT'], /Missing for/],
    [['check', 'acme-production', '--out', '$OUT'], /no synthesized stack named 'acme-production'/],
    [['guard', 'acme-production', '--out', '$OUT'], /no stack named 'acme-production'/],
    [['release', '--product', 'acme', '--out', '$OUT', '--rehearse', 'true'], /environments\.json not found/],
    [['staging', 'list'], /HCLOUD_TOKEN is not set/],
    [['cost', '--out', '$OUT/nowhere'], /stacks not found/],
  ])('%j', async (args, message) => {
    const { code, err } = await cli(args.map((a) => a.replace('$OUT', outdir)), {});
    expect(code).toBe(1);
    expect(err).toMatch(message);
  });
});

test('help, for every command, says what each exit code means', async () => {
  for (const words of [[], ['release'], ['staging', 'list'], ['init']]) {
    const { out } = await cli(['help', ...words]);
    expect(out).toMatch(/Exit codes: 0 done; 1 the command ran and failed[^]*; 2 the command line is wrong[^]*nothing was run/);
  }
});

describe('output into a pipe whose reader is gone (| head)', () => {
  const main = javascriptEntry(path.resolve(__dirname, '../../cli/main'));

  /** Runs the CLI as its own process with `closed` (stdout or stderr) read by nobody from the start, as after `| head` has exited. */
  function withClosed(closed: 'stdout' | 'stderr', args: string[], env: NodeJS.ProcessEnv = { PATH: process.env.PATH }): Promise<{ status: number | null; other: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
      child[closed].destroy();
      let other = '';
      child[closed === 'stdout' ? 'stderr' : 'stdout'].on('data', (c) => { other += c; });
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, other }));
    });
  }

  test('stdout closed: no stack trace, and the command\'s own exit code', async () => {
    expect(await withClosed('stdout', ['help'])).toEqual({ status: 0, other: '' });
    expect(await withClosed('stdout', ['cost', '--out', outdir])).toEqual({ status: 0, other: '' });
  });

  // The release's steps inherited the closed stdout: the first to print died of SIGPIPE (terraform; `npx cdktf` of
  // EPIPE), mid-deploy, and the take-down with it. They write through the CLI now, which drops what nobody reads.
  test.each(['stdout', 'stderr'] as const)('%s closed (release | head, release 2>&1 | head): every step runs, output and all, staging is taken down and production deployed', async (closed) => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'closed-npx-'));
    try {
      const log = path.join(bin, 'calls.log');
      // A stand-in `npx` that prints on both streams, as cdktf does; the snapshot step prints only the image ID.
      fs.writeFileSync(path.join(bin, 'npx'), `#!/bin/sh\necho "$*" >> "${log}"\ncase "$2" in snapshot) echo 4242;; *) echo "applying $*"; echo "a warning" >&2; echo done;; esac\n`, { mode: 0o755 });
      const result = await withClosed(closed, ['release', '--product', 'phase1-pilot', '--out', outdir, '--rehearse', `echo rehearsed; echo "rehearse" >> ${log}`,
        '--now', '2026-11-25T09:00:00Z'], { ...deployEnvironment(outdir), PATH: `${bin}:${process.env.PATH}` });
      expect(result.status).toBe(0);
      // The other stream carries what goes there, and no failure: the steps' warnings on stderr, or the release's and
      // the steps' output on stdout.
      if (closed === 'stdout') expect(result.other).toMatch(/^(a warning\n)+$/);
      else expect(result.other).toMatch(/==> 9\. .*\napplying cdktf deploy phase1-pilot-production/s);
      expect(fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' ').slice(0, 3).join(' '))).toEqual([
        'cdktf-sovereign-hetzner guard phase1-pilot-production', 'cdktf deploy phase1-pilot-test', 'cdktf-sovereign-hetzner snapshot --server',
        'cdktf-sovereign-hetzner staging claim', 'cdktf deploy phase1-pilot-staging', 'rehearse', 'cdktf destroy phase1-pilot-staging',
        'cdktf-sovereign-hetzner staging unclaim', 'cdktf deploy phase1-pilot-production',
      ]);
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });

  test('stderr closed (2>&1 | head): no stack trace, and the command\'s own exit code', async () => {
    expect(await withClosed('stderr', ['bogus'])).toEqual({ status: 2, other: '' });
    // check's stdout carries the synth's warnings, and nothing of the failure.
    const check = await withClosed('stderr', ['check', '--out', outdir]);
    expect(check.status).toBe(1);
    expect(check.other.split('\n').filter((l) => l !== '' && !/^(The synth's warnings for |  WARN \[)/.test(l))).toEqual([]);
  });
});
