import { errorMonitoringEndpoint } from '../../monitoring/error-monitoring-rule';
import { adminSshOnly } from './admin-ssh-only';
import { euPlacement } from './eu-placement';
import { euStateBackend } from './eu-state-backend';
import { noPlaintextSecret } from './no-plaintext-secret';
import { noPublicDataStore } from './no-public-data-store';
import { portToEveryHost } from './port-to-every-host';
import { processorAllowed } from './processor-allowed';
import { restrictedEgress } from './restricted-egress';
import { BoundaryRule } from './rule';
import { secretViaVariable } from './secret-via-variable';
import { sensitiveOutput } from './sensitive-output';
import { uncheckedSender } from './unchecked-sender';

/**
 * The boundary rule pack, in the order findings are reported. Frozen, the list and each rule: it is the default of every
 * BoundaryChecks, and from JavaScript `BOUNDARY_RULES.splice(0)` (or a rule's `evaluate` replaced) silently left every
 * stack of the process checked by no rule, though it still passed as checked.
 */
export const BOUNDARY_RULES: readonly BoundaryRule[] = Object.freeze([
  euPlacement, processorAllowed, noPlaintextSecret, sensitiveOutput, secretViaVariable,
  noPublicDataStore, adminSshOnly, euStateBackend, restrictedEgress, portToEveryHost, uncheckedSender, errorMonitoringEndpoint,
].map((rule) => Object.freeze(rule)));

export type { BoundaryRule, Finding, RuleContext, SynthesizedResource } from './rule';
