import { IConstruct } from 'constructs';
import { DataClass } from '../core/data-class';
import { EgressForm } from './boundary-policy';
import { Processor } from './processor';

/** A workload sending data of one class to an external processor. */
export interface DataFlowProps {
  readonly processor: Processor;
  readonly dataClass: DataClass;
  readonly form: EgressForm;
  /**
   * What the flow is for, for the boundary document.
   * @default - not stated
   */
  readonly purpose?: string;
}

/** A declared data flow and the construct that declared it. */
export interface DeclaredDataFlow extends DataFlowProps {
  readonly path: string;
}

const flows = new WeakMap<IConstruct, DataFlowProps[]>();

/**
 * Data flows out of the control plane, declared on the workload that makes them. The
 * boundary checks compare each with the policy, and the egress allowlist of the machine is
 * built from the processors' hostnames.
 */
export class DataFlow {
  public static declare(scope: IConstruct, flow: DataFlowProps): void {
    flows.set(scope, [...(flows.get(scope) ?? []), flow]);
  }

  /** The flows declared on `scope` and everything below it. */
  public static declaredIn(scope: IConstruct): DeclaredDataFlow[] {
    return scope.node.findAll().flatMap((c) => (flows.get(c) ?? []).map((f) => ({ ...f, path: c.node.path })));
  }
}
