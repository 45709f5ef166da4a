import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cli } from './cli';

// A newcomer types `COMMAND --help` first: it shows that command's usage on stdout and runs nothing.

describe('cdktf-sovereign-hetzner help', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'help-'));
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  test.each([
    ['init', /^ {2}cdktf-sovereign-hetzner init \[DIR\]/m],
    ['check', /^ {2}cdktf-sovereign-hetzner check \[STACK \.\.\.\]/m],
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
    for (const command of ['staging list', 'snapshot', 'release', 'init', 'check', 'cost', 'report']) expect(help.out).toContain(`cdktf-sovereign-hetzner ${command}`);
    const unknown = await cli(['deploy']);
    expect(unknown.code).toBe(2);
    expect(unknown.out).toBe('');
    expect(unknown.err).toMatch(/^error: unknown command 'deploy'\.\nUsage:/);
  });
});
