import { EgressForm } from '../boundary/boundary-policy';
import { BoundaryRule } from '../boundary/rules/rule';
import { DataClass } from '../core/data-class';
import { errorMonitoringIn } from './private/declarations';

export const ERROR_MONITORING_ENDPOINT_RULE_ID = 'Boundary-ErrorMonitoringEndpoint';

/**
 * Error events carry user data, so their endpoint is judged like any processor: declared in the
 * policy, seated in the EU, and allowed scrubbed (pseudonymized) data. Sentry's EU data region does
 * not pass on its own: the company is seated in the US.
 */
export const errorMonitoringEndpoint: BoundaryRule = {
  id: ERROR_MONITORING_ENDPOINT_RULE_ID,
  level: 'error',
  cause: 'Applications report errors to an endpoint whose processor is seated outside the EU, is not declared in the policy, or may not receive pseudonymized data.',
  explanation: 'Error events carry user data (URLs, user IDs, variables in stack frames): the endpoint is a processor like any other. A self-hosted GlitchTip keeps them inside the control plane; a hosted service needs an EU legal seat. Sentry\'s EU data region stores events in Frankfurt, but its company is seated in the US.',
  enforcedAt: 'synth (Aspect over the whole app); on the host, the egress allowlist lets only the endpoint\'s hosts through',
  evaluate: ({ stack, policy }) => errorMonitoringIn(stack).flatMap(({ path, endpoint }) => {
    const processor = endpoint.processor;
    const seat = processor.legalSeat ? `${processor.legalSeat.city}, ${processor.legalSeat.country}` : 'no legal seat';
    const at = `${path}.endpoint`;
    if (!processor.inEu) {
      return [{
        path,
        message: `${at}: '${processor.name} (${seat})' is not allowed: error events carry user data, and the processor is seated outside the EU, so its law reaches the events even when they are stored in the EU. `
          + 'Fix: self-host GlitchTip inside the control plane (ErrorMonitoringEndpoint.selfHosted), use an EU-seated provider (ErrorMonitoringEndpoint.hosted), '
          + 'or accept the seat with a reason (ErrorMonitoringEndpoint.sentryEuRegion({ ingestHostname, usSeatAccepted: \'…\' }))',
      }];
    }
    if (!policy.hasProcessor(processor)) {
      return [{
        path,
        message: `${at}: '${processor.name} (${seat})' is not allowed: the endpoint is not declared in the boundary policy, so the published boundary does not say that error events go there. `
          + 'Fix: add { dataClass: DataClass.PUBLIC, to: [processor], form: EgressForm.RAW } and { dataClass: DataClass.PSEUDONYMIZED, to: [processor], form: EgressForm.PSEUDONYMIZED } to the policy\'s egress',
      }];
    }
    if (!policy.allows(DataClass.PSEUDONYMIZED, processor, EgressForm.PSEUDONYMIZED)) {
      return [{
        path,
        message: `${at}: '${processor.name} (${seat})' is not allowed: the policy does not let pseudonymized (scrubbed) data go to it, and error events are at least that. `
          + 'Fix: allow { dataClass: DataClass.PSEUDONYMIZED, to: [processor], form: EgressForm.PSEUDONYMIZED } in the policy, or use another endpoint',
      }];
    }
    return [];
  }),
};
