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

// Found with docs/testing.md's day-2 rehearsal: the monitoring setup on a machine takes a webhook or ping URL only at
// the host its bundle declares, and the DSN only at the error-monitoring endpoint's host; `stand-in-…` values rolled
// the deploy back. The URLs the setup checks now get placeholders there (the example declares these hosts).
test('the URLs the monitoring setup checks get placeholders at the hosts the stack declares, https, with no secret', () => {
  const production = placeholderVariables(stackJson('phase1-pilot-production'), {});
  expect(production).toMatchObject({
    TF_VAR_monitoring_webhook_ops: 'https://chat.example.eu/stand-in-monitoring-webhook-ops',
    TF_VAR_monitoring_deadman_ping_url_production: 'https://hc-ping.com/stand-in-monitoring-deadman-ping-url-production',
    TF_VAR_error_monitoring_dsn: 'https://stand-in-error-monitoring-key@errors.example.eu/1',
    // A password stays a plain placeholder.
    TF_VAR_restic_password: 'stand-in-restic-password',
  });
  expect(placeholderVariables(stackJson('phase1-pilot-test'), {}).TF_VAR_monitoring_deadman_ping_url_test)
    .toBe('https://hc-ping.com/stand-in-monitoring-deadman-ping-url-test');
  // A value the environment sets still wins, wherever it points.
  expect(placeholderVariables(stackJson('phase1-pilot-production'), { TF_VAR_monitoring_webhook_ops: 'https://elsewhere.example/x' }))
    .not.toHaveProperty('TF_VAR_monitoring_webhook_ops');
});
