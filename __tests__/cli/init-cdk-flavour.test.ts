import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as packageFiles from '../../cli/package-files';
import { cdkOf } from '../../cli/cdk';
import { STAND_IN_DEPLOY_SECTION } from '../../cli/init';
import { usageOf } from '../../cli/run-cli';
import { synthWarningsHeading } from '../../cli/synth-warnings';
import { cli } from './cli';

// Review: under cdktn-sovereign-hetzner the scaffold's README still sent the reader to "cdktf deploy and destroy against
// the stand-in": a command of the other CDK, in a repository on cdktn. Every word of what init writes that names the CDK's
// command follows the package's own CDK; only cdktn's own names kept from cdktf (cdktf.json, cdktf.out, the
// @cdktf/ annotation levels) and this library's package name may spell cdktf.

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu';
const PRODUCTION_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM8xqk9KKFzjyUm7zn9jN8qK6gUimLQcZv8WO+NIigxr ops@acme-production';
const FLAGS = ['--name', 'acme', '--location', 'nbg1', '--admin-key', KEY, '--production-admin-key', PRODUCTION_KEY, '--admin-cidrs', '198.51.100.0/24'];
const ROOT = path.resolve(__dirname, '..', '..');

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'init-cdk-flavour-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
afterEach(() => jest.restoreAllMocks());

/** Every file init wrote under `dir`, by its path relative to it. */
function written(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (at: string) => {
    for (const entry of fs.readdirSync(at, { withFileTypes: true })) {
      const file = path.join(at, entry.name);
      if (entry.isDirectory()) walk(file);
      else files[path.relative(dir, file)] = fs.readFileSync(file, 'utf8');
    }
  };
  walk(dir);
  return files;
}

test.each([['cdktf', 'cdktn'], ['cdktn', 'cdktf']] as const)('under %s, what init writes names its CLI, never %s', async (flavour, other) => {
  if (flavour === 'cdktn') {
    // The cdktn package's package.json, as scripts/build-cdktn.js writes it: cdktn as the peer, its toolchain as dev dependencies.
    const real = packageFiles.ownPackage();
    jest.spyOn(packageFiles, 'ownPackage').mockReturnValue({ ...real, peerDependencies: { cdktn: '~0.24.0', constructs: '>=10.6.0 <10.8.0' },
      devDependencies: { ...real.devDependencies, cdktn: '0.24.0', 'cdktn-cli': '0.24.0' } });
  }
  const dir = path.join(work, `${flavour}-iac`);
  const { code, err } = await cli(['init', dir, ...FLAGS]);
  expect({ code, err }).toEqual({ code: 0, err: '' });
  const files = written(dir);
  const readme = files['README.md'];
  // The library's docs are the same in both packages: under cdktn the README says how to read their cdktf commands, once.
  const docsNote = ` (its commands are written for cdktf: type \`cdktn\` where they type cdktf, as in \`npx cdktn synth\`, and require \`${packageFiles.ownPackage().name}/testing\` in its standin.js; \`cdktf.out\` keeps its name)`;
  expect(readme.split(docsNote).length - 1).toBe(flavour === 'cdktn' ? 1 : 0);
  files['README.md'] = readme.replace(docsNote, '');
  // The other CDK as a word, a sentence's last too: not cdktf.json, cdktf.out, @cdktf/… or cdktf-sovereign-hetzner.
  const otherWord = new RegExp(`(?<![@\\w-])${other}(?!\\.json|\\.out|-sovereign-hetzner|[\\w-])`);
  const named = Object.entries(files).flatMap(([file, text]) => text.split('\n').filter((line) => otherWord.test(line)).map((line) => `${file}: ${line}`));
  expect(named).toEqual([]);
  expect(readme).toContain(`npx ${flavour} deploy acme-production`);
  expect(readme).toContain(`npx ${flavour} synth`);
  // The section the README sends the reader to is there under that name, and the README says how to read its commands.
  expect(readme).toContain(`follow "${STAND_IN_DEPLOY_SECTION}" in`);
  expect(fs.readFileSync(path.join(ROOT, 'docs', 'testing.md'), 'utf8').split('\n')).toContain(`## ${STAND_IN_DEPLOY_SECTION}`);
});

// Review: check's usage, check's line above the warnings and the scaffold's README each said in words of their own where
// the CDK's synth prints the stacks' warnings ("prints them too", "every time", "(in CI, through a pipe or with …)").
test.each(['cdktf', 'cdktn'] as const)('under %s, check\'s usage, its warnings\' heading and the README say alike where synth prints the warnings', async (flavour) => {
  const real = packageFiles.ownPackage();
  const own = flavour === 'cdktf' ? real : { ...real, peerDependencies: { cdktn: '~0.24.0', constructs: '>=10.6.0 <10.8.0' },
    devDependencies: { ...real.devDependencies, cdktn: '0.24.0', 'cdktn-cli': '0.24.0' } };
  jest.spyOn(packageFiles, 'ownPackage').mockReturnValue(own);
  const cdk = cdkOf(own);
  const dir = path.join(work, `${flavour}-warnings-iac`);
  expect((await cli(['init', dir, ...FLAGS])).code).toBe(0);
  const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
  const warnings = readme.split('## The warnings of the first synth\n\n')[1].split('\n\n')[0];
  // The sentence each says it in, read as plain words (the README's app is the built one).
  const said = (text: string) => /\b(cdkt[fn] synth prints them .*? alone prints none)/.exec(text.replace(/`/g, '').replace(/\s+/g, ' ').replace('node dist/main.js', 'node'))?.[1];
  const where = flavour === 'cdktf' ? 'only in a terminal, not in CI or through a pipe' : 'in CI and through a pipe too';
  expect([said(warnings), said(usageOf(['check'], cdk)), said(synthWarningsHeading(cdk, ['acme-test']))])
    .toEqual(Array(3).fill(`${flavour} synth prints them ${where}, and an app run with node alone prints none`));
  expect(warnings).toContain('an app run with `node dist/main.js` alone prints none');
});
