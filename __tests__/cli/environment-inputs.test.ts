import * as fs from 'fs';
import * as path from 'path';
import { cli, deployEnvironment, synthesizedPilotWorkDirectory } from './cli';

describe('check and release with values from a .env', () => {
  const { work, outdir } = synthesizedPilotWorkDirectory('cli-env-');

  // Audit (cli): a .env saved with Windows line endings and loaded in a POSIX shell ends every value with \r. check
  // said "Everything … is set", and the release deployed passwords no login matched, and a token the provider refuses.
  test('check and release name a value that holds a carriage return, never the value, and fail', async () => {
    const env = { ...deployEnvironment(outdir), TF_VAR_restic_password: 'restic-secret-value\r', HCLOUD_TOKEN: 'token-secret-value\r' };
    const check = await cli(['check', '--out', outdir], env);
    expect(check.code).toBe(1);
    expect(check.err).toMatch(/^TF_VAR_restic_password, HCLOUD_TOKEN hold a carriage return \(\\r\): the file they were loaded from has Windows line endings.*\n {4}Fix: convert the file to Unix line endings \(dos2unix \.env/m);
    expect(check.out).not.toMatch(/Everything/);
    const release = await cli(['release', '--product', 'phase1-pilot', '--out', outdir, '--rehearse', 'true'], { ...env, PATH: path.join(work, 'no-bin') });
    expect(release.code).toBe(1);
    expect(release.err).toMatch(/^error: TF_VAR_restic_password, HCLOUD_TOKEN hold a carriage return[\s\S]* Nothing was run\.$/);
    expect(release.out).not.toMatch(/==>/);
    for (const text of [check.err, release.err]) expect(text).not.toMatch(/secret-value/);
  });

  // Audit (cli): `check --env-example .env` (meaning .env.example) replaced the team's filled-in .env with empty entries.
  test('--env-example refuses to replace a file that holds values, and replaces an example', async () => {
    const dotenv = path.join(work, '.env');
    fs.writeFileSync(dotenv, '# ours\nexport TF_VAR_restic_password=kept-secret\n');
    const refused = await cli(['check', '--out', outdir, '--env-example', dotenv]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/\.env holds values \(it looks like a filled-in \.env\), which --env-example would replace with empty entries\. Fix: pass the example file/);
    expect(fs.readFileSync(dotenv, 'utf8')).toContain('kept-secret');
    const example = path.join(work, '.env.example');
    fs.writeFileSync(example, '# an older example\nTF_VAR_restic_password=\n');
    expect((await cli(['check', '--out', outdir, '--env-example', example])).code).toBe(0);
    expect(fs.readFileSync(example, 'utf8')).toMatch(/^TF_VAR_database_app_password_production=$/m);
  });
});
