import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli } from '../../cli/run-cli';
import { codeSpans, markdownFiles } from './markdown';

// Every invocation of the cdktf-sovereign-hetzner command that README.md, docs/ and the scaffold `init` writes (its
// README and CI files) name, in a command line or in prose, must be a command the CLI has, with flags its own
// `--help` lists: a newcomer copies them. A flag written bare in prose (`--admin-cidrs`) must be one of the CLI's
// too, unless it is named below as another tool's.

const ROOT = path.resolve(__dirname, '..', '..');

/** The commands the CLI has, each with its own usage (`help COMMAND`). */
const COMMANDS = ['staging list', 'staging delete-expired', 'staging claim', 'staging unclaim', 'snapshot', 'release', 'init', 'check', 'guard', 'cost', 'report'];

/** Flags the prose names of other tools: whose they are. */
const OTHER_TOOLS_FLAGS: Readonly<Record<string, string>> = {
  '--config.check': 'blackbox exporter', '--no-cache': 'restic', '--no-lock': 'restic', '--keep-daily': 'restic', '--time': 'restic', '--rules.alert.for-grace-period': 'Prometheus',
  '--web.config.file': 'Prometheus and Alertmanager', '--skip-provider-lock': 'cdktf', '--replace': 'backup-restore',
  '--snapshot': 'backup-restore', '--database': 'backup-restore', '--from': 'backup-restore', '--start-empty': 'backup-dump and backup-push',
  '--path': 'backup-restore-files', '--verify': 'restic',
};

/** Words that follow the program's name in prose, not as a command. */
const PROSE_WORDS = new Set(['command', 'package', 'library', 'is', 'and', 'or', 'with', 'for', 'from', 'in', 'on']);

async function usageOf(words: readonly string[]): Promise<string> {
  const out: string[] = [];
  await runCli(['help', ...words], { env: {}, out: (l) => out.push(l), err: (l) => out.push(l) });
  return out.join('\n');
}

/** An invocation written in `text`: the command (or `help …`) and the flags after it, quoted values taken out. */
function invocations(text: string): Array<{ words: string[]; flags: string[] }> {
  const found: Array<{ words: string[]; flags: string[] }> = [];
  const parse = (rest: string) => {
    // Up to the end of the command: a comment, the end of a code span, a shell operator, the next item of a YAML list.
    const line = rest.replace(/"[^"]*"|'[^']*'/g, 'VALUE').split(/\s#|`|\)|&&|;|\||\n|, |\]/)[0];
    const tokens = line.trim().split(/\s+/).filter(Boolean);
    const words: string[] = [];
    // The command's words: `staging list`, `help init`; then its stack names and flags.
    while (tokens.length > 0 && /^[a-z][a-z-]*$/.test(tokens[0]) && (words.length === 0 || words[0] === 'help' || (words[0] === 'staging' && words.length === 1))) words.push(tokens.shift()!);
    // Prose that names the program ("the cdktf-sovereign-hetzner command") invokes nothing.
    if (words.length > 0 && !PROSE_WORDS.has(words[0])) found.push({ words, flags: tokens.filter((t) => t.startsWith('--')).map((t) => t.split('=')[0]) });
  };
  for (const m of text.matchAll(/(?:cdktf-sovereign-hetzner|dist\/cli\/main\.js)[ \t]+([^\n]*)/g)) parse(m[1]);
  for (const { code } of codeSpans(text)) {
    const m = /^(?:… )?((?:help )?(?:staging (?:list|delete-expired|claim|unclaim)|snapshot|release|init|check|guard|cost|report)\b.*)$/.exec(code);
    if (m) parse(m[1]);
  }
  return found;
}

describe('the cdktf-sovereign-hetzner invocations of the docs and the scaffold', () => {
  const scaffold = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-flags-'));
  afterAll(() => fs.rmSync(scaffold, { recursive: true, force: true }));
  const texts = new Map<string, string>();

  beforeAll(async () => {
    for (const file of [path.join(ROOT, 'README.md'), ...markdownFiles(path.join(ROOT, 'docs'))]) texts.set(path.relative(ROOT, file), fs.readFileSync(file, 'utf8'));
    const dir = path.join(scaffold, 'acme-iac');
    const err: string[] = [];
    const code = await runCli(['init', dir, '--name', 'acme', '--admin-cidrs', '198.51.100.0/24',
      '--admin-key', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu',
      '--production-admin-key', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEAm3MJhYSd949twt8MhgHj89mqQutP4OqNcvcOmUrBy ops@acme-production'],
    { env: {}, out: () => undefined, err: (l) => err.push(l) });
    expect(`${code} ${err.join('\n')}`).toBe('0 ');
    for (const file of ['README.md', '.github/workflows/infrastructure.yml', '.gitlab-ci.yml', 'package.json']) texts.set(`init: ${file}`, fs.readFileSync(path.join(dir, file), 'utf8'));
  }, 120_000);

  test('name commands the CLI has, with flags their own --help lists', async () => {
    const usages = new Map<string, string>();
    for (const command of COMMANDS) usages.set(command, await usageOf(command.split(' ')));
    const wrong: string[] = [];
    let seen = 0;
    for (const [source, text] of texts) {
      for (const { words, flags } of invocations(text)) {
        seen++;
        const help = words[0] === 'help';
        const command = (help ? words.slice(1) : words).join(' ');
        const known = help ? command === '' || command === 'staging' || COMMANDS.includes(command) : COMMANDS.includes(command);
        if (!known) { wrong.push(`${source}: \`${words.join(' ')}\` is no command`); continue; }
        for (const flag of help ? [] : flags) if (!new RegExp(`${flag}(?![\\w-])`).test(usages.get(command)!)) wrong.push(`${source}: \`${command} ${flag}\`: its --help has no ${flag}`);
      }
    }
    expect(seen).toBeGreaterThan(15);
    expect(wrong).toEqual([]);
  });

  test('name, in prose, only flags of the CLI or of a tool this test knows', async () => {
    const usage = await usageOf([]);
    const wrong: string[] = [];
    for (const [source, text] of texts) {
      for (const { code } of codeSpans(text)) {
        const flag = /^(--[a-z][\w.-]*)/.exec(code)?.[1]?.replace(/[=.]$/, '');
        if (!flag || OTHER_TOOLS_FLAGS[flag]) continue;
        if (!new RegExp(`${flag.replace(/\./g, '\\.')}(?![\\w-])`).test(usage)) wrong.push(`${source}: \`${code}\``);
      }
    }
    expect(wrong).toEqual([]);
  });
});
