import { createHash } from 'crypto';
import { ERROR_MONITORING_DSN_VARIABLE, SECRETS, SETUP } from '../../lib/monitoring/private/paths';
import { DRILL_VARIABLES_OF_ONE_VALUE } from '../../stacks/drill-variables';
import { SynthesizedBundleFile, synthesizedBundles } from '../bundle';

/**
 * Environment entries (`TF_VAR_<name>`) with placeholder values for every variable of a
 * synthesized stack that has no default: the secrets a real deploy takes from the environment.
 * A value already set in `env` wins, so a test can pass real-looking values where it cares.
 * A URL the machines' monitoring setup checks (a monitoring webhook or ping URL, the error-monitoring DSN) gets a
 * placeholder at the host, port and scheme the stack's bundles declare for it, so a rollout of the stack activates:
 * the setup refuses a URL anywhere else, since the egress allowlist would let nothing through to it.
 * The test stack's copies of production's values (the restore drill's login, the offsite endpoint and bucket) get
 * production's placeholder, or production's value from `env`: `check` and `release` refuse two different values.
 */
export function placeholderVariables(stackJson: any, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const declared = declaredUrls(stackJson);
  const placeholders: Record<string, string> = {};
  for (const [name, variable] of Object.entries<any>(stackJson?.variable ?? {})) {
    const key = `TF_VAR_${name}`;
    if (variable?.default !== undefined || env[key] !== undefined) continue;
    const production = DRILL_VARIABLES_OF_ONE_VALUE.find((pair) => pair.test === name)?.production ?? name;
    placeholders[key] = env[`TF_VAR_${production}`] ?? declared.get(production) ?? placeholderOf(production);
  }
  return placeholders;
}

function placeholderOf(name: string): string {
  return `stand-in-${name.replace(/_/g, '-')}`;
}

/**
 * Placeholder URLs by variable name, for the URLs the monitoring setup checks on the machines: each line of
 * `secrets/expected` (variable, kind, host, port, scheme) and each `error-monitoring <environment> <hosts>` command.
 * The variable is the one whose value the bundle writes into the secret file the setup reads.
 */
function declaredUrls(stackJson: any): ReadonlyMap<string, string> {
  // Keyed by the stack's JSON text, not the object: a caller may change the object between calls (a new synth in place).
  const key = createHash('sha256').update(JSON.stringify(stackJson ?? null)).digest('hex');
  const known = DECLARED_URLS.get(key);
  if (known) {
    // Most recently used last, so the oldest entry is the one dropped.
    DECLARED_URLS.delete(key);
    DECLARED_URLS.set(key, known);
    return known;
  }
  const urls = decodeDeclaredUrls(stackJson);
  DECLARED_URLS.set(key, urls);
  if (DECLARED_URLS.size > DECLARED_URLS_KEPT) DECLARED_URLS.delete(DECLARED_URLS.keys().next().value!);
  return urls;
}

/**
 * Decoded URLs by the sha256 of a stack's JSON: `StandInWorkspace.setConfiguration` asks once per workspace, and a
 * test deploys the same stack through several, so each stack's bundles are decoded (gunzip, JSON.parse) once.
 * A few stacks at a time are in use (an app's production and test, a day-2 change of one); the oldest is dropped.
 */
const DECLARED_URLS = new Map<string, ReadonlyMap<string, string>>();
const DECLARED_URLS_KEPT = 8;

function decodeDeclaredUrls(stackJson: any): ReadonlyMap<string, string> {
  const urls = new Map<string, string>();
  for (const bundle of synthesizedBundles(stackJson)) {
    const variableOf = (secret: string) => /\bvar\.(\w+)/.exec(templateOf(bundle.files.get(`${SECRETS}/${secret}.b64`)))?.[1] ?? secret;
    for (const line of (bundle.files.get(`${SECRETS}/expected`)?.content ?? '').split('\n').filter(Boolean)) {
      const [secret, kind, host, port = '443', scheme = 'https'] = line.split(/\s+/);
      if (kind !== 'url') continue;
      const defaultPort = ({ https: '443', http: '80' } as Record<string, string>)[scheme];
      const variable = variableOf(secret);
      urls.set(variable, `${scheme}://${host}${port === defaultPort ? '' : `:${port}`}/${placeholderOf(variable)}`);
    }
    for (const command of bundle.parts.flatMap((part) => part.commands)) {
      if (!Array.isArray(command) || command[0] !== SETUP || command[1] !== 'error-monitoring') continue;
      // A DSN's key is its user part; the setup checks its host is one of the declared ones, and https.
      urls.set(variableOf(ERROR_MONITORING_DSN_VARIABLE), `https://${placeholderOf('error-monitoring-key')}@${String(command[3]).split(',')[0]}/1`);
    }
  }
  return urls;
}

function templateOf(file: SynthesizedBundleFile | undefined): string {
  return file?.template ?? file?.content ?? '';
}
