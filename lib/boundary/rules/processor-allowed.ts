import { EgressForm } from '../boundary-policy';
import { allowlistFor } from '../private/egress-declarations';
import { BoundaryRule, Finding, RuleContext } from './rule';
import { unnarrowedModelProviderFindings } from './unnarrowed-model-provider';

export const processorAllowed: BoundaryRule = {
  id: 'Boundary-ProcessorAllowed',
  level: 'error',
  cause: 'A workload sends a data class to a processor, or in a form, that the policy does not allow; or a machine\'s host allowlist lets through a processor or extra host of another policy than the one the stack is checked against; or a machine without a host allowlist (declared to hold no sensitive data) is set up to reach a model provider the policy does not name: its user data, bundle files or declared destinations name the provider\'s API.',
  explanation: 'External EU providers are used only for the classes the boundary permits, in the permitted form; everything else never leaves.',
  enforcedAt: 'synth (declared flows, the policy each host allowlist was built from, and the model providers named in what a machine without an allowlist runs); on the host, the egress allowlist only lets allowed processors\' hostnames through',
  evaluate: (context) => [...flowFindings(context), ...allowlistFindings(context), ...unnarrowedModelProviderFindings(context)],
};

function flowFindings({ flows, policy }: RuleContext): Finding[] {
  return flows.flatMap((flow) => {
    if (policy.allows(flow.dataClass, flow.processor, flow.form)) return [];
    const allowed = policy.formFor(flow.dataClass, flow.processor);
    const why = allowed
      ? `the policy lets ${flow.dataClass.name} data go to ${flow.processor.name} only ${allowed}`
      : `the policy does not let ${flow.dataClass.name} data go to ${flow.processor.name}`;
    // The fix names what the policy does allow: the form, the processors for this class, or nowhere.
    const others = policy.allowances.filter((a) => a.dataClass === flow.dataClass).flatMap((a) => a.to.map((p) => p.name));
    const fix = allowed
      ? `send it ${allowed}${allowed === EgressForm.PSEUDONYMIZED ? ' (scrub it first)' : ''}`
      : others.length > 0
        ? `send it to ${[...new Set(others)].join(' or ')}, which the policy allows for ${flow.dataClass.name} data`
        : `keep ${flow.dataClass.name} data inside the control plane (the policy lets it go to no processor); once scrubbed, declare what leaves as DataClass.PSEUDONYMIZED`;
    return [{
      path: flow.path,
      message: `${flow.path}.dataFlow: '${flow.dataClass.name} → ${flow.processor.name} (${flow.form})' is not allowed: ${why}. Fix: ${fix}${others.length > 0 || allowed ? ',' : ';'} or change the policy deliberately`,
    }];
  });
}

/**
 * A host allowlist lets through every processor and extra host of the policy it was given. Built
 * from another policy than the stack's (a second policy, an experiment's), it opened processors this
 * policy never judged, while boundary.md's "What may leave" (this policy) did not name them.
 */
function allowlistFindings({ resources, policy, constructAt }: RuleContext): Finding[] {
  return resources.filter((r) => r.type === 'hcloud_server').flatMap((server): Finding[] => {
    const construct = constructAt?.(server.path);
    const allowlist = construct ? allowlistFor(construct) : undefined;
    if (!allowlist || allowlist.policy === policy) return [];
    const foreign = [
      ...allowlist.policy.processors.filter((p) => !policy.hasProcessor(p))
        .map((p) => `processor ${p.name} (${p.legalSeat?.city}, ${p.legalSeat?.country}): ${p.hostnames.join(', ')}`),
      ...allowlist.policy.extraEgressHostnames.filter((h) => !policy.extraEgressHostnames.some((o) => o.hostname === h.hostname)).map((h) => `extra host ${h.hostname}`),
    ];
    return foreign.map((what) => ({
      path: server.path,
      message: `${allowlist.path}.egressAllowlist.policy: '${what}' is not allowed: the machine's host allowlist was built from another BoundaryPolicy than the one this stack is checked against, which does not name it, `
        + 'so the machine could reach it while boundary.md does not list it under what may leave. Fix: pass the same policy to EgressAllowlist.apply and BoundaryChecks (product.boundary), or add it to that policy deliberately',
    }));
  });
}
