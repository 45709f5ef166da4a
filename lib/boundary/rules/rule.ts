import { IConstruct } from 'constructs';
import { TerraformStack } from 'cdktf';
import { DataClass } from '../../core/data-class';
import { dataClassesFromLabels } from '../../hetzner/private/standard-labels';
import { BoundaryPolicy } from '../boundary-policy';
import { DeclaredDataFlow } from '../data-flow';

/** A resource of the synthesized stack, with the construct path it came from. */
export interface SynthesizedResource {
  /** The Terraform resource type, such as `hcloud_server`. */
  readonly type: string;
  /** The resource's name in the Terraform JSON. */
  readonly name: string;
  /** The construct path it came from. */
  readonly path: string;
  /** Its resolved Terraform arguments. */
  readonly body: Record<string, any>;
}

/** Everything a rule may look at: the stack's final Terraform, the policy and the declared flows. */
export interface RuleContext {
  /** The stack being checked. */
  readonly stack: TerraformStack;
  /** The stack's Terraform JSON, resolved. */
  readonly terraform: Record<string, any>;
  /** Every resource of the stack, with its construct path. */
  readonly resources: readonly SynthesizedResource[];
  /** The policy the pack was given. */
  readonly policy: BoundaryPolicy;
  /** The data flows declared in the stack. */
  readonly flows: readonly DeclaredDataFlow[];
  /**
   * The construct at a path of the stack, to read what was declared on the tree.
   * @default - only the synthesized Terraform is read
   */
  readonly constructAt?: (path: string) => IConstruct | undefined;
}

/** One violation: where, what value, and the message that explains it. */
export interface Finding {
  /** Construct path of the offending construct. */
  readonly path: string;
  /** The message: `<path>.<prop>: <value> is not allowed: <why>. Fix: <how>`. */
  readonly message: string;
  /**
   * Overrides the rule's level for this finding (a rule that errs on some inputs and only warns on others).
   * @default - the rule's level
   */
  readonly level?: 'error' | 'warning';
  /**
   * What of the construct the finding is about, such as `TCP 587`, for a suppression that names what it covers (`appliesTo`).
   * @default - none: only a suppression of the whole rule covers it
   */
  readonly target?: string;
}

/** A boundary rule: a pure function of the synthesized stack. */
export interface BoundaryRule {
  /** `Boundary-<RuleName>`: reads on its own, used in suppressions. */
  readonly id: string;
  /** Whether a finding fails synth (error) or is reported (warning). */
  readonly level: 'error' | 'warning';
  /** What it checks, one line. */
  readonly cause: string;
  /** Why the operating model needs it. */
  readonly explanation: string;
  /** Where it is enforced: at synth, by the Hetzner firewall, on the host, or only declared. */
  readonly enforcedAt: string;
  /**
   * What its findings name for a suppression's `appliesTo` (`Finding.target`), such as `the port, as 'TCP 587'`.
   * @default - its findings name nothing: a suppression of the rule covers all of them, and `appliesTo` is refused
   */
  readonly targets?: string;
  /** The findings of the rule in one stack. */
  evaluate(context: RuleContext): Finding[];
}

/** Every resource in a stack's Terraform JSON, with its construct path. */
export function resourcesOf(terraform: Record<string, any>): SynthesizedResource[] {
  // A resource an override wrote as null (`stack.addOverride('resource.<type>.<name>', null)`) is no resource: the
  // rules read every body as an object, and the checks that expect it (the allowlist's rollout) find it missing.
  return Object.entries(terraform.resource ?? {}).flatMap(([type, byName]) =>
    Object.entries((byName ?? {}) as Record<string, any>).filter(([, body]) => body !== null && typeof body === 'object').map(([name, body]) => ({
      type, name, body, path: body?.['//']?.metadata?.path ?? `${type}.${name}`,
    })));
}

/**
 * Whether a value is a Terraform expression that reads a variable, a resource, a data source or a
 * module, so that its value is not in the configuration. An expression of literals only
 * (`${"…"}`, `${trimspace("…")}`, `${join("", ["…", "…"])}`) is a literal in disguise; a local
 * counts through what it holds (`locals` is the stack's `locals` block).
 */
export function readsAReference(value: unknown, locals: Record<string, unknown> = {}, seen: ReadonlySet<string> = new Set()): boolean {
  if (typeof value !== 'string' || !/^\$\{[\s\S]*\}$/.test(value.trim())) return false;
  // String literals inside the expression name nothing, whatever they hold.
  const code = value.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  if (/(?<![\w.])(?:var|data|module)\.[A-Za-z_]|(?<![\w.])[a-z][a-z0-9]*_[a-z0-9_]*\.[A-Za-z_]/.test(code)) return true;
  return [...code.matchAll(/(?<![\w.])local\.([A-Za-z_][\w-]*)/g)].some(([, name]) =>
    !seen.has(name) && readsAReference(locals[name], locals, new Set([...seen, name])));
}

/** What a resource holds, as every rule and report reads it. */
export interface HeldData {
  /** The classes, strictest last; an undeclared resource holds `[SENSITIVE]`. */
  readonly classes: readonly DataClass[];
  /** Whether nothing declared them (no construct declaration, no data label). */
  readonly undeclared: boolean;
}

/**
 * The one reading of what a resource holds: the classes declared on the construct tree (a
 * `Machine`'s `dataClasses`) together with those its labels name, so a label can add a class but
 * never hide one; with neither, it counts as sensitive.
 */
export function heldData(resource: SynthesizedResource, constructAt?: (path: string) => IConstruct | undefined): HeldData {
  const construct = constructAt?.(resource.path);
  const declared = construct ? treeDeclaration(resource.type, construct) : undefined;
  const labelled = dataClassesFromLabels(resource.body.labels);
  if (!declared && !labelled) return { classes: [DataClass.SENSITIVE], undeclared: true };
  const all = new Set([...(declared ?? []), ...(labelled ?? [])]);
  return { classes: DataClass.all().filter((c) => all.has(c)), undeclared: false };
}

/** Resource types that hold data themselves: a server's disks, a volume, a Storage Box, and their snapshots (firewalls and addresses carry a machine's labels but hold nothing). */
export const DATA_HOLDING_TYPES: ReadonlySet<string> = new Set([
  'hcloud_server', 'hcloud_volume', 'hcloud_snapshot', 'hcloud_storage_box', 'hcloud_storage_box_snapshot', 'hcloud_storage_box_subaccount',
]);

/**
 * Resource types that hold or process data: the stores above, and a load balancer, which carries the users' traffic
 * and can terminate TLS (it sees requests in the clear). Primary and floating IPs only route packets to a server.
 */
export const HOLDS_OR_PROCESSES_DATA_TYPES: ReadonlySet<string> = new Set([...DATA_HOLDING_TYPES, 'hcloud_load_balancer']);

/**
 * The classes the construct tree declares for a resource. A declaration on a stack or a construct above reaches a
 * raw store or load balancer (a `Volume` from the generated bindings added beside the library's constructs) only when
 * it holds sensitive or secret data: `[DataClass.PUBLIC]` on a stack made every such volume, server and load balancer
 * below it public, whatever it held or carried. Looser than sensitive, a store is declared on itself (`DataClass.declare(volume, …)`, or the
 * label data-class), or by the construct it is the default child of (a `Machine` for its server).
 */
function treeDeclaration(type: string, construct: IConstruct): readonly DataClass[] | undefined {
  const declaration = DataClass.declarationOf(construct);
  if (!declaration || !HOLDS_OR_PROCESSES_DATA_TYPES.has(type)) return declaration?.classes;
  const own = declaration.on === construct || (declaration.on === construct.node.scope && declaration.on.node.defaultChild === construct);
  const strict = declaration.classes.some((c) => c.strictness >= DataClass.SENSITIVE.strictness);
  return own || strict ? declaration.classes : undefined;
}

/** How a finding names what a resource holds: its strictest class. */
export function describeHeld(held: HeldData): string {
  return held.undeclared ? 'sensitive (undeclared)' : DataClass.strictest(held.classes)!.name;
}

/**
 * Whether a variable or output is marked sensitive as Terraform reads the flag: `true`, or the text
 * "true", which Terraform converts. The text "false" (a JavaScript caller passing an environment
 * variable through) is not a mark, though it is truthy in JavaScript.
 */
export function isMarkedSensitive(flag: unknown): boolean {
  return flag === true || flag === 'true';
}
