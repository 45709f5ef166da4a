/**
 * Environment entries (`TF_VAR_<name>`) with placeholder values for every variable of a
 * synthesized stack that has no default: the secrets a real deploy takes from the environment.
 * A value already set in `env` wins, so a test can pass real-looking values where it cares.
 */
export function placeholderVariables(stackJson: any, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const placeholders: Record<string, string> = {};
  for (const [name, variable] of Object.entries<any>(stackJson?.variable ?? {})) {
    const key = `TF_VAR_${name}`;
    if (variable?.default === undefined && env[key] === undefined) placeholders[key] = `stand-in-${name.replace(/_/g, '-')}`;
  }
  return placeholders;
}
