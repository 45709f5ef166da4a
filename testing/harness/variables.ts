import { DRILL_VARIABLES_OF_ONE_VALUE } from '../../stacks/drill-variables';

/**
 * Environment entries (`TF_VAR_<name>`) with placeholder values for every variable of a
 * synthesized stack that has no default: the secrets a real deploy takes from the environment.
 * A value already set in `env` wins, so a test can pass real-looking values where it cares.
 * The test stack's copies of production's values (the restore drill's login, the offsite endpoint and bucket) get
 * production's placeholder, or production's value from `env`: `check` and `release` refuse two different values.
 */
export function placeholderVariables(stackJson: any, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const placeholders: Record<string, string> = {};
  for (const [name, variable] of Object.entries<any>(stackJson?.variable ?? {})) {
    const key = `TF_VAR_${name}`;
    if (variable?.default !== undefined || env[key] !== undefined) continue;
    const production = DRILL_VARIABLES_OF_ONE_VALUE.find((pair) => pair.test === name)?.production ?? name;
    placeholders[key] = env[`TF_VAR_${production}`] ?? placeholderOf(production);
  }
  return placeholders;
}

function placeholderOf(name: string): string {
  return `stand-in-${name.replace(/_/g, '-')}`;
}
