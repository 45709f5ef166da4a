import { IConstruct } from 'constructs';
import { DataClass } from '../../core/data-class';
import { firstLabelProblem } from '../../core/labels';
import { Environment } from '../../core/environment';
import { invalidValue, ValidationError } from '../../core/validation-message';

/** The label every resource of this library carries, so that its resources can be found and told apart from hand-made ones. */
export const MANAGED_BY_LABEL = { 'managed-by': 'cdktf-sovereign-hetzner' };

/** Label keys the library sets itself and the boundary, the reaper and the reports read: a user label may never set them. */
export const RESERVED_LABEL_KEYS: readonly string[] = [
  'managed-by', 'environment', 'role', 'data-class', ...DataClass.all().map((c) => `data-${c.name}`),
];

/** Labels only an on-demand staging resource may carry: the staging reaper deletes what has them once expired. */
export const ON_DEMAND_LABEL_KEYS: readonly string[] = ['lifecycle', 'purpose', 'expires-at'];

/**
 * The labels that say what a resource is: its environment, its role and the data it holds.
 *
 * Data classes appear twice: `data-class` names the strictest class held (for a quick
 * look), and `data-<class>=true` marks each class (for label selectors).
 */
export function standardLabels(opts: { environment: Environment; role: string; dataClasses?: readonly DataClass[] }): Record<string, string> {
  const labels: Record<string, string> = { ...MANAGED_BY_LABEL, environment: opts.environment.name, role: opts.role };
  const strictest = DataClass.strictest(opts.dataClasses ?? []);
  if (strictest) {
    labels['data-class'] = strictest.name;
    for (const dataClass of opts.dataClasses ?? []) labels[`data-${dataClass.name}`] = 'true';
  }
  return labels;
}

/**
 * The standard labels plus the user's, refusing user labels that would override a standard one:
 * `data-class: public` on a sensitive machine would silence the boundary, `environment: staging`
 * on production would hand it to the staging reaper. On-demand labels are refused outside staging.
 *
 * @param at the construct path and prop the user labels came from, for the error
 */
export function withUserLabels(at: string, environment: Environment, standard: Record<string, string>, user: Record<string, string> | undefined): Record<string, string> {
  for (const key of Object.keys(user ?? {})) {
    if (RESERVED_LABEL_KEYS.includes(key) || key.startsWith('data-')) {
      throw new ValidationError(invalidValue(at, `labels.${key}`, user![key],
        'the library sets this label from the props (environment, role, dataClasses), and the boundary checks and the staging reaper read it',
        key.startsWith('data-') ? 'declare what the resource holds with dataClasses instead, and remove the label' : `set ${key} through its prop, and remove the label`));
    }
    if (ON_DEMAND_LABEL_KEYS.includes(key) && environment !== Environment.STAGING) {
      throw new ValidationError(invalidValue(at, `labels.${key}`, user![key],
        `only on-demand staging resources carry it: the staging reaper deletes expired resources labelled so, and this one is in ${environment.name}`,
        'remove the label'));
    }
  }
  return { ...user, ...standard };
}

/**
 * The refusal of the first label Hetzner would refuse (a key or value it does not take), as a validation error of
 * `construct.labels`, or none. Hetzner refuses it only when Terraform writes the resource, part-way through a deploy.
 */
export function labelErrors(construct: IConstruct, labels: Record<string, string> | undefined): string[] {
  const problem = labels === undefined ? undefined : firstLabelProblem(labels);
  return problem ? [invalidValue(construct, 'labels', problem[0], problem[1], 'sanitize the label, for example "feat-x" instead of "feat/x"')] : [];
}

/**
 * What a resource's labels say it holds, the one reading every rule and report shares: each
 * `data-<class>=true` and the `data-class` name; an unknown name counts as sensitive, and no
 * data label at all gives `undefined` (undeclared).
 */
export function dataClassesFromLabels(labels: unknown): DataClass[] | undefined {
  if (labels === null || typeof labels !== 'object') return undefined;
  const record = labels as Record<string, unknown>;
  const found = new Set<DataClass>();
  let declaredAny = false;
  if (record['data-class'] !== undefined) {
    declaredAny = true;
    found.add(DataClass.fromName(record['data-class']) ?? DataClass.SENSITIVE);
  }
  for (const c of DataClass.all()) {
    if (record[`data-${c.name}`] !== undefined) {
      declaredAny = true;
      if (record[`data-${c.name}`] === 'true') found.add(c);
    }
  }
  if (!declaredAny) return undefined;
  return found.size > 0 ? DataClass.all().filter((c) => found.has(c)) : [DataClass.SENSITIVE];
}
