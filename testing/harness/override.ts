import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { ENDPOINT_FILE } from '../provider/peer-environment';
import { aType, checkOptions, fail, is, orNothing, requireString, withFix } from '../../lib/core/runtime-checks';
import { OVERRIDE_FILE } from './stand-in-names';
import { bundleDocumentOf } from '../bundle';
import { invalidValue, missingValue, ValidationError } from '../../lib/core/validation-message';
import { ROLLOUT_STEP_SCRIPT } from '../../lib/hetzner/private/rollout-step-script';

/** Where the machines' bundles go when a stand-in stack is applied. */
export interface RolloutTarget {
  /** The host that stands in for the machine (or for every machine), such as a test sshd on loopback. */
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

/** A rollout target for each machine, by the machine's server name (its `hcloud_server` name). */
export type RolloutTargets = { readonly [serverName: string]: RolloutTarget };

/** Options for the override file the stand-in puts beside a synthesized stack. */
export interface StandInOverrideOptions {
  /**
   * One host every machine's bundle is rolled out to: with several machines in the stack, their files are mixed on
   * it. For a host per machine, use `rolloutTargets`; not with `rolloutTargets`. The simulated servers' addresses
   * reach no machine, so without a target the rollouts are replaced by a local step that only says so, and nothing
   * connects anywhere.
   * @default - no rollout
   */
  readonly rolloutTarget?: RolloutTarget;
  /**
   * Where to roll each machine's bundle out, by the machine's server name (its `hcloud_server` name, such as
   * `acme-production-app`, as `synthesizedBundle` names it): a stack with several machines then rolls each
   * onto its own host, where one `rolloutTarget` mixes their files on one. Every machine the stack rolls
   * out to is named, and nothing else; not with `rolloutTarget`.
   *
   * A map rather than a function of the machine: it is checked before anything is written (a name the stack
   * does not roll out to, a machine left out), and it is plain data, as every other option of the harness.
   * Keyed by server name as `synthesizedBundle` and `admin.hostKeys` are: the name the bundle itself carries.
   * @default - every machine to `rolloutTarget` (no rollout without it)
   */
  readonly rolloutTargets?: RolloutTargets;
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
  return writeOverride(stackDir, cloudFile, stackJson, options, OVERRIDE_NAMING);
}

/**
 * How refusals of a target map name where it was given and the fix, in the caller's own spelling: a workspace's user
 * passes `rollOutEachTo(targets)` and `rollOutTo(target)`, not `writeStandInOverride`'s options. Internal.
 */
export interface RolloutNaming {
  /** Where the map was given, such as `writeStandInOverride`. */
  readonly at: string;
  /** The map's property path there, such as `options.rolloutTargets`. */
  readonly targets: string;
  /** The map as its prose names it. */
  readonly map: string;
  /** Where the stack was given, and its property path there. */
  readonly stack: { readonly at: string; readonly prop: string };
  /** How to roll every machine onto one host instead. */
  readonly oneHost: string;
  /** How to give no map. */
  readonly noMap: string;
}

const OVERRIDE_NAMING: RolloutNaming = {
  at: 'writeStandInOverride', targets: 'options.rolloutTargets', map: 'rolloutTargets', stack: { at: 'writeStandInOverride', prop: 'stackJson' },
  oneHost: 'pass rolloutTarget', noMap: 'leave rolloutTargets out',
};

/** The naming of `StandInWorkspace`'s rollOutEachTo and setConfiguration. Internal. */
export const WORKSPACE_NAMING: RolloutNaming = {
  at: 'StandInWorkspace.rollOutEachTo', targets: 'targets', map: 'the map', stack: { at: 'StandInWorkspace.setConfiguration', prop: 'stackJson' },
  oneHost: 'call rollOutTo(target)', noMap: 'call rollOutEachTo(undefined)',
};

/** Refuses what is not a map of server names to targets, or one that puts two machines on one host:port, before any stack is known. Internal. */
export function checkRolloutTargets(naming: RolloutNaming, targets: unknown): void {
  is.optional(targetsCheck(naming))(naming.at, naming.targets, targets);
  if (targets !== undefined) refuseSharedHosts(naming, new Map(Object.entries(targets as object)));
}

/** A single target, refused as TypeScript would refuse it (such as StandInWorkspace.rollOutTo's). Internal. */
export function checkRolloutTarget(at: string, prop: string, target: unknown): void {
  is.optional(TARGET)(at, prop, target);
}

/** writeStandInOverride, its refusals named as `naming` says. Internal: StandInWorkspace's. */
export function writeOverride(stackDir: string, cloudFile: string, stackJson: any, options: StandInOverrideOptions, naming: RolloutNaming): string {
  requireString('writeStandInOverride', 'stackDir', stackDir, "pass the synthesized stack's directory, such as 'cdktf.out/stacks/acme-production'");
  requireString('writeStandInOverride', 'cloudFile', cloudFile, "pass the simulated project's file, such as path.join(dir, 'cloud.json')");
  // A misspelt rolloutTarget replaced the rollouts by a local no-op: the test passed without rolling anything out.
  // The snapshot checked is the one used (a getter of a JavaScript caller's options answers once).
  const checked = checkOptions<StandInOverrideOptions>('writeStandInOverride', 'options', options, {
    rolloutTarget: is.optional(TARGET),
    rolloutTargets: is.optional(targetsCheck(OVERRIDE_NAMING)),
  }, orNothing('pass { rolloutTarget } or { rolloutTargets }'));
  if (checked?.rolloutTarget !== undefined && checked.rolloutTargets !== undefined) {
    throw new ValidationError(invalidValue('writeStandInOverride', 'options', '{ rolloutTarget, rolloutTargets }',
      'rolloutTarget rolls every machine onto one host and rolloutTargets each onto its own: the two cannot both hold',
      'pass rolloutTargets alone (one target per machine), or rolloutTarget alone (every machine onto one host)'));
  }
  // The options passed third, in the stack's place, were read as a stack without rollouts or backend: the deploy then
  // rolled nothing out and went for the declared backend (Object Storage), which a rehearsal never reaches.
  const misplaced = stackJson !== null && typeof stackJson === 'object' ? ['rolloutTarget', 'rolloutTargets'].find((o) => o in stackJson) : undefined;
  if (misplaced) {
    throw new ValidationError(invalidValue('writeStandInOverride', 'stackJson', stackJson, `{ ${misplaced} } is an option, the fourth argument, not a synthesized stack`,
      `writeStandInOverride(stackDir, cloudFile, undefined, { ${misplaced} }) (undefined reads the stack from stackDir/cdk.tf.json)`));
  }
  const config = stackJson ?? JSON.parse(fs.readFileSync(path.join(stackDir, 'cdk.tf.json'), 'utf8'));
  const override: Record<string, unknown> = {};
  const rollouts = rolloutOverrides(config, checked ?? {}, naming);
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

/** A rollout target, checked field by field as TypeScript would. */
const TARGET = is.object<RolloutTarget>({
  host: is.text("pass the test sshd's address, such as '127.0.0.1'"),
  port: is.port('pass its port, such as 2222'),
  privateKeyFile: is.text('pass the file of the private key Terraform logs in with'),
  hostKey: is.optional(is.text("pass the sshd's public host key, such as 'ssh-ed25519 AAAA…'")),
  timeout: is.optional(is.text("write it as Terraform does, such as '30s'")),
}, '{ host, port, privateKeyFile }');

const TARGETS_FIX = "pass { [server name]: target }, such as { 'acme-production-app': app.target(), 'acme-production-db': db.target() }";

/** A map of server names to rollout targets; which names the stack knows is checked against the stack. */
const targetsCheck = (naming: RolloutNaming) => withFix(TARGETS_FIX, (at, prop, value) => {
  if (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) {
    fail(at, prop, value, `it is ${aType(value)}, not a map of server names to rollout targets`, TARGETS_FIX);
  }
  // One target given where a map of them belongs: its fields read as machines named host, port, … otherwise.
  if (typeof (value as Partial<RolloutTarget>).host === 'string') {
    fail(at, prop, value, 'it is one rollout target, not a map of server names to targets', `${TARGETS_FIX}, or ${naming.oneHost} with this one`);
  }
  for (const [name, target] of Object.entries(value as object)) TARGET(at, `${prop}.${name}`, target);
});

/** Two machines on one host mix their files, as one rolloutTarget does: that is rolloutTarget's (rollOutTo's) to say, on purpose. */
function refuseSharedHosts(naming: RolloutNaming, targets: ReadonlyMap<string, RolloutTarget>): void {
  const byHost = new Map<string, string>();
  for (const [name, target] of [...targets].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const where = `${target.host}:${target.port}`;
    const other = byHost.get(where);
    if (other !== undefined) {
      throw new ValidationError(invalidValue(naming.at, `${naming.targets}.${name}`, where,
        `'${other}' rolls out to ${where} too, and two machines on one host mix their files`,
        `give each machine a host of its own (a LoopbackMachine each), or ${naming.oneHost} to roll every machine onto one host on purpose`));
    }
    byHost.set(where, name);
  }
}

/**
 * The rollout resources of a stack (`terraform_data` whose provisioners run the rollout agent),
 * pointed at their targets, or with their provisioners replaced by a local no-op (Terraform's override
 * rules: an override's connection block and provisioner blocks replace the original's, so the
 * override repeats the stack's connection settings that are not the target's, such as `script_path`).
 */
function rolloutOverrides(config: any, options: StandInOverrideOptions, naming: RolloutNaming): Record<string, unknown> | undefined {
  const rollouts = Object.entries<any>(config?.resource?.terraform_data ?? {})
    .filter(([, r]) => JSON.stringify(r.provisioner ?? []).includes('sovereign-rollout apply'));
  // Named by their bundles only where they are given targets by name: a stack edited by hand elsewhere still works.
  const machines = new Map(options.rolloutTargets === undefined ? [] : rollouts.map(([name, r]) => [name, machineOf(name, r, naming)]));
  const targetOf = targetsByRollout(machines, options, naming);
  if (rollouts.length === 0) return undefined;
  // Test hosts on loopback share one file system, where every server has its own: each rollout's steps then run from a
  // file of their own, or two rollouts running at once ran each other's steps, the other machine's bundle landing under
  // this one's root. At once: Terraform applies a stack's rollouts in parallel, and test files run in parallel too
  // (jest workers), so the file is named by the target's port (one live sshd each) and the rollout's resource.
  const block = (name: string, connection: Record<string, unknown> = {}) => {
    const target = targetOf(name);
    if (!target) return { provisioner: [{ 'local-exec': { command: 'echo "stand-in: the bundle is not rolled out (no rollout target)"' } }] };
    // Where and how to reach the machine is the target's (the stack's host key goes with the stack's host); the
    // rest, such as where the steps run from, stays the stack's.
    const { host_key: _stackHostKey, ...kept } = connection;
    if (typeof kept.script_path === 'string') kept.script_path = stepScriptOf(kept.script_path, target.port, name);
    return {
      connection: {
        ...kept, type: 'ssh', host: target.host, port: target.port, user: 'root', timeout: target.timeout ?? '30s',
        private_key: `\${file(${JSON.stringify(target.privateKeyFile)})}`,
        ...(target.hostKey ? { host_key: target.hostKey } : {}),
      },
    };
  };
  return Object.fromEntries(rollouts.map(([name, r]) => [name, block(name, r.connection)]));
}

/**
 * Which target each rollout goes to: the one target, each machine's own, or none. A map that names a machine the
 * stack does not roll out to, or leaves one out, is refused naming the machines: either would roll a bundle nowhere
 * (or onto the wrong host) while the test passes.
 */
function targetsByRollout(machines: Map<string, string>, options: StandInOverrideOptions, naming: RolloutNaming): (rollout: string) => RolloutTarget | undefined {
  if (options.rolloutTargets === undefined) return () => options.rolloutTarget;
  // The map's own entries only: a machine named `constructor` or `toString` (valid server names) left out of it read
  // Object.prototype's function as its target, and was neither refused nor rolled out.
  const targets = new Map(Object.entries(options.rolloutTargets));
  // Two rollouts of one name would both go to its one target, their bundles mixed on it, where each looks rolled out.
  const rolloutOfMachine = new Map<string, string>();
  for (const [rollout, machine] of machines) {
    const other = rolloutOfMachine.get(machine);
    if (other !== undefined) {
      throw new ValidationError(invalidValue(naming.stack.at, naming.stack.prop, `terraform_data.${rollout}`,
        `it rolls out to '${machine}', as terraform_data.${other} does, so one target by server name cannot tell them apart`,
        `give each machine its own server name (Machine name), or ${naming.oneHost} to roll every machine onto one host`));
    }
    rolloutOfMachine.set(machine, rollout);
  }
  const known = [...rolloutOfMachine.keys()].sort();
  const knownText = known.length === 0 ? 'the stack rolls out to no machine' : `the stack rolls out to ${known.map((m) => `'${m}'`).join(', ')}`;
  for (const name of targets.keys()) {
    if (!known.includes(name)) {
      throw new ValidationError(invalidValue(naming.at, `${naming.targets}.${name}`, name, `${knownText}, and no machine of this name`,
        known.length === 0 ? `${naming.noMap}: there is nothing to roll out` : `name the machines by their server names: ${known.join(', ')}`));
    }
  }
  const missing = known.filter((m) => targets.get(m) === undefined);
  if (missing.length > 0) {
    throw new ValidationError(missingValue(naming.at, `${naming.targets}.${missing[0]}`,
      `${knownText}, and ${naming.map} names no target for ${missing.map((m) => `'${m}'`).join(', ')}, whose bundle would roll out nowhere`,
      `give every machine a target: ${known.map((m) => `'${m}': …`).join(', ')}`));
  }
  refuseSharedHosts(naming, targets);
  return (rollout) => targets.get(machines.get(rollout)!);
}

/**
 * The server a rollout delivers to, by the name its bundle carries (the machine's `hcloud_server` name, which the agent
 * records): also what `synthesizedBundle` is asked for.
 */
function machineOf(resourceName: string, resource: any, naming: RolloutNaming): string {
  try {
    const machine = bundleDocumentOf(resource)?.machine;
    if (typeof machine === 'string' && machine !== '') return machine;
  } catch {
    // Named below.
  }
  throw new ValidationError(invalidValue(naming.stack.at, naming.stack.prop, `terraform_data.${resourceName}`,
    'it runs the rollout agent but carries no bundle naming its machine, so it cannot be given a target of its own',
    'pass the stack as synthesized (cdk.tf.json, or stackJson(stack)), not edited'));
}

/**
 * The stack's step script with the target's port and the rollout's resource name in it
 * (`/root/.sovereign-rollout-step.sh` becomes `/root/.sovereign-rollout-step.2201.App_Rollout_D52A5066.sh`): unique
 * among the rollouts of a stack whatever the targets, and among stacks deployed at once to different live sshds; the
 * directory stays the stack's choice.
 */
function stepScriptOf(scriptPath: string, port: number, rollout: string): string {
  const { prefix, ext } = stepScriptParts(scriptPath, port);
  return `${prefix}${rollout}${ext}`;
}

/** What every step file of `scriptPath` for `port` starts and ends with: `stepScriptOf` less the rollout's name. */
function stepScriptParts(scriptPath: string, port: number): { prefix: string; ext: string } {
  const ext = path.posix.extname(scriptPath);
  return { prefix: `${scriptPath.slice(0, scriptPath.length - ext.length)}.${port}.`, ext };
}

/**
 * Removes the step files `stepScriptOf` named for one port in `dir` (the stacks' `/root`): regular files
 * `.sovereign-rollout-step.<port>.<resource>.sh` only, each looked at without following a symlink; a symlink or
 * directory of the name is left alone. Internal: `LoopbackMachine.stop()` calls it while the port is still its sshd's.
 */
export function removeStepScripts(port: number, dir = path.posix.dirname(ROLLOUT_STEP_SCRIPT)): void {
  const { prefix, ext } = stepScriptParts(path.posix.basename(ROLLOUT_STEP_SCRIPT), port);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return; // no such directory: no rollout wrote a step file there
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(ext)) continue;
    const file = path.join(dir, name);
    if (fs.lstatSync(file, { throwIfNoEntry: false })?.isFile()) fs.rmSync(file, { force: true });
  }
}
