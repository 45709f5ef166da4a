import { Construct, IConstruct } from 'constructs';
import { TerraformStack } from 'cdktf';
import { DataClass } from '../core/data-class';
import { fail, optionalString, propNames, refuseUnknownProps, requireEnum, requireInstance, requireProps } from '../core/runtime-checks';
import { EgressForm, requireCheckedProcessor } from './boundary-policy';
import { Processor } from './processor';

/** A workload sending data of one class to an external processor. */
export interface DataFlowProps {
  /** Who receives the data. */
  readonly processor: Processor;
  /** The data class that leaves. */
  readonly dataClass: DataClass;
  /** The form it leaves in. */
  readonly form: EgressForm;
  /**
   * What the flow is for, for the boundary document.
   * @default - not stated
   */
  readonly purpose?: string;
}

/** A declared data flow and the construct that declared it. */
export interface DeclaredDataFlow extends DataFlowProps {
  /** The construct path of the workload that declared it. */
  readonly path: string;
}

const flows = new WeakMap<IConstruct, DataFlowProps[]>();

/**
 * Data flows out of the control plane, declared on the workload that makes them. The
 * boundary checks compare each with the policy, and the egress allowlist of the machine is
 * built from the processors' hostnames.
 */
export class DataFlow {
  /** Declares a flow on the workload (a machine or a construct on it) that makes it; the boundary checks hold it against the policy. */
  public static declare(scope: IConstruct, flow: DataFlowProps): void {
    if (!Construct.isConstruct(scope)) fail('DataFlow.declare', 'scope', scope, 'a flow is declared on the construct (machine, stack) that makes it', 'pass the workload construct, such as the app machine');
    const checked = DataFlow.checked(`${scope.node.path}.dataFlow`, flow);
    // The rules and boundary.md read the flows of each stack: one declared above every stack was neither checked nor published.
    if (!scope.node.scopes.some((c) => TerraformStack.isStack(c))) {
      const where = scope.node.path || 'App';
      fail(where, 'dataFlow', `${checked.dataClass.name} → ${checked.processor.name} (${checked.form})`,
        `${where === 'App' ? 'the App' : `'${where}'`} is above every stack, and each stack's boundary checks and boundary.md read only the flows declared in it, so this one would be neither checked nor published`,
        'declare it on the machine or construct that sends the data, inside its stack');
    }
    flows.set(scope, [...(flows.get(scope) ?? []), checked]);
  }

  /** A flow checked at runtime (a JavaScript or JSON user gets the path, the value and the fix). */
  public static checked(at: string, flow: unknown): DataFlowProps {
    requireProps(at, flow, '{ processor: Processor.mistralAi(), dataClass: DataClass.PSEUDONYMIZED, form: EgressForm.PSEUDONYMIZED }');
    refuseUnknownProps(at, undefined, flow, propNames<DataFlowProps>({ processor: true, dataClass: true, form: true, purpose: true }));
    const f = flow as DataFlowProps;
    return {
      processor: requireCheckedProcessor(at, 'processor', requireInstance(at, 'processor', f.processor, Processor, 'use a Processor, such as Processor.mistralAi()', 'a Processor')),
      dataClass: requireInstance(at, 'dataClass', f.dataClass, DataClass, 'use DataClass.PUBLIC, PSEUDONYMIZED, SENSITIVE or SECRET', 'a DataClass'),
      form: requireEnum(at, 'form', f.form, EgressForm as unknown as Record<string, EgressForm>, 'EgressForm'),
      ...(f.purpose !== undefined ? { purpose: optionalString(at, 'purpose', f.purpose, 'say what the flow is for, as text') } : {}),
    };
  }

  /** The flows declared on `scope` and everything below it. */
  public static declaredIn(scope: IConstruct): DeclaredDataFlow[] {
    return scope.node.findAll().flatMap((c) => (flows.get(c) ?? []).map((f) => ({ ...f, path: c.node.path })));
  }
}
