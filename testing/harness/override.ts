import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { ENDPOINT_FILE } from '../provider/peer-environment';
import { checkOptions, is, orNothing, requireString } from '../../lib/core/runtime-checks';
import { OVERRIDE_FILE } from './stand-in-names';
import { invalidValue, ValidationError } from '../../lib/core/validation-message';

/** Where the machines' bundles go when a stand-in stack is applied. */
export interface RolloutTarget {
  /** The host that stands in for every machine, such as a test sshd on loopback. */
  readonly host: string;
  /** Its SSH port. */
  readonly port: number;
  /** A file with the private key Terraform logs in with (as root). */
  readonly privateKeyFile: string;
  /**
   * The host's public key, pinned.
   * @default - not pinned
   */
  readonly hostKey?: string;
  /**
   * How long Terraform tries to connect.
   * @default '30s'
   */
  readonly timeout?: string;
}

/** Options for the override file the stand-in puts beside a synthesized stack. */
export interface StandInOverrideOptions {
  /**
   * Where to roll the machines' bundles out. The simulated servers' addresses reach no machine, so
   * without a target the rollouts are replaced by a local step that only says so, and nothing
   * connects anywhere.
   * @default - no rollout
   */
  readonly rolloutTarget?: RolloutTarget;
}

export { OVERRIDE_FILE };

/**
 * Makes a synthesized stack directory deploy against the stand-in without changing what was
 * synthesized: Terraform merges `*_override.tf.json` files over the configuration, so
 * - a declared backend (the examples' S3 state in Hetzner Object Storage, unreachable offline)
 *   becomes a local state file in the directory (`terraform.tfstate`, relative to it);
 * - hcloud provider blocks stay as synthesized, so `terraform validate` judges them as it would for
 *   the real provider; `.hcloud-standin-endpoint` beside the stack names the simulated project
 *   (`file://<cloud file>`), which the stand-in finds from the Terraform process it serves.
 *
 * `cdktf synth` and `cdktf deploy` keep extra files in `cdktf.out/stacks/<stack>/`, so the same
 * file works for cdktf CLI runs.
 */
export function writeStandInOverride(stackDir: string, cloudFile: string, stackJson?: any, options: StandInOverrideOptions = {}): string {
  requireString('writeStandInOverride', 'stackDir', stackDir, "pass the synthesized stack's directory, such as 'cdktf.out/stacks/acme-production'");
  requireString('writeStandInOverride', 'cloudFile', cloudFile, "pass the simulated project's file, such as path.join(dir, 'cloud.json')");
  // A misspelt rolloutTarget replaced the rollouts by a local no-op: the test passed without rolling anything out.
  checkOptions<StandInOverrideOptions>('writeStandInOverride', 'options', options, {
    rolloutTarget: is.optional(is.object<RolloutTarget>({
      host: is.text("pass the test sshd's address, such as '127.0.0.1'"),
      port: is.port('pass its port, such as 2222'),
      privateKeyFile: is.text('pass the file of the private key Terraform logs in with'),
      hostKey: is.optional(is.text("pass the sshd's public host key, such as 'ssh-ed25519 AAAA…'")),
      timeout: is.optional(is.text("write it as Terraform does, such as '30s'")),
    }, '{ host, port, privateKeyFile }')),
  }, orNothing('pass { rolloutTarget }'));
  // The options passed third, in the stack's place, were read as a stack without rollouts or backend: the deploy then
  // rolled nothing out and went for the declared backend (Object Storage), which a rehearsal never reaches.
  if (stackJson !== null && typeof stackJson === 'object' && 'rolloutTarget' in stackJson) {
    throw new ValidationError(invalidValue('writeStandInOverride', 'stackJson', stackJson, '{ rolloutTarget } is an option, the fourth argument, not a synthesized stack',
      'writeStandInOverride(stackDir, cloudFile, undefined, { rolloutTarget }) (undefined reads the stack from stackDir/cdk.tf.json)'));
  }
  const config = stackJson ?? JSON.parse(fs.readFileSync(path.join(stackDir, 'cdk.tf.json'), 'utf8'));
  const override: Record<string, unknown> = {};
  const rollouts = rolloutOverrides(config, options.rolloutTarget);
  if (rollouts) override.resource = { terraform_data: rollouts };
  if (config?.terraform?.backend && Object.keys(config.terraform.backend).length > 0) {
    // Relative to the stack directory, where Terraform (and cdktf) run: nothing init writes then names
    // the directory, so an initialized `.terraform` can be reused by another workspace.
    override.terraform = { backend: { local: { path: 'terraform.tfstate' } } };
  }
  // No hcloud provider block here: Terraform skips provider-config validation at `validate` for a
  // provider block merged with an override (configs.mergeBody answers Content with PartialContent),
  // so a bad token or poll_function would pass. The stand-in reads the simulated project from a
  // file beside the stack instead, which Terraform ignores (testing/provider/peer-environment.ts).
  fs.writeFileSync(path.join(stackDir, ENDPOINT_FILE), `${pathToFileURL(path.resolve(cloudFile)).href}\n`);
  const file = path.join(stackDir, OVERRIDE_FILE);
  fs.writeFileSync(file, `${JSON.stringify(override, null, 2)}\n`);
  return file;
}

/**
 * The rollout resources of a stack (`terraform_data` whose provisioners run the rollout agent),
 * pointed at `target`, or with their provisioners replaced by a local no-op (Terraform's override
 * rules: an override's connection block and provisioner blocks replace the original's, so the
 * override repeats the stack's connection settings that are not the target's, such as `script_path`).
 */
function rolloutOverrides(config: any, target: RolloutTarget | undefined): Record<string, unknown> | undefined {
  const rollouts = Object.entries<any>(config?.resource?.terraform_data ?? {})
    .filter(([, r]) => JSON.stringify(r.provisioner ?? []).includes('sovereign-rollout apply'));
  if (rollouts.length === 0) return undefined;
  const block = (connection: Record<string, unknown> = {}) => {
    if (!target) return { provisioner: [{ 'local-exec': { command: 'echo "stand-in: the bundle is not rolled out (no rollout target)"' } }] };
    // Where and how to reach the machine is the target's (the stack's host key goes with the stack's host); the
    // rest, such as where the steps run from, stays the stack's.
    const { host_key: _stackHostKey, ...kept } = connection;
    return {
      connection: {
        ...kept, type: 'ssh', host: target.host, port: target.port, user: 'root', timeout: target.timeout ?? '30s',
        private_key: `\${file(${JSON.stringify(target.privateKeyFile)})}`,
        ...(target.hostKey ? { host_key: target.hostKey } : {}),
      },
    };
  };
  return Object.fromEntries(rollouts.map(([name, r]) => [name, block(r.connection)]));
}
