import * as crypto from 'crypto';
import { isObject, isUnknown, ObjectValue, unknownValue, Value } from './values';

/**
 * Arguments that hcloud v1.68 stores in the state as something other than what was configured
 * (SDKv2 `StateFunc`), with the `DiffSuppressFunc` that compares them.
 *
 * In SDKv2 the StateFunc already applies while planning: the planned value is the stored form,
 * so PlanResourceChange, ApplyResourceChange and ReadResource all carry the same value. The
 * provider itself still sends the configured text to the API on create (`d.Get` returns it).
 */
interface StoredForm {
  /** The value kept in state for a configured string (SDKv2 StateFunc). */
  readonly state: (configured: string) => string;
  /** Whether the prior state's value counts as unchanged (SDKv2 DiffSuppressFunc). */
  readonly suppress: (prior: string, planned: string, configured: string) => boolean;
}

/**
 * hcloud_server.user_data keeps only a hash: the base64 (standard alphabet, padded) of the SHA-1
 * of the text, which may hold rendered secrets.
 * From hetznercloud/terraform-provider-hcloud v1.68.0, internal/server/resource.go
 * (`StateFunc` on "user_data", `userDataHashSum`, `userDataDiffSuppress`).
 */
export function userDataHashSum(userData: string): string {
  return crypto.createHash('sha1').update(userData, 'utf8').digest('base64');
}

/**
 * userDataDiffSuppress: a prior value that is not base64 is plain text from a state written
 * before the provider hashed user data, and counts as unchanged when its hash matches.
 */
function userDataDiffSuppress(prior: string, planned: string, configured: string): boolean {
  if (planned !== '' && configured !== '' && !isGoBase64(prior)) return userDataHashSum(prior) === planned;
  return prior.trim() === planned.trim();
}

/** Whether a value is a stored hash: base64 of the 20 bytes of a SHA-1. */
function isStoredForm(value: string): boolean {
  return value.length === 28 && isGoBase64(value);
}

/** Whether Go's `base64.StdEncoding.DecodeString` accepts `s` (padding required; CR and LF skipped). */
export function isGoBase64(s: string): boolean {
  return /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s.replace(/[\r\n]/g, ''));
}

const STORED_FORMS: Readonly<Record<string, Readonly<Record<string, StoredForm>>>> = {
  hcloud_server: { user_data: { state: userDataHashSum, suppress: userDataDiffSuppress } },
};

/** Whether a resource type has arguments stored in another form than configured. */
export function hasStateFuncs(typeName: string): boolean {
  return STORED_FORMS[typeName] !== undefined;
}

/**
 * The proposed new state with each such argument in its stored form. Returns `planned`, for a
 * new object or a replacement, and `compared`, where a value the DiffSuppressFunc calls
 * unchanged keeps the prior one (for the replacement decision and an in-place plan).
 */
export function planStoredForms(typeName: string, prior: Value, proposed: ObjectValue): { planned: ObjectValue; compared: ObjectValue } {
  const forms = STORED_FORMS[typeName];
  if (!forms) return { planned: proposed, compared: proposed };
  const planned: ObjectValue = { ...proposed };
  const compared: ObjectValue = { ...proposed };
  for (const [name, form] of Object.entries(forms)) {
    const configured = proposed[name];
    if (isUnknown(configured)) {
      // Unknown until apply, and not a value with the text's refinements (such as its prefix):
      // the SDK plans a plain unknown, which the hash then fills.
      planned[name] = unknownValue();
      compared[name] = planned[name];
      continue;
    }
    if (typeof configured !== 'string') continue; // null stays null
    const before = isObject(prior) ? prior[name] : undefined;
    if (configured === before && isStoredForm(before)) {
      // Terraform sends the prior (stored) value in place of the configuration for an argument in
      // ignore_changes, as production machines have for user_data: no change, no second hashing.
      planned[name] = before;
      compared[name] = before;
      continue;
    }
    planned[name] = form.state(configured);
    compared[name] = planned[name];
    if (typeof before === 'string' && form.suppress(before, form.state(configured), configured)) compared[name] = before;
  }
  return { planned, compared };
}

/**
 * The planned state at apply, with a value that was unknown while planning now in its stored
 * form, from the configuration (which is known by then).
 */
export function applyStoredForms(typeName: string, planned: ObjectValue, config: Value): ObjectValue {
  const forms = STORED_FORMS[typeName];
  if (!forms || !isObject(config)) return planned;
  const out: ObjectValue = { ...planned };
  for (const [name, form] of Object.entries(forms)) {
    const configured = config[name];
    if (isUnknown(out[name]) && typeof configured === 'string') out[name] = form.state(configured);
  }
  return out;
}
