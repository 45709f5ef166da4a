import * as fs from 'fs';
import * as path from 'path';
import { DRILL_ACCOUNT_PASSWORD_VARIABLES } from '../../stacks/environment-backups';
import { placeholderVariables } from '../../testing';
import { cli, synthesizedPilotWorkDirectory } from '../cli/cli';

// Audit (first hour): docs/testing.md's standin.js exports placeholderVariables for each stack before a deploy against
// the stand-in. The test stack's copy of production's drill password got a placeholder of its own name, so `check` then
// said "TF_VAR_storage_box_drill_password and TF_VAR_production_backup_drill_password differ" (exit 1), and `release`
// refused to start; the CLI's own tests patched the values by hand. The copy now gets production's placeholder.

const { outdir } = synthesizedPilotWorkDirectory('placeholder-variables-');
const stackJson = (stack: string) => JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', stack, 'cdk.tf.json'), 'utf8'));

test("the stand-in recipe's placeholders satisfy check, as docs/testing.md exports them", async () => {
  // As standin.js: each stack's placeholders in turn, a later export of one name replacing the earlier.
  const exported = Object.assign({}, ...fs.readdirSync(path.join(outdir, 'stacks')).map((stack) => placeholderVariables(stackJson(stack), {})));
  const { code, out, err } = await cli(['check', '--out', outdir], {
    ...exported, HCLOUD_TOKEN: 'stand-in-hcloud-token', AWS_ACCESS_KEY_ID: 'stand-in-access-key', AWS_SECRET_ACCESS_KEY: 'stand-in-secret-key',
    SSH_AUTH_SOCK: path.join(outdir, 'no-agent.sock'),
  });
  expect({ code, err }).toEqual({ code: 0, err: '' });
  expect(out).toMatch(/^Everything .* is set/);
});

test("the test stack's copy takes production's value when the environment sets it", () => {
  const test = placeholderVariables(stackJson('phase1-pilot-test'), { [`TF_VAR_${DRILL_ACCOUNT_PASSWORD_VARIABLES.production}`]: 'one-password-for-both' });
  expect(test[`TF_VAR_${DRILL_ACCOUNT_PASSWORD_VARIABLES.test}`]).toBe('one-password-for-both');
  const production = placeholderVariables(stackJson('phase1-pilot-production'), {});
  expect(placeholderVariables(stackJson('phase1-pilot-test'), {})[`TF_VAR_${DRILL_ACCOUNT_PASSWORD_VARIABLES.test}`])
    .toBe(production[`TF_VAR_${DRILL_ACCOUNT_PASSWORD_VARIABLES.production}`]);
});
