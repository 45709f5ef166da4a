import { DataClass } from '../core/data-class';
import { ValidationError } from '../core/validation-message';
import { Processor } from './processor';

/** The form in which data of a class may leave the EU control plane. */
export enum EgressForm {
  /** As stored. */
  RAW = 'raw',
  /** Only after pseudonymization or scrubbing inside the control plane. */
  PSEUDONYMIZED = 'pseudonymized',
}

/** The team's role under the EU AI Act; a team can be both. */
export enum AiActRole {
  /** Develops an AI system or model and places it on the market under its own name. */
  PROVIDER = 'provider',
  /** Uses an AI system under its authority, such as calling a model API in its product. */
  DEPLOYER = 'deployer',
}

/** Permission for one data class to leave to some processors, in one form. */
export interface EgressAllowance {
  readonly dataClass: DataClass;
  readonly to: Processor[];
  readonly form: EgressForm;
}

export interface BoundaryPolicyProps {
  /** The team's declared AI Act role(s). */
  readonly aiActRoles: AiActRole[];
  /** What may leave, to whom, in what form. A class without an allowance never leaves. */
  readonly egress: EgressAllowance[];
  /**
   * Further hostnames machines holding sensitive data may reach over HTTP(S), such as a
   * private package registry. Debian's mirrors are always allowed.
   * @default - none
   */
  readonly extraEgressHostnames?: string[];
}

/** The hostnames every machine needs: Debian's package mirrors. */
export const PACKAGE_MIRROR_HOSTNAMES: readonly string[] = ['deb.debian.org', 'security.debian.org'];

/**
 * The data boundary as a policy object: for each data class, what may leave the EU control
 * plane, to which EU processor, and in what form. Everything not allowed never leaves.
 *
 * The policy checks itself when built: processors need an EU legal seat, secrets never leave,
 * sensitive data never leaves raw, and a class may not go where a less sensitive one may not.
 */
export class BoundaryPolicy {
  public readonly aiActRoles: readonly AiActRole[];
  public readonly allowances: readonly EgressAllowance[];
  public readonly extraEgressHostnames: readonly string[];

  constructor(props: BoundaryPolicyProps) {
    this.aiActRoles = [...new Set(props.aiActRoles ?? [])];
    this.allowances = props.egress ?? [];
    this.extraEgressHostnames = props.extraEgressHostnames ?? [];
    const problem = this.firstProblem();
    if (problem) throw new ValidationError(problem);
  }

  /** Every processor named in the policy. */
  public get processors(): Processor[] {
    return [...new Set(this.allowances.flatMap((a) => a.to))];
  }

  /** The form in which `dataClass` may go to `processor`, or `undefined` if it may not. */
  public formFor(dataClass: DataClass, processor: Processor): EgressForm | undefined {
    return this.allowances.find((a) => a.dataClass === dataClass && a.to.includes(processor))?.form;
  }

  /** Whether data of `dataClass`, in `form`, may go to `processor`. */
  public allows(dataClass: DataClass, processor: Processor, form: EgressForm): boolean {
    const allowed = this.formFor(dataClass, processor);
    return allowed === EgressForm.RAW || (allowed !== undefined && allowed === form);
  }

  /** Whether any data of `dataClass` may leave at all. */
  public mayLeave(dataClass: DataClass): boolean {
    return this.allowances.some((a) => a.dataClass === dataClass && a.to.length > 0);
  }

  private firstProblem(): string | undefined {
    const fail = (prop: string, value: unknown, why: string, fix: string) =>
      `BoundaryPolicy.${prop}: ${typeof value === 'string' ? `'${value}'` : JSON.stringify(value)} is not allowed: ${why}. Fix: ${fix}`;
    if (this.aiActRoles.length === 0) {
      return fail('aiActRoles', [], 'the AI Act distinguishes providers and deployers, and the policy must say which the team is', 'declare aiActRoles: [AiActRole.DEPLOYER] (and/or AiActRole.PROVIDER)');
    }
    for (const role of this.aiActRoles) {
      if (!Object.values(AiActRole).includes(role)) return fail('aiActRoles', role, 'it is not an AI Act role', 'use AiActRole.PROVIDER or AiActRole.DEPLOYER');
    }
    for (const allowance of this.allowances) {
      if (!DataClass.all().includes(allowance.dataClass)) {
        return fail('egress', String((allowance.dataClass as unknown as { name?: string })?.name ?? allowance.dataClass), 'it is not a data class',
          `use one of ${DataClass.all().map((c) => `DataClass.${c.name.toUpperCase()}`).join(', ')}`);
      }
      if (!Object.values(EgressForm).includes(allowance.form)) return fail('egress', allowance.form, 'it is not an egress form', 'use EgressForm.RAW or EgressForm.PSEUDONYMIZED');
      for (const processor of allowance.to) {
        if (!processor.legalSeat?.country || !processor.legalSeat.city) {
          return fail('egress', processor.name, 'a processor needs a legal seat (city and country) to be judged', "give it legalSeat: { city: 'Paris', country: 'FR' }");
        }
        if (!processor.inEu) {
          return fail('egress', `${processor.name} (${processor.legalSeat.city}, ${processor.legalSeat.country})`,
            `${allowance.dataClass.name} data may only go to processors with an EU legal seat`, 'choose an EU processor, or keep the data inside the control plane');
        }
        if (processor.hostnames.length === 0) {
          return fail('egress', processor.name, 'a processor needs the API hostnames workloads call, so egress can be limited to them', "list them, such as hostnames: ['api.mistral.ai']");
        }
      }
      if (allowance.dataClass === DataClass.SECRET) {
        return fail('egress', `secret → ${allowance.to.join(', ')} (${allowance.form})`, 'the policy contradicts itself: secrets, tokens and identity data never leave the control plane', 'remove the allowance for DataClass.SECRET');
      }
      if (allowance.dataClass === DataClass.SENSITIVE && allowance.form === EgressForm.RAW) {
        return fail('egress', `sensitive → ${allowance.to.join(', ')} (raw)`, 'the policy contradicts itself: sensitive data never leaves raw', 'pseudonymize it inside the control plane first (EgressForm.PSEUDONYMIZED), or keep it in');
      }
    }
    for (const a of this.allowances) {
      for (const b of this.allowances) {
        for (const processor of a.to) {
          if (a !== b && a.dataClass === b.dataClass && b.to.includes(processor) && a.form !== b.form) {
            return fail('egress', `${a.dataClass.name} → ${processor.name}`, `the policy contradicts itself: it allows both ${a.form} and ${b.form}`, 'keep one allowance per class and processor');
          }
        }
      }
    }
    // Monotonic: what a stricter class may reach, a looser class may reach too.
    for (const a of this.allowances) {
      for (const processor of a.to) {
        const looser = DataClass.all().filter((c) => c.strictness < a.dataClass.strictness);
        const blocked = looser.find((c) => this.formFor(c, processor) === undefined);
        if (blocked) {
          return fail('egress', `${a.dataClass.name} → ${processor.name}`,
            `the policy contradicts itself: ${a.dataClass.name} data may go to ${processor.name}, but less sensitive ${blocked.name} data may not`,
            `allow ${blocked.name} data to ${processor.name} too, or remove this allowance`);
        }
      }
    }
    return undefined;
  }
}
