import { ownCdk } from './cdk';
import * as fs from 'fs';
import * as path from 'path';
import { readJsonFile } from '../lib/core/private/json-file';
import { OVERRIDE_FILE, STAND_IN_TOKEN } from '../testing/harness/stand-in-names';

/**
 * A synthesized stack as Terraform runs it in a rehearsal against the stand-in (docs/testing.md): `json` with the
 * override beside it (OVERRIDE_FILE) merged in as Terraform merges an override, for what decides the credentials a
 * deploy needs: the override's backend replaces the declared one (the stand-in's keeps the state in a local file, so
 * no state bucket key is read), and a rollout's provisioner or connection block replaces the rollout's (the stand-in's
 * runs a local step, or logs in to its rollout target with a key file, so no SSH agent is asked). `json` as it is
 * when the shell is no rehearsal's (HCLOUD_TOKEN is not the stand-in's) or the stack has no override: a real deploy
 * needs every credential, and check says so.
 */
export function asRehearsed(stackDir: string, json: any, env: NodeJS.ProcessEnv): any {
  const file = path.join(stackDir, OVERRIDE_FILE);
  if (env.HCLOUD_TOKEN !== STAND_IN_TOKEN || !fs.existsSync(file)) return json;
  const override = readJsonFile(file, `remove ${stackDir} and synthesize again (npx ${ownCdk().command} synth), then write the stand-in's override again`);
  const backend = override?.terraform?.backend;
  const rollouts: Record<string, any> = override?.resource?.terraform_data ?? {};
  return {
    ...json,
    ...(backend ? { terraform: { ...json.terraform, backend } } : {}),
    resource: {
      ...json.resource,
      ...(json.resource?.terraform_data ? {
        terraform_data: Object.fromEntries(Object.entries<any>(json.resource.terraform_data).map(([name, r]) => [name, { ...r, ...rollouts[name] }])),
      } : {}),
    },
  };
}
