import * as fs from 'fs';
import * as path from 'path';
import { gunzipSync, gzipSync } from 'zlib';
import { SECRETS } from '../../lib/monitoring/private/paths';
import { DRILL_ACCOUNT_PASSWORD_VARIABLES } from '../../stacks/environment-backups';
import { placeholderVariables } from '../../testing';
import * as bundleModule from '../../testing/bundle';
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

// Review: every call decoded every machine's bundle (gunzip, JSON.parse), and StandInWorkspace.setConfiguration calls
// once per workspace. The decoded URLs are kept by the stack's JSON text: a second call for the same stack decodes
// nothing, and a changed stack is decoded afresh, with what it now declares.
test('the bundles of a stack are decoded once, and again when the stack changes', () => {
  // A stack this file has not asked about yet (the tests above asked about the example's as it is).
  const variant = () => {
    const json = stackJson('phase1-pilot-production');
    return { ...json, variable: { ...json.variable, decoded_once: { type: 'string' } } };
  };
  const production = variant();
  const decode = jest.spyOn(bundleModule, 'synthesizedBundles');
  try {
    const first = placeholderVariables(production, {});
    expect(decode).toHaveBeenCalledTimes(1);
    // The same stack again, as another object parsed from the same text: no decode, the same values.
    expect(first.TF_VAR_decoded_once).toBe('stand-in-decoded-once');
    expect(placeholderVariables(variant(), {})).toEqual(first);
    expect(placeholderVariables(production, { TF_VAR_restic_password: 'set' })).not.toHaveProperty('TF_VAR_restic_password');
    expect(decode).toHaveBeenCalledTimes(1);

    // The app's bundle now declares its webhook at another host: the next call decodes and follows it.
    const changed = withBundles(production, (document) => {
      for (const part of document.parts) {
        for (const file of part.files) {
          if (file.path === `${SECRETS}/expected`) file.content = file.content.replace(/\bchat\.example\.eu\b/g, 'chat.elsewhere.eu');
        }
      }
    });
    expect(placeholderVariables(changed, {}).TF_VAR_monitoring_webhook_ops).toBe('https://chat.elsewhere.eu/stand-in-monitoring-webhook-ops');
    expect(decode).toHaveBeenCalledTimes(2);
    // And the first stack's values are still its own.
    expect(placeholderVariables(production, {})).toEqual(first);
    expect(decode).toHaveBeenCalledTimes(2);
  } finally {
    decode.mockRestore();
  }
});

// Review: the bound of the cache (8 stacks) and its key (the JSON text, not the object) were untested.
test('a ninth distinct stack drops the least recently used, which is decoded again', () => {
  const json = stackJson('phase1-pilot-production');
  // Stacks no test above asked about, each of its own text.
  const stacks = Array.from({ length: 10 }, (_, i) => ({ ...json, variable: { ...json.variable, [`bounded_${i}`]: { type: 'string' } } }));
  const decode = jest.spyOn(bundleModule, 'synthesizedBundles');
  try {
    for (const stack of stacks.slice(0, 8)) placeholderVariables(stack, {});
    expect(decode).toHaveBeenCalledTimes(8);
    // All eight are kept: none is decoded again.
    for (const stack of stacks.slice(0, 8)) placeholderVariables(stack, {});
    expect(decode).toHaveBeenCalledTimes(8);

    // The ninth drops the first, the least recently used: asked again, it is decoded again.
    placeholderVariables(stacks[8], {});
    expect(decode).toHaveBeenCalledTimes(9);
    expect(placeholderVariables(stacks[0], {}).TF_VAR_bounded_0).toBe('stand-in-bounded-0');
    expect(decode).toHaveBeenCalledTimes(10);
    expect(decode).toHaveBeenLastCalledWith(stacks[0]);

    // Used, not made: the second was dropped when the first came back (it was the oldest then), and the third, asked
    // for just now, outlives the fourth when a tenth comes.
    placeholderVariables(stacks[2], {});
    expect(decode).toHaveBeenCalledTimes(10);
    placeholderVariables(stacks[9], {});
    expect(decode).toHaveBeenCalledTimes(11);
    placeholderVariables(stacks[2], {});
    expect(decode).toHaveBeenCalledTimes(11);
    placeholderVariables(stacks[3], {});
    expect(decode).toHaveBeenCalledTimes(12);
    placeholderVariables(stacks[1], {});
    expect(decode).toHaveBeenCalledTimes(13);
  } finally {
    decode.mockRestore();
  }
});

test('the same stack object, its bundle edited in place, is decoded afresh', () => {
  const json = stackJson('phase1-pilot-production');
  const stack = { ...json, variable: { ...json.variable, edited_in_place: { type: 'string' } } };
  const decode = jest.spyOn(bundleModule, 'synthesizedBundles');
  try {
    expect(placeholderVariables(stack, {}).TF_VAR_monitoring_webhook_ops).toBe('https://chat.example.eu/stand-in-monitoring-webhook-ops');
    expect(decode).toHaveBeenCalledTimes(1);
    // A new synth written into the same object (its bundle now declares the webhook at another host).
    editBundles(stack, (document) => {
      for (const part of document.parts) {
        for (const file of part.files) {
          if (file.path === `${SECRETS}/expected`) file.content = file.content.replace(/\bchat\.example\.eu\b/g, 'chat.elsewhere.eu');
        }
      }
    });
    expect(placeholderVariables(stack, {}).TF_VAR_monitoring_webhook_ops).toBe('https://chat.elsewhere.eu/stand-in-monitoring-webhook-ops');
    expect(decode).toHaveBeenCalledTimes(2);
    // As it is now, it is kept: asked again, nothing is decoded.
    placeholderVariables(stack, {});
    expect(decode).toHaveBeenCalledTimes(2);
  } finally {
    decode.mockRestore();
  }
});

/** A copy of a synthesized stack whose machine bundles `change` edited (decoded and encoded as the synth does). */
function withBundles(stack: any, change: (document: any) => void): any {
  const copy = JSON.parse(JSON.stringify(stack));
  editBundles(copy, change);
  return copy;
}

/** Edits a synthesized stack's machine bundles in place: `change` is given each decoded, and it is encoded again. */
function editBundles(stack: any, change: (document: any) => void): void {
  let changed = 0;
  for (const resource of Object.values<any>(stack.resource?.terraform_data ?? {})) {
    for (const provisioner of resource.provisioner ?? []) {
      if (!String(provisioner.file?.destination).endsWith('/bundle.gz.b64')) continue;
      const document = JSON.parse(gunzipSync(Buffer.from(String(provisioner.file.content), 'base64')).toString('utf8'));
      change(document);
      provisioner.file.content = gzipSync(JSON.stringify(document)).toString('base64');
      changed++;
    }
  }
  expect(changed).toBeGreaterThan(0);
}
