import * as fs from 'fs';
import * as path from 'path';
import { cli, synthesizedPilotWorkDirectory } from './cli';

// Audit (cli): a file of cdktf.out cut short (a synth interrupted, a disk full) failed check, cost and release with
// JSON.parse's own words ("Expected double-quoted property name in JSON at position 500"), naming no file and no fix;
// --prices given a directory said "EISDIR: illegal operation on a directory, read".

describe('a file the commands read that is broken is named, with the fix', () => {
  const { work, outdir } = synthesizedPilotWorkDirectory('cli-broken-');
  const stackFile = path.join(outdir, 'stacks', 'phase1-pilot-test', 'cdk.tf.json');
  fs.writeFileSync(stackFile, fs.readFileSync(stackFile, 'utf8').slice(0, 500));

  test.each([
    [['check', '--out', outdir]],
    [['cost', '--out', outdir, '--json']],
    [['release', '--product', 'phase1-pilot', '--out', outdir, '--rehearse', 'true', '--dry-run']],
  ])('%j', async (args) => {
    const { code, out, err } = await cli(args);
    expect({ code, out }).toEqual({ code: 1, out: '' });
    expect(err).toMatch(new RegExp(`^error: ${stackFile} is not valid JSON \\(.+\\)\\. Fix: synthesize again \\(npx cdktf synth, or npm run synth\\): a synth cut short leaves such a file\\.$`));
  });

  test('--prices and --plan-json name the file they cannot read, and why', async () => {
    expect((await cli(['cost', '--out', outdir, '--prices', work])).err)
      .toBe(`error: ${work} cannot be read: it is a directory. Fix: pass a price file in the format of the bundled one (${path.join('lib', 'cost', 'hetzner-prices.json')}).`);
    const empty = path.join(work, 'plan.json');
    fs.writeFileSync(empty, '');
    expect((await cli(['guard', 'phase1-pilot-production', '--plan-json', empty])).err)
      .toMatch(new RegExp(`^error: ${empty} is not valid JSON \\(.*: it is empty\\)\\. Fix: pass the output of \`terraform show -json <planfile>\`\\.$`));
    // A plan saved on Windows, with CRLF line endings, is read as it is.
    fs.writeFileSync(empty, '{\r\n  "format_version": "1.2",\r\n  "resource_changes": []\r\n}\r\n');
    expect(await cli(['guard', 'phase1-pilot-production', '--plan-json', empty])).toMatchObject({ code: 0, out: expect.stringMatching(/deletes no protected resource \(0 to add/) });
  });
});
