import type { IMachine } from '../../hetzner/machine';

/**
 * Bundle parts a construct of the library wrote whose every outside host it declared on the machine as a destination
 * (`EgressAllowlist.requireHostnames`, `requireProbeTargets`): the monitoring's Prometheus and blackbox configuration,
 * which carry each uptime check's URL. Synth judges those hosts where they were declared (a probe is trusted to send
 * nothing), so the model-provider check of a machine without an allowlist does not read them again in the part's text.
 */
const parts = new WeakMap<IMachine, Set<string>>();

/** Records that the part `name`, just added to `machine`'s bundle, names no outside host the construct did not declare. */
export function recordDeclaredHostPart(machine: IMachine, name: string): void {
  parts.set(machine, new Set([...(parts.get(machine) ?? []), name]));
}

/** Whether `machine`'s bundle part `name` names only hosts declared as the machine's destinations. */
export function namesOnlyDeclaredHosts(machine: IMachine, name: string): boolean {
  return parts.get(machine)?.has(name) ?? false;
}
