import { Annotations, TerraformResource, TerraformStack } from 'cdktf';
import { IConstruct } from 'constructs';
import { Environment } from '../../core/environment';
import { stackOf } from '../../core/private/stack-of';
import { invalidValue } from '../../core/validation-message';
import { sshKeyFingerprint, sshKeyMaterial } from './openssh-public-key';
import { synthesizedArguments } from './synthesized-argument';

/**
 * The resource types whose names Hetzner takes once per project (`uniqueness_error` on a second), and the noun its
 * messages use: those the stand-in refuses a second name of, as the API does (testing/provider/cloud/behaviours.ts
 * `uniqueName`; hetzner-pitfalls 19 and 26), and placement groups, whose names other tools suffix for that reason
 * (cluster-api-provider-hetzner #42).
 */
const NAMED_ONCE_PER_PROJECT: Readonly<Record<string, string>> = {
  hcloud_server: 'server',
  hcloud_primary_ip: 'primary IP',
  hcloud_floating_ip: 'floating IP',
  hcloud_volume: 'volume',
  hcloud_network: 'network',
  hcloud_firewall: 'firewall',
  hcloud_ssh_key: 'SSH key',
  hcloud_load_balancer: 'load balancer',
  hcloud_placement_group: 'placement group',
  hcloud_storage_box: 'Storage Box',
};

/** Where a stack's resources go: a project one of the environments deploys to, or one the library cannot tell. */
type Project = 'test' | 'production' | undefined;

/** One resource that Hetzner names once per project, as the checks see it. */
export interface NamedResource {
  readonly resource: TerraformResource;
  readonly stack: TerraformStack;
  readonly noun: string;
  readonly name?: string;
  /** The SSH key without its comment: Hetzner registers the key (its fingerprint) once per project too. */
  readonly keyMaterial?: string;
  readonly environment?: string;
  /** The product of its EnvironmentStack: products keep to projects of their own. */
  readonly product?: string;
  /** The environment of its EnvironmentStack, which decides the product's project; undefined in a team's own stack. */
  readonly stackEnvironment?: string;
  /** The provider configuration it is created with (one token, one project); undefined for the stack's default. */
  readonly provider?: string;
}

/** Why two resources share a project, and whether the library knows it (an error) or infers it (a warning). */
export interface SharedProject {
  readonly reason: string;
  readonly certain: boolean;
}

const checkedStacks = new WeakSet<TerraformStack>();
/** Resources whose namesakes in their own stack a construct's own check reports already (Machine, SshKey). */
const checkedInOwnStack = new WeakSet<TerraformResource>();

/**
 * Makes synth fail when a resource of `scope`'s stack takes a name (or, for an SSH key, a key) that another resource
 * takes too in a project the library knows they share: its own stack, under one provider, or the stacks of one
 * product's environments that share a project (staging lives in production's: it boots production's snapshot).
 * Where the project is inferred (a team's own stacks, one environment or none, which one HCLOUD_TOKEN deploys to one
 * project, but a token each to two), synth warns instead: such a team may well deploy to projects of its own.
 * The per-stack checks (Machine, SshKey) saw their own stack and type only, and the second create failed with
 * uniqueness_error part-way through the deploy. Idempotent per stack; the library's Hetzner constructs call it,
 * naming the resources whose namesakes in their own stack they report themselves (`checkedInStack`).
 */
export function checkUniquePerProject(scope: IConstruct, checkedInStack: readonly TerraformResource[] = []): void {
  for (const resource of checkedInStack) checkedInOwnStack.add(resource);
  const stack = stackOf(scope);
  if (!stack || checkedStacks.has(stack)) return;
  checkedStacks.add(stack);
  stack.node.addValidation({ validate: () => collisionsReportedBy(stack) });
}

/**
 * The collisions `stack` reports, as errors (warnings are annotated on the resource): those with a stack before it
 * in the App (the later stack's deploy is the one Hetzner refuses), and those with a later stack that no construct of
 * the library checks itself.
 */
function collisionsReportedBy(stack: TerraformStack): string[] {
  const stacks = stack.node.root.node.findAll().filter(TerraformStack.isStack);
  const own = namedResourcesOf(stack);
  if (own.length === 0) return [];
  const errors: string[] = [];
  const report = (first: NamedResource, second: NamedResource, shared: SharedProject) => {
    const messages = collisionMessages(first, second, shared.reason);
    if (shared.certain) errors.push(...messages);
    else for (const message of messages) warnOnce(second.resource, message);
  };
  own.forEach((second, j) => {
    for (const first of own.slice(0, j)) {
      if (checkedInOwnStack.has(first.resource) && checkedInOwnStack.has(second.resource)) continue;
      // Another provider may hold another project's token (an alias for a second project).
      if (first.provider === second.provider) report(first, second, { reason: '', certain: true });
    }
  });
  const position = stacks.indexOf(stack);
  stacks.forEach((other, i) => {
    if (other === stack || (i > position && checkedStacks.has(other))) return;
    const theirs = namedResourcesOf(other);
    const [earlier, later] = i < position ? [theirs, own] : [own, theirs];
    for (const second of later) {
      for (const first of earlier) {
        const shared = sharedProject(first, second);
        if (shared) report(first, second, shared);
      }
    }
  });
  return errors;
}

/** Warnings are annotations: validation runs again on a second synth, and a warning is given once. */
const warned = new WeakMap<TerraformResource, Set<string>>();
function warnOnce(resource: TerraformResource, message: string): void {
  const given = warned.get(resource) ?? new Set<string>();
  warned.set(resource, given);
  if (given.has(message)) return;
  given.add(message);
  Annotations.of(resource).addWarning(`Hetzner-NameTakenInProject: ${message} If the two stacks deploy to two Hetzner projects (a token each), this is no conflict.`);
}

function collisionMessages(first: NamedResource, second: NamedResource, shared: string): string[] {
  if (first.resource.terraformResourceType !== second.resource.terraformResourceType) return [];
  const sameStack = first.stack === second.stack;
  const where = sameStack ? `${first.resource.node.path} is in the same stack` : `${first.resource.node.path} (stack ${first.stack.node.id}) ${shared}`;
  const outcome = sameStack ? 'so the deploy would fail with uniqueness_error part-way through'
    : `so deploying ${second.stack.node.id} after ${first.stack.node.id} would fail with uniqueness_error`;
  const errors: string[] = [];
  if (first.name !== undefined && first.name === second.name) {
    const suggestion = `${second.name}-${sameStack ? '2' : second.stack.node.id}`;
    errors.push(invalidValue(second.resource, 'name', second.name,
      `${where}, and creates ${article(second.noun)} of this name too: Hetzner names ${article(second.noun)} once per project, ${outcome}`,
      `give one of them a name of its own, such as '${suggestion}'${second.noun === 'server' ? ' (Machine\'s name prop; its firewall and addresses follow it)' : ''}`));
  }
  if (first.keyMaterial !== undefined && first.keyMaterial === second.keyMaterial) {
    errors.push(invalidValue(second.resource, 'public_key', sshKeyFingerprint(second.keyMaterial),
      `${where}, and registers this key too (comments aside): Hetzner registers a key (its fingerprint) once per project, ${outcome}`,
      sameStack ? registerOnceFix(second.stack, second.keyMaterial) : crossStackKeyFix(first, second)));
  }
  return errors;
}

/**
 * Whether two resources of two stacks land in one project, or undefined when they may be in two. Certain for one
 * product's environment stacks that share a project: staging lives in production's. Test may have a project of its
 * own (HCLOUD_TOKEN_TEST), and each product its own, so neither counts as one here. Inferred for the rest: a resource
 * without an environment, or a team's stack, may go anywhere, and one HCLOUD_TOKEN deploys every stack to one project.
 */
export function sharedProject(a: NamedResource, b: NamedResource): SharedProject | undefined {
  if (a.product !== undefined && b.product !== undefined && a.product !== b.product) return undefined;
  const [pa, pb] = [projectOf(a.environment), projectOf(b.environment)];
  if (pa === undefined || pb === undefined) {
    const unknown = pa === undefined ? a : b;
    return { certain: false, reason: `is in a stack that may deploy to the same Hetzner project (${unknown.resource.node.path} carries no environment label, and one HCLOUD_TOKEN deploys every stack to one project)` };
  }
  if (pa !== pb) return undefined;
  const certain = a.product !== undefined && a.product === b.product && projectOf(a.stackEnvironment) === projectOf(b.stackEnvironment)
    && projectOf(a.stackEnvironment) !== undefined;
  const staging = [a, b].some((r) => r.environment === Environment.STAGING.name);
  return {
    certain,
    reason: staging
      ? 'is in production\'s Hetzner project, where staging lives too (it is built from production\'s snapshot, which only that project can use)'
      : `is in ${pa}'s Hetzner project too (both are ${pa}'s)`,
  };
}

function projectOf(environment: string | undefined): Project {
  if (environment === Environment.TEST.name) return 'test';
  if (environment === Environment.PRODUCTION.name || environment === Environment.STAGING.name) return 'production';
  return undefined;
}

/**
 * The stack's resources that Hetzner names once per project, with their names and environments as synthesized. A
 * resource without an environment label (an SshKey) is in its stack's environment: an EnvironmentStack's, or the one
 * environment all the stack's labelled resources carry. Those with `count` or `for_each` only when `multiplied` (the
 * firewall count reads how many they create; the name checks leave them to Hetzner).
 */
export function namedResourcesOf(stack: TerraformStack, multiplied = false): NamedResource[] {
  const found = stack.node.findAll().flatMap((c) => {
    if (!(c instanceof TerraformResource)) return [];
    const noun = NAMED_ONCE_PER_PROJECT[c.terraformResourceType];
    return noun ? [{ resource: c, noun, body: bodyOf(c) }] : [];
  });
  const labelled = new Set(found.map((f) => f.body.labels?.environment).filter((e): e is string => typeof e === 'string'));
  const stackEnvironment = (stack as { environment?: unknown }).environment;
  const productName = productOf(stack);
  const fallback = stackEnvironment instanceof Environment ? stackEnvironment.name : labelled.size === 1 ? [...labelled][0] : undefined;
  // A resource with count or for_each may create none, or name each instance apart: left to Hetzner.
  return found.filter(({ resource }) => multiplied || (resource.count === undefined && resource.forEach === undefined)).map(({ resource, noun, body }) => {
    const publicKey = resource.terraformResourceType === 'hcloud_ssh_key' ? known(body.public_key) : undefined;
    return {
      resource, stack, noun, name: known(body.name), product: productName,
      environment: typeof body.labels?.environment === 'string' ? body.labels.environment : fallback,
      stackEnvironment: stackEnvironment instanceof Environment ? stackEnvironment.name : undefined,
      provider: providerOf(resource),
      keyMaterial: publicKey === undefined ? undefined : sshKeyMaterial(publicKey),
    };
  });
}

/**
 * The provider configuration a resource is created with, undefined for the stack's default: a provider passed
 * without an alias is that default (Terraform allows one such configuration per provider in a stack), and counting it
 * apart made an account or project of it alone.
 */
function providerOf(resource: TerraformResource): string | undefined {
  return resource.provider?.alias ? resource.provider.node.path : undefined;
}

/** What the checks read of a resource: only these arguments (see synthesizedArguments). */
function bodyOf(resource: TerraformResource): { name?: unknown; labels?: Record<string, unknown>; public_key?: unknown } {
  const { name, labels, public_key } = synthesizedArguments(resource, resource.terraformResourceType === 'hcloud_ssh_key' ? ['name', 'labels', 'public_key'] : ['name', 'labels']);
  return { name, labels: labels !== null && typeof labels === 'object' ? labels as Record<string, unknown> : undefined, public_key };
}

/** A value known at synth: a string without Terraform references (a variable's value is another stack's business). */
function known(value: unknown): string | undefined {
  return typeof value === 'string' && !value.includes('${') ? value : undefined;
}

/** "a server", "an SSH key". */
function article(noun: string): string {
  return `${/^(SSH|[aeiou])/i.test(noun) ? 'an' : 'a'} ${noun}`;
}

/**
 * The keys of an EnvironmentStack (or a stack of ProductStacks), read without importing the stacks: a machine of one's
 * own there takes them (`EnvironmentStack.adminSshKeys`), since a new SshKey of the same key is one registration too many.
 */
function adminKeysOf(stack: TerraformStack): readonly unknown[] | undefined {
  const keys = (stack as { adminSshKeys?: unknown }).adminSshKeys;
  return Array.isArray(keys) ? keys : undefined;
}

const ADMIN_KEYS_FIX = 'take the stack\'s admin keys rather than registering the key again: sshKeys: [...stack.adminSshKeys]';

/**
 * Whether `keyMaterial` is one of the stack's admin keys (by its public key, comments aside): only then are they the
 * fix. Another key (a CI deploy key two workers register) told to use them would change who can log in.
 */
function isAdminKeyOf(stack: TerraformStack, keyMaterial: string | undefined): boolean {
  if (keyMaterial === undefined) return false;
  return (adminKeysOf(stack) ?? []).some((k) => {
    const publicKey = (k as { publicKey?: unknown } | null)?.publicKey;
    return typeof publicKey === 'string' && known(publicKey) !== undefined && sshKeyMaterial(publicKey) === keyMaterial;
  });
}

/** The fix for a key registered twice in one stack: in an EnvironmentStack, its admin keys first when it is one of them. */
export function registerOnceFix(stack: TerraformStack, keyMaterial: string | undefined): string {
  const once = 'register the key once, and pass that SshKey wherever it is needed';
  return isAdminKeyOf(stack, keyMaterial) ? `in a ProductStacks or EnvironmentStack stack (${stack.node.id} is one), ${ADMIN_KEYS_FIX}; otherwise ${once}` : once;
}

/**
 * The fix for a key two stacks register. The name to refer to is never staging's when the other stack is not staging
 * (the reaper and `cdktf destroy` of staging delete its key, under servers that still name it; ProductStacks builds
 * staging before production, so `first` named it), and otherwise the one an EnvironmentStack registers as its admin
 * key, whichever stack came first: staging's worker registering production's admin key again named the worker's key.
 */
function crossStackKeyFix(first: NamedResource, second: NamedResource): string {
  const isAdminKey = (n: NamedResource) => (adminKeysOf(n.stack) ?? []).some((k) => k === n.resource.node.scope);
  const isStaging = (n: NamedResource) => n.environment === Environment.STAGING.name || n.stackEnvironment === Environment.STAGING.name;
  const secondFirst = isStaging(first) !== isStaging(second) ? isStaging(first) : isAdminKey(second) && !isAdminKey(first);
  const [kept, again] = secondFirst ? [second, first] : [first, second];
  const byName = `register the key in one stack only, and refer to it in the other by name: SshKey.fromName('${kept.name ?? '<its name>'}')`;
  return isAdminKeyOf(again.stack, again.keyMaterial) && !isAdminKey(again)
    ? `for ${again.resource.node.path}, in a ProductStacks or EnvironmentStack stack (${again.stack.node.id}), ${ADMIN_KEYS_FIX}; otherwise ${byName}`
    : byName;
}

/** The product of an EnvironmentStack (products keep to projects, and an account, of their own); undefined for a team's own stack. */
export function productOf(stack: TerraformStack): string | undefined {
  const name = (stack as { product?: { name?: unknown } }).product?.name;
  return typeof name === 'string' ? name : undefined;
}
