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
    return [{
      path: flow.path,
      message: `${flow.path}.dataFlow: '${flow.dataClass.name} → ${flow.processor.name} (${flow.form})' is not allowed: ${why}. Fix: send only what the policy allows (pseudonymize first, or use an allowed processor), or change the policy deliberately`,
    }];
  }),
};
