import { type Cdk, ownCdk } from './cdk';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PlannedChanges } from '../testing/harness/planned-changes';
import type { CliIo } from './run-cli';
import { redirectedEndpoints } from '../lib/environments/private/hetzner-endpoints';
import { parseStackArgs } from './stack-args';
import { synthesizedStackNames } from '../lib/cost/synthesized-stacks';
import { readJsonFile } from '../lib/core/private/json-file';
import { redactSecrets } from '../lib/core/validation-message';
import { defaultSynthOutput } from './synth-output';
import { shellWord } from './shell-word';
import { UsageError } from './usage-error';

/** The start of the private directory's name that guard keeps its plan file in: the process ID follows. */
export const PRIVATE_DIR_PREFIX = 'sovereign-guard-';

/** guard's usage, naming the commands of `cdk`, the CDK the running package is built for. */
export const guardUsage = (cdk: Cdk): string => `  cdktf-sovereign-hetzner guard STACK [--out DIR] [--print-plan | --plan-json FILE]
      Before \`${cdk.command} deploy STACK\`: plans STACK (terraform init and plan -lock=false in DIR/stacks/STACK; DIR
      defaults to the output of the nearest cdktf.json, such as cdktf.out, so synthesize first) and exits 1 when the plan deletes or replaces a protected
      resource: one with Hetzner's delete protection on in the state (production's servers, primary IPs,
      volumes, network, Storage Box), or a production Storage Box sub-account (its backups' login).
      \`prevent_destroy\` does not see such a deletion when a construct ID was renamed (the old address has
      left the configuration), and Hetzner refuses it only at apply, after Terraform may have created what
      replaces it. Keep the old ID, or move the state (\`moveFromId\` on the new resource, or terraform state
      mv); to remove a protected resource on purpose, retire it first (protection off) and deploy that.
      The plan file holds the stack's secrets in clear: it is written to a private temporary directory and
      removed once read. --print-plan prints the plan as \`terraform plan\` shows it (secrets redacted) on
      standard output first: one plan to read and to guard. --plan-json reads \`terraform show -json\` of a plan
      made elsewhere instead.
      It also exits 1 when the plan shrinks a volume: Hetzner volumes only grow, and the API refuses the resize
      at apply, after the plan's other changes. Restore the size; to move to a smaller volume, create a new one,
      copy the data over, then retire the old one.
      It also names, without failing, the in-place changes that take a server down or delete its backups: a
      new server type or new public addresses (hcloud powers the server off hard first), backups turned off.
      Needs what \`${cdk.command} deploy STACK\` needs (\`check\` lists it); a read-only Hetzner token is enough. Refuses to
      plan when HCLOUD_ENDPOINT (or another HCLOUD_…ENDPOINT) sends the provider somewhere other than Hetzner's API.
      Example: npx cdktf-sovereign-hetzner guard acme-production`;

/** A planned deletion the guard refuses. */
export interface ProtectedLoss {
  /** The resource's address in the state, such as `hcloud_server.App_Server_4C1F2A3B`. */
  readonly address: string;
  /** Terraform's actions for it: `['delete']`, or a replacement (`['delete', 'create']` or `['create', 'delete']`). */
  readonly actions: readonly string[];
  /** What protects it. */
  readonly protectedBy: string;
  /** Resources of the same type the plan creates: where a renamed construct moved to. */
  readonly createdOfSameType: readonly string[];
}

/** Sub-accounts have no delete protection of their own; in production a new one is a new login (`<box>-subN`). */
const PRODUCTION_ONLY_TYPES = new Set(['hcloud_storage_box_subaccount']);

/** The deletions in a plan (`terraform show -json` of it) that would lose a protected resource. */
export function protectedLosses(plan: any): ProtectedLoss[] {
  const changes = new PlannedChanges(Array.isArray(plan?.resource_changes) ? plan : { resource_changes: [] });
  const creates = (type: string) => changes.creates.filter((c) => c.type === type).map((c) => c.address);
  return changes.resourceChanges.flatMap((c): ProtectedLoss[] => {
    const actions = c.actions;
    if (!actions.includes('delete')) return [];
    const before = c.before ?? {};
    const protectedBy = before.delete_protection === true
      ? "Hetzner's delete protection, on in the state"
      : PRODUCTION_ONLY_TYPES.has(c.type) && before.labels?.environment === 'production'
        ? 'being production\'s (a replacement is a new login, which the backup jobs and the drill do not have)'
        : undefined;
    return protectedBy ? [{ address: c.address, actions, protectedBy, createdOfSameType: creates(c.type) }] : [];
  });
}

/** What the guard prints for one refused deletion: what, why it matters, and the fix (`out`: the synth output directory, as --out names it). */
export function describeLoss(stack: string, loss: ProtectedLoss, out = 'cdktf.out'): string {
  const replaced = loss.actions.includes('create');
  const what = replaced ? 'replaces (deletes and creates again)' : 'deletes';
  const likelyRename = !replaced && loss.createdOfSameType.length > 0
    ? ` It also creates ${loss.createdOfSameType.join(', ')}: most likely a renamed construct ID, which \`prevent_destroy\` cannot see.`
    : '';
  const move = loss.createdOfSameType[0] ?? '<new address>';
  return `${stack}'s plan ${what} ${loss.address}, protected by ${loss.protectedBy}. Hetzner refuses the delete only at apply, `
    + `after Terraform may already have created what takes its place.${likelyRename} Fix: keep the old construct ID; or move the state `
    + `to the new address (\`moveFromId('${loss.address}')\` on the new resource, or \`terraform state mv '${loss.address}' '${move}'\` in `
    + `${shellWord(path.join(out, 'stacks', stack))}); to remove it on purpose, retire it first (its protection goes off), deploy that, then remove it.`;
}

/** An in-place change of a server that Hetzner carries out with a hard power-off, or that deletes its backups. */
export interface DisruptiveUpdate {
  /** The server's address in the state, such as `hcloud_server.App_4C1F2A3B`. */
  readonly address: string;
  /** What the change does to the running server. */
  readonly kind: 'rescale' | 'public-net' | 'backups-off';
  /** The server type before and after, for a rescale. */
  readonly serverTypes?: readonly [string, string];
}

/**
 * The in-place server changes of a plan (`terraform show -json` of it) that the plan's summary does not show as harm:
 * hcloud v1.68 powers a running server off hard (Poweroff, not a shutdown) before `change_type` and before it reassigns
 * `public_net`'s addresses (internal/server/resource.go resourceServerUpdate, updatePublicNet), and turning `backups`
 * off makes Hetzner delete every backup of the server.
 */
export function disruptiveUpdates(plan: any): DisruptiveUpdate[] {
  const changes = new PlannedChanges(Array.isArray(plan?.resource_changes) ? plan : { resource_changes: [] });
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const anyUnknown = (v: unknown): boolean => v === true || (typeof v === 'object' && v !== null && Object.values(v).some(anyUnknown));
  return changes.updates.filter((c) => c.type === 'hcloud_server').flatMap((c): DisruptiveUpdate[] => {
    const before = c.before ?? {};
    const after = c.after ?? {};
    const found: DisruptiveUpdate[] = [];
    if (typeof before.server_type === 'string' && (before.server_type !== after.server_type || c.afterUnknown?.server_type === true)) {
      found.push({ address: c.address, kind: 'rescale', serverTypes: [before.server_type, typeof after.server_type === 'string' ? after.server_type : '(known at apply)'] });
    }
    if (!same(before.public_net, after.public_net) || anyUnknown(c.afterUnknown?.public_net)) found.push({ address: c.address, kind: 'public-net' });
    if (before.backups === true && after.backups === false) found.push({ address: c.address, kind: 'backups-off' });
    return found;
  });
}

/** What the guard prints for one disruptive update: what happens to the running server, and what to do. */
export function describeDisruption(stack: string, update: DisruptiveUpdate): string {
  switch (update.kind) {
    case 'rescale':
      return `${stack}'s plan changes the server type of ${update.address} (${update.serverTypes![0]} → ${update.serverTypes![1]}): hcloud powers the `
        + 'server off hard (Poweroff, not a shutdown) before the rescale, so it is down, its services stopped without warning, until the rescale '
        + 'has copied the disk. Deploy it in a maintenance window, after stopping the database cleanly; keep_disk keeps the disk, so a downgrade stays possible.';
    case 'public-net':
      return `${stack}'s plan changes the public addresses (public_net) of ${update.address}: hcloud powers the server off hard (Poweroff, not a shutdown) `
        + 'to reassign them, and DNS records and allowlists naming the old addresses stop reaching it. Deploy it in a maintenance window, or keep the '
        + 'machine\'s primary IPs as they are.';
    default:
      return `${stack}'s plan turns Hetzner's backups of ${update.address} off: Hetzner deletes every backup of the server at once. `
        + 'Fix: keep hetznerBackups on; or first convert the backups you need into snapshots, which outlive it (hcloud image update --type snapshot <image>).';
  }
}

/** A planned in-place resize of a volume to a smaller size, which Hetzner refuses. */
export interface VolumeShrink {
  /** The volume's address in the state, such as `hcloud_volume.DatabaseVolume_4C1F2A3B`. */
  readonly address: string;
  /** The volume's name in the Hetzner project. */
  readonly name?: string;
  /** The size in GB, in the state and as planned. */
  readonly sizes: readonly [number, number];
}

/**
 * The volumes a plan (`terraform show -json` of it) resizes to a smaller size. hcloud v1.68 plans `size` as an in-place
 * change (it does not force a new volume) and calls resize at apply, where the API refuses it: volumes grow only
 * (hetzner-facts addOns.volumes.resize). Terraform has applied the plan's other changes by then.
 */
export function volumeShrinks(plan: any): VolumeShrink[] {
  const changes = new PlannedChanges(Array.isArray(plan?.resource_changes) ? plan : { resource_changes: [] });
  return changes.updates.filter((c) => c.type === 'hcloud_volume').flatMap((c): VolumeShrink[] => {
    const [before, after] = [c.before?.size, c.after?.size];
    if (typeof before !== 'number' || typeof after !== 'number' || after >= before) return [];
    return [{ address: c.address, name: typeof c.before?.name === 'string' ? c.before.name : undefined, sizes: [before, after] }];
  });
}

/** What the guard prints for a volume shrink: why it cannot be applied, and the two ways forward. */
export function describeShrink(stack: string, shrink: VolumeShrink): string {
  const [from, to] = shrink.sizes;
  return `${stack}'s plan shrinks the volume ${shrink.address}${shrink.name ? ` ('${shrink.name}')` : ''} from ${from} GB to ${to} GB: Hetzner volumes only grow, `
    + 'so the API refuses the resize at apply, after Terraform may have applied the plan\'s other changes. '
    + `Fix: restore the size (size: Size.gibibytes(${from}) on the DataVolume); to move to a smaller volume, add a new DataVolume beside it, `
    + 'copy the data over, then retire the old one.';
}

/**
 * The variable by which a release asks its guard step for the SSH keys the stack's state registers, one a line, in the
 * file it names: a key the release removes is still accepted by production until its deploy, after the rehearsal.
 */
export const STATE_KEYS_FILE_VARIABLE = 'SOVEREIGN_RELEASE_STATE_KEYS_FILE';

/** The public keys of the `hcloud_ssh_key` resources a plan finds in the state (each change's `before`): those kept, changed and deleted. */
export function stateSshKeys(plan: any): string[] {
  const changes: any[] = Array.isArray(plan?.resource_changes) ? plan.resource_changes : [];
  return changes.filter((c) => c?.type === 'hcloud_ssh_key' && typeof c.change?.before?.public_key === 'string').map((c) => c.change.before.public_key.trim());
}

export function guardCommand(argv: readonly string[], io: CliIo): number {
  const { stack, out, planJson, printPlan } = parse(argv);
  if (planJson === undefined) refuseUnsynthesized(stack, out);
  const plan = planJson !== undefined ? readPlanJson(planJson) : planOf(out, stack, io, printPlan);
  const keysFile = io.env[STATE_KEYS_FILE_VARIABLE];
  if (keysFile) fs.writeFileSync(keysFile, stateSshKeys(plan).map((key) => `${key}\n`).join(''));
  // Allowed, but not silent: the summary line counts these as one change each, like a label.
  for (const update of disruptiveUpdates(plan)) io.err(`guard: note: ${describeDisruption(stack, update)}`);
  const losses = protectedLosses(plan);
  for (const loss of losses) io.err(describeLoss(stack, loss, out));
  const shrinks = volumeShrinks(plan);
  for (const shrink of shrinks) io.err(describeShrink(stack, shrink));
  if (losses.length > 0) io.err(`guard: ${stack}'s plan would lose ${losses.length} protected resource${losses.length === 1 ? '' : 's'}: do not deploy it.`);
  if (shrinks.length > 0) io.err(`guard: ${stack}'s plan shrinks ${shrinks.length} volume${shrinks.length === 1 ? '' : 's'}, which Hetzner refuses: do not deploy it.`);
  if (losses.length > 0 || shrinks.length > 0) return 1;
  const { add, change, destroy } = new PlannedChanges(plan).summary;
  io.out(`guard: ${stack}'s plan deletes no protected resource (${add} to add, ${change} to change, ${destroy} to destroy${rolloutNote(plan)}).`);
  return 0;
}

/**
 * What guard's summary adds for the rollouts a plan replaces: a day-2 change reads "1 to destroy" in the counts, so it
 * says which of those are rollouts and why each is replaced (the plan's action_reason). "Replacing nothing on Hetzner"
 * only when nothing of Hetzner's is replaced or deleted: a test Machine's image change replaces its server too.
 */
function rolloutNote(plan: any): string {
  const rollouts = rolloutReplacements(plan);
  if (rollouts.length === 0) return '';
  const changes = new PlannedChanges(plan);
  const hetznerGoes = [...changes.replacements, ...changes.deletes].some((c) => c.type.startsWith('hcloud_'));
  const counted = (n: number) => (n === 1 ? 'a machine\'s rollout' : `${n} machines' rollouts`);
  const its = (n: number) => (n === 1 ? 'its' : 'their');
  const because = (reason: string | undefined) => rollouts.filter((r) => r.reason === reason).map((r) => r.address);
  const tainted = because('replace_because_tainted');
  const requested = because('replace_by_request');
  const changed = rollouts.filter((r) => r.reason !== 'replace_because_tainted' && r.reason !== 'replace_by_request').map((r) => r.address);
  const causes = [
    changed.length > 0 ? `${counted(changed.length)} replaced (${changed.join(', ')}): ${its(changed.length)} bundle, a secret ${changed.length === 1 ? 'it uses' : 'they use'}, the agent or the disk's image changed` : '',
    tainted.length > 0 ? `${counted(tainted.length)} run again (${tainted.join(', ')}): ${its(tainted.length)} last run failed, so Terraform marked ${tainted.length === 1 ? 'it' : 'them'} tainted` : '',
    requested.length > 0 ? `${counted(requested.length)} replaced as -replace asked (${requested.join(', ')})` : '',
  ].filter((c) => c !== '');
  return `; of them, ${causes.join('; ')}${hetznerGoes ? ' (a rollout itself is not a Hetzner resource)' : `, and the deploy rolls ${rollouts.length === 1 ? 'it out to the running machine' : 'them out to the running machines'}, replacing nothing on Hetzner`}`;
}

/** A machine's rollout that a plan replaces, and Terraform's reason (`action_reason`, such as `replace_because_tainted`). */
export interface RolloutReplacement { readonly address: string; readonly reason?: string }

/**
 * The machines' rollouts a plan replaces (`terraform_data` keyed on a bundle, docs/day-2.md "What the plan shows"):
 * each counts once to add and once to destroy in the plan's summary, and is no Hetzner resource.
 */
export function rolloutReplacements(plan: any): RolloutReplacement[] {
  const changes = new PlannedChanges(Array.isArray(plan?.resource_changes) ? plan : { resource_changes: [] });
  return changes.replacements.filter((c) => c.type === 'terraform_data' && typeof c.before?.triggers_replace?.bundle === 'string')
    .map((c) => ({ address: c.address, reason: c.actionReason }));
}

/**
 * Refuses a stack the last synth did not write: a name mistyped, or a stack the app no longer has whose directory an
 * earlier synth left (cdktf never removes one). Planned, that old configuration passed, and said nothing of the one deployed.
 */
function refuseUnsynthesized(stack: string, out: string): void {
  const stacksDir = path.join(out, 'stacks');
  if (!fs.existsSync(stacksDir)) return; // planOf says to synthesize first
  const synthesized = synthesizedStackNames(out);
  if (synthesized.includes(stack)) return;
  const left = fs.existsSync(path.join(stacksDir, stack, 'cdk.tf.json')) ? ` (${path.join(stacksDir, stack)} is left from an earlier synth)` : '';
  throw new Error(`no stack named '${stack}' in the last synth into ${out}${left}. Fix: pass one of ${synthesized.join(', ') || '(none)'}, or synthesize the app that defines ${stack} again.`);
}

function readPlanJson(file: string): any {
  if (!fs.existsSync(file)) throw new Error(`${file} not found. Fix: pass the output of \`terraform show -json <planfile>\`.`);
  const plan = readJsonFile(file, 'pass the output of `terraform show -json <planfile>`');
  if (!Array.isArray(plan?.resource_changes) && plan?.format_version === undefined) {
    throw new Error(`${file} is not a plan as \`terraform show -json <planfile>\` prints it. Fix: pass that output.`);
  }
  return plan;
}

/**
 * Plans the synthesized stack in `<out>/stacks/<stack>` and returns `terraform show -json` of the plan, printing it as
 * a person reads it first when asked; the plan file never outlives the call.
 */
function planOf(out: string, stack: string, io: CliIo, print: boolean): any {
  const dir = path.join(out, 'stacks', stack);
  // check reads the default output directory unless told otherwise, as guard does.
  const checkCommand = `cdktf-sovereign-hetzner check ${shellWord(stack)} --plan${out === defaultSynthOutput() ? '' : ` --out ${shellWord(out)}`}`;
  if (!fs.existsSync(path.join(dir, 'cdk.tf.json'))) {
    throw new Error(`${dir}/cdk.tf.json not found. Fix: synthesize first (npx ${ownCdk().command} synth, or npm run synth), or pass --out with the output directory.`);
  }
  // A plan refreshes the state: it already sends the token to the endpoint.
  const redirected = redirectedEndpoints(io.env, 'planning');
  if (redirected.length > 0) throw new Error(redirected.join('\n'));
  const terraform = io.env.TERRAFORM_BINARY_NAME || 'terraform';
  const run = (args: string[]) => {
    const result = spawnSync(terraform, args, { cwd: dir, env: { ...io.env, TF_INPUT: '0' }, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    if (result.error) throw new Error(`${terraform} could not run: ${result.error.message}. Fix: install Terraform, or set TERRAFORM_BINARY_NAME.`);
    // Redacted: Terraform quotes a module's source as written, a Git token in its URL included (`git::https://oauth2:<token>@…`).
    // Redacted before it is cut: a cut inside the URL (`//oauth2:<token>@…`) left no scheme to recognise it by.
    // Terraform's words name the cause (an S3 backend without keys says "No valid credential sources found", and then
    // speaks of EC2 metadata), not what to set: check names each variable and credential the plan needs.
    if (result.status !== 0) {
      throw new Error(`terraform ${args[0]} in ${dir} failed (exit ${result.status ?? result.signal}):\n${redactSecrets((result.stderr || result.stdout).trim()).slice(-4000)}\n`
        + `Fix: see Terraform's words above; for a variable or credential left unset, \`${checkCommand}\` lists each `
        + 'one a plan of it needs (terraform init reads the state bucket with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).');
    }
    return result.stdout;
  };
  run(['init', '-input=false', '-no-color']);
  // Every variable's value is in the plan file: the owner's alone, and gone once read. Named with the process
  // (PRIVATE_DIR_PREFIX), so that a check for leftovers can tell its own from another guard's running beside it.
  const privateDir = fs.mkdtempSync(path.join(os.tmpdir(), `${PRIVATE_DIR_PREFIX}${process.pid}-`));
  try {
    const file = path.join(privateDir, 'plan');
    run(['plan', '-input=false', '-no-color', '-lock=false', `-out=${file}`]);
    if (print) io.out(run(['show', '-no-color', file]).trimEnd());
    return JSON.parse(run(['show', '-json', file]));
  } finally {
    fs.rmSync(privateDir, { recursive: true, force: true });
  }
}

function parse(argv: readonly string[]): { stack: string; out: string; planJson?: string; printPlan: boolean } {
  const { stacks, values, switched } = parseStackArgs(argv, ['--out', '--plan-json'], 'guard', ['--print-plan']);
  if (stacks.length !== 1) throw new UsageError(`guard takes one stack, got ${stacks.length === 0 ? 'none' : stacks.join(', ')}. Fix: name the stack to deploy, such as \`guard acme-production\`.`);
  if (switched.has('print-plan') && values['plan-json'] !== undefined) {
    throw new UsageError('--print-plan prints the plan guard makes, and --plan-json reads one made elsewhere. Fix: pass one of them.');
  }
  return { stack: stacks[0], out: values.out ?? defaultSynthOutput(), planJson: values['plan-json'], printPlan: switched.has('print-plan') };
}
