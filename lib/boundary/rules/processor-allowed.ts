import { EgressForm } from '../boundary-policy';
import { BoundaryRule } from './rule';

export const processorAllowed: BoundaryRule = {
  id: 'Boundary-ProcessorAllowed',
  level: 'error',
  cause: 'A workload sends a data class to a processor, or in a form, that the policy does not allow.',
  explanation: 'External EU providers are used only for the classes the boundary permits, in the permitted form; everything else never leaves.',
  enforcedAt: 'synth (declared flows); on the host, the egress allowlist only lets allowed processors\' hostnames through',
  evaluate: ({ flows, policy }) => flows.flatMap((flow) => {
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
  }),
};
