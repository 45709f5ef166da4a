import { IConstruct } from 'constructs';
import { TerraformStack, TerraformVariable } from 'cdktf';
import { invalidValue, ValidationError } from '../validation-message';
import { removeOutputOnFailedSynth } from './failed-synth-output';
import { checkJsonBeforeHcl } from './hcl-rendering';

/** A secret as a construct took it: where it came in (construct and prop), and the variable it is. */
interface TakenSecret {
  readonly at: IConstruct;
  readonly prop: string;
  readonly variable: TerraformVariable;
}

/** What a stack renders to: cdktf's own `toTerraform`, kept before it is wrapped. */
type Render = () => { variable?: Record<string, { sensitive?: unknown }> };

/** Per stack: the secrets to check in its rendering, and its own render. */
const registered = new WeakMap<TerraformStack, { readonly taken: TakenSecret[]; readonly render: Render }>();

/**
 * Registers a secret `scope` took through `prop`, to be refused at synth unless the variable is rendered sensitive.
 * The construction-time check holds for that moment only: a JavaScript caller can set `sensitive` to false afterwards,
 * and anyone can `addOverride('sensitive', false)` on the variable or `variable.<id>.sensitive` on its stack; cdktf
 * renders the variable's attributes merged with both overrides. So the check reads the stack's rendering itself.
 *
 * Checked in the stack that took it and in the variable's own stack (when another): the variable's stack is the one
 * that writes it. Each secret once per place.
 * @internal
 */
export function recheckAtSynth(scope: IConstruct, prop: string, variable: TerraformVariable): void {
  for (const stack of new Set([TerraformStack.of(scope), TerraformStack.of(variable)])) {
    const { taken } = registered.get(stack) ?? checkRenderingOf(stack);
    if (!taken.some((t) => t.at === scope && t.prop === prop && t.variable === variable)) taken.push({ at: scope, prop, variable });
  }
}

/**
 * Wraps the stack's `toTerraform` (which `toHclTerraform` renders first, see hcl-rendering) so that its rendering is refused,
 * before it is returned to be written, unless every secret registered for the stack is rendered `sensitive: true`.
 * The rendering is what every synth writes (App.synth with or without skipValidation, Testing.synth, synthHcl,
 * fullSynth), and the stack's own comes after every Aspect ran, so a secret an Aspect brings in is checked too. The
 * rendering of another stack read for a variable it declares may come before that stack's Aspects ran: that stack
 * checks the variable again at its own synth, before it is written. cdktf's dry resolve of each element before it
 * (prepareStack, for cross-stack references) keeps and writes nothing.
 */
function checkRenderingOf(stack: TerraformStack): { readonly taken: TakenSecret[]; readonly render: Render } {
  const render: Render = stack.toTerraform.bind(stack);
  const entry = { taken: [] as TakenSecret[], render };
  registered.set(stack, entry);
  // A refusal in a later stack must not leave this one's or an earlier stack's new file behind.
  removeOutputOnFailedSynth(stack);
  stack.toTerraform = () => {
    const rendered = render();
    refuseUnlessRenderedSensitive(stack, rendered, entry.taken);
    return rendered;
  };
  // With --hcl the JSON is rendered, and so checked, before the HCL; a stack's `variable.<id>.sensitive` override, which
  // cdktf's HCL leaves out, is refused there too (hcl-rendering).
  checkJsonBeforeHcl(stack);
  return entry;
}

function refuseUnlessRenderedSensitive(stack: TerraformStack, rendered: ReturnType<Render>, taken: readonly TakenSecret[]): void {
  // One line per variable, however many places took it (a SecretVariable registers itself, then the construct it is
  // passed to): one flip, one line.
  const places = new Map<TerraformVariable, TakenSecret[]>();
  for (const secret of taken) places.set(secret.variable, [...(places.get(secret.variable) ?? []), secret]);
  const renderings = new Map<TerraformStack, ReturnType<Render>>([[stack, rendered]]);
  const errors: string[] = [];
  for (const [variable, where] of places) {
    const home = TerraformStack.of(variable);
    // Another stack's own render, unwrapped: its refusal is its own synth's to give.
    if (!renderings.has(home)) renderings.set(home, registered.get(home)!.render());
    if (renderings.get(home)!.variable?.[variable.friendlyUniqueId]?.sensitive === true) continue;
    const takers = where.filter((t) => t.at !== variable);
    const first = takers[0] ?? where[0];
    const after = takers.length > 0 ? `after ${takers.map((t) => `${t.at.node.path}.${t.prop}`).join(', ')} took it` : 'after it was declared sensitive';
    errors.push(invalidValue(first.at, first.prop, `var.${variable.friendlyUniqueId}`,
      'the variable is not rendered sensitive, so Terraform would print the secret in plans and outputs',
      `keep it sensitive: its \`sensitive\` was set to false, or overridden with addOverride, ${after}`));
  }
  if (errors.length > 0) throw new ValidationError(errors.join('\n'));
}
