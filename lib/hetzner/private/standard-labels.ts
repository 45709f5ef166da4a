import { DataClass } from '../../core/data-class';
import { Environment } from '../../core/environment';

/** The label every resource of this library carries, so that its resources can be found and told apart from hand-made ones. */
export const MANAGED_BY_LABEL = { 'managed-by': 'cdktf-sovereign-hetzner' };

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
